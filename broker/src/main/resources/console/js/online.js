// Online Licenses (seed 003): the machines using a license now. On a session product, its live
// sessions; on a seat product, its activations (node-locked bindings, live floating leases).
// Terminate ends one: its next renew answers SESSION_TERMINATED and its license is free again.

import {h, heading, renderIfChanged, showAlert, clearAlert, table, formatTime} from './dom.js';
import {all} from './api.js';
import {isSeatModel} from './seats.js';

export function mount(section, ctx) {
  const title = heading('online-title', 'Online Licenses');
  const alerts = h('div', {class: 'alerts'});
  const body = h('div', {class: 'table-wrap'});
  section.replaceChildren(title, alerts, body);

  const terminate = async (id) => {
    try {
      await ctx.call('TerminateSession', {session_id: id});
      clearAlert(alerts);
      await ctx.refresh();
      title.focus();
    } catch (e) {
      showAlert(alerts, e);
    }
  };

  const render = (items) => {
    const pools = new Map((ctx.state.usage?.rows || []).map((r) => [r.pool_id, r.name]));
    return table('Online licenses', ['Machine', 'User', 'Pool', 'Since', 'Lease ends', ''], items.map((it) => h('tr', {},
      h('td', {}, it.machine_id), h('td', {}, it.user_id), h('td', {}, pools.get(it.pool_id) || it.pool_id),
      h('td', {}, formatTime(it.since)), h('td', {}, it.lease ? formatTime(it.lease) : 'bound to the machine'),
      h('td', {class: 'actions'},
        h('button', {type: 'button', class: 'danger', 'data-key': `terminate:${it.id}`, onclick: () => terminate(it.id)}, 'Terminate')))),
    'No machine uses a license right now.');
  };

  return {
    async refresh() {
      const {accountId, product} = ctx.state;
      let items;
      if (isSeatModel(ctx.state.usage?.license_model)) {
        items = (await all('ListActivations', {account_id: accountId, product}, 'activations')).map((a) => ({
          id: a.activation_id, machine_id: a.machine_id, user_id: a.user_id, pool_id: a.pool_id, since: a.activated_at,
          lease: a.lease_expires_at}));
      } else {
        items = (await all('ListSessions', {account_id: accountId, product}, 'sessions')).map((s) => ({
          id: s.session_id, machine_id: s.machine_id, user_id: s.user_id, pool_id: s.pool_id, since: s.started_at,
          lease: s.lease_expires_at}));
      }
      items.sort((a, b) => a.machine_id.localeCompare(b.machine_id) || a.user_id.localeCompare(b.user_id));
      renderIfChanged(body, items, render);
    },
    fail(error) {
      showAlert(alerts, error);
    },
  };
}

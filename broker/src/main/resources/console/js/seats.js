// Licensed Users (seed 003): the users granted a seat of a seat product; Grant License, and in
// each row Remove and Transfer. On a session product (KRE) a license is a live session instead:
// terminate the session to free it (Online Licenses).

import {h, heading, renderIfChanged, showAlert, clearAlert, table, formatTime, invalidate} from './dom.js';
import {openDialog, checkId} from './dialogs.js';
import {all} from './api.js';
import {treeOrder} from './pools.js';

export function isSeatModel(model) {
  return model === 'LICENSE_MODEL_NODE_LOCKED' || model === 'LICENSE_MODEL_FLOATING';
}

export function mount(section, ctx) {
  const title = heading('seats-title', 'Licensed Users');
  const grant = h('button', {type: 'button', 'data-key': 'grant'}, 'Grant License');
  const alerts = h('div', {class: 'alerts'});
  const body = h('div', {class: 'table-wrap'});
  section.replaceChildren(h('div', {class: 'region-head'}, title, grant), alerts, body);

  const poolOptions = () => [{value: '', text: "The user's organization"}].concat(
    treeOrder(ctx.state.usage?.rows || []).map(({row}) => ({value: row.pool_id, text: row.name})));
  const done = async () => {
    clearAlert(alerts);
    await ctx.refresh();
  };

  grant.addEventListener('click', () => openDialog({
    title: 'Grant License',
    intro: [h('p', {}, `Gives the user one ${ctx.state.product} seat, drawn from the pool chosen. Seats never fall back to another pool.`)],
    fields: [
      {name: 'user', label: 'User', type: 'text', check: checkId('user id')},
      {name: 'pool', label: 'Pool', type: 'select', options: poolOptions()},
    ],
    submit: 'Grant',
    onSubmit: async (v) => {
      await ctx.call('GrantLicense', {account_id: ctx.state.accountId, product: ctx.state.product, user_id: v.user, pool_id: v.pool});
      await done();
    },
    opener: grant,
  }));

  const remove = async (seat) => {
    try {
      await ctx.call('RemoveLicense', {account_id: ctx.state.accountId, product: ctx.state.product, user_id: seat.user_id});
      await done();
      title.focus();
    } catch (e) {
      showAlert(alerts, e);
    }
  };

  const transfer = (seat, opener) => openDialog({
    title: 'Transfer License',
    intro: [h('p', {}, `Moves the ${ctx.state.product} seat of ${seat.user_id} to another user in one step; ${seat.user_id}'s activations end.`)],
    fields: [
      {name: 'to', label: 'To user', type: 'text', check: checkId('user id')},
      {name: 'pool', label: 'Pool', type: 'select', options: [{value: '', text: 'Where it is now'}].concat(poolOptions().slice(1))},
    ],
    submit: 'Transfer',
    onSubmit: async (v) => {
      await ctx.call('TransferLicense', {account_id: ctx.state.accountId, product: ctx.state.product, from_user_id: seat.user_id,
        to_user_id: v.to, pool_id: v.pool});
      await done();
    },
    opener, fallback: title,
  });

  const names = () => new Map((ctx.state.usage?.rows || []).map((r) => [r.pool_id, r.name]));
  const render = (seats) => {
    const pools = names();
    return table('Licensed users', ['User', 'Pool', 'Machine', 'Granted', 'Offline until', ''], seats.map((seat) => h('tr', {},
      h('td', {}, seat.user_id), h('td', {}, pools.get(seat.pool_id) || seat.pool_id), h('td', {}, seat.machine_id || '—'),
      h('td', {}, formatTime(seat.granted_at)), h('td', {}, seat.offline_until ? formatTime(seat.offline_until) : '—'),
      h('td', {class: 'actions'},
        h('button', {type: 'button', 'data-key': `transfer:${seat.user_id}`, onclick: (e) => transfer(seat, e.currentTarget)}, 'Transfer'),
        h('button', {type: 'button', class: 'danger', 'data-key': `remove:${seat.user_id}`, onclick: () => remove(seat)}, 'Remove')))),
    'No licensed users yet: Grant License gives a user a seat.');
  };

  return {
    async refresh() {
      if (!isSeatModel(ctx.state.usage?.license_model)) {
        grant.hidden = true;
        invalidate(body);
        body.replaceChildren(h('p', {class: 'muted'}, `${ctx.state.product} licenses are sessions: every user with an API key may `
          + 'draw one, as the usage policy allows. To free one for another user, terminate the session using it (Online Licenses).'));
        return;
      }
      grant.hidden = false;
      const seats = await all('ListLicensedUsers', {account_id: ctx.state.accountId, product: ctx.state.product}, 'licensed_users');
      renderIfChanged(body, seats, render);
    },
    fail(error) {
      showAlert(alerts, error);
    },
  };
}

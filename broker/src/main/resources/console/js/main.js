// The License Management page: sign-in, the account and product pickers, the regions, and a
// short poll (every POLL_MS) that keeps every visible figure current, so changes made elsewhere
// (the command line, another node, an agent) show without a reload.

import * as api from './api.js';
import {h, showAlert, clearAlert, invalidate} from './dom.js';
import * as pools from './pools.js';
import * as policy from './policy.js';
import * as subscription from './subscription.js';
import * as seats from './seats.js';
import * as online from './online.js';
import * as machines from './machines.js';
import * as chart from './chart.js';

const POLL_MS = 2000;
const ROLES = {
  ADMIN_ROLE_SUPER_ADMIN: 'Super admin',
  ADMIN_ROLE_ACCOUNT_ADMIN: 'Account admin',
  ADMIN_ROLE_ORGANIZATION_ADMIN: 'Organization admin',
};
const $ = (id) => document.getElementById(id);

const state = {who: null, accountId: '', product: 'KRE', usage: null};
let regions = null;
let timer = null;
let running = null;
let again = false;

const ctx = {state, call: api.call, refresh: () => refreshNow()};

/** Options of a select from [value, text] pairs, redrawn only when they change; keeps the choice when it is still offered. */
function syncOptions(select, pairs, preferred) {
  const wanted = JSON.stringify(pairs);
  if (select.dataset.options !== wanted) {
    select.replaceChildren(...pairs.map(([value, text]) => h('option', {value}, text)));
    select.dataset.options = wanted;
  }
  const values = pairs.map(([value]) => value);
  select.value = values.includes(preferred) ? preferred : (values[0] ?? '');
  return select.value;
}

function mountRegions() {
  const organizationAdmin = state.who.role === 'ADMIN_ROLE_ORGANIZATION_ADMIN';
  // What an organization admin may not read (the policy, machines, offline licenses) is not offered.
  for (const id of ['policy', 'machines', 'offline']) $(id).hidden = organizationAdmin;
  regions = {
    pools: pools.mount($('pools'), ctx),
    subscription: subscription.mount($('subscription'), ctx),
    policy: organizationAdmin ? null : policy.mount($('policy'), ctx),
    seats: seats.mount($('seats'), ctx),
    online: online.mount($('online'), ctx),
    machines: organizationAdmin ? null : machines.mountMachines($('machines'), ctx),
    offline: organizationAdmin ? null : machines.mountOffline($('offline'), ctx),
    chart: chart.mount($('utilization'), ctx),
  };
}

async function loadMachines() {
  const answer = await api.call('ListMachines', {account_id: state.accountId, product: state.product});
  const list = (answer.machines || []).sort((a, b) => a.machine_id.localeCompare(b.machine_id));
  regions.machines.update(list);
  regions.offline.update(list);
}

async function tick() {
  const pageAlerts = $('page-alerts');
  try {
    if (state.who.role === 'ADMIN_ROLE_SUPER_ADMIN') {
      const accounts = (await api.call('ListAccounts', {})).accounts || [];
      state.accountId = syncOptions($('account'), accounts.map((a) => [a.account_id, `${a.name} (${a.account_id})`]), state.accountId);
      if (!state.accountId) {
        $('status').textContent = 'No account yet: create one (accounts create), then pick it here.';
        return;
      }
    }
    const products = (await api.call('ListProducts', {account_id: state.accountId})).products || ['KRE'];
    if (!regions) return;
    state.product = syncOptions($('product'), products.map((p) => [p, p]), state.product);
    state.usage = await api.call('GetLicenseUsage', {account_id: state.accountId, product: state.product});
    if (!regions) return; // signed out meanwhile
    regions.pools.update(state.usage);
    regions.subscription.update(state.usage);
    const loads = [['policy', () => regions.policy.refresh()], ['seats', () => regions.seats.refresh()],
      ['online', () => regions.online.refresh()], ['machines', loadMachines], ['chart', () => regions.chart.refresh()]]
      .filter(([name]) => regions[name]);
    const results = await Promise.allSettled(loads.map(([, load]) => load()));
    if (!regions) return;
    results.forEach((r, i) => {
      if (r.status === 'rejected') regions[loads[i][0]].fail(r.reason);
    });
    clearAlert(pageAlerts);
    $('status').textContent = `Updated ${new Date().toLocaleTimeString()}`;
  } catch (e) {
    if (!regions) return;
    if (e.code === 'UNAUTHENTICATED') {
      signOut(e);
      return;
    }
    showAlert(pageAlerts, e);
  }
}

/** Runs a refresh now (after one in progress, if any), then keeps polling. */
function refreshNow() {
  if (running) {
    again = true;
    return running;
  }
  clearTimeout(timer);
  running = (async () => {
    do {
      again = false;
      await tick();
    } while (again && api.signedIn());
  })().finally(() => {
    running = null;
    if (api.signedIn()) timer = setTimeout(refreshNow, POLL_MS);
  });
  return running;
}

async function signIn(event) {
  event.preventDefault();
  const alerts = $('sign-in-alerts');
  const token = $('token').value.trim();
  clearAlert(alerts);
  if (!token) {
    showAlert(alerts, 'Enter an admin token.');
    $('token').focus();
    return;
  }
  api.signIn(token);
  try {
    state.who = await api.call('WhoAmI', {});
  } catch (e) {
    api.signOut();
    showAlert(alerts, e);
    $('token').focus();
    return;
  }
  $('token').value = '';
  state.accountId = state.who.account_id || '';
  const org = state.who.org_id ? ` · ${state.who.org_id}` : '';
  $('who-text').textContent = `${ROLES[state.who.role] || state.who.role}${state.who.account_id ? ` · ${state.who.account_id}` : ''}${org}`;
  $('account-picker').hidden = state.who.role !== 'ADMIN_ROLE_SUPER_ADMIN';
  $('sign-in').hidden = true;
  $('who').hidden = false;
  $('console').hidden = false;
  mountRegions();
  $('page-title').focus();
  await refreshNow();
}

function signOut(reason) {
  api.signOut();
  clearTimeout(timer);
  document.querySelectorAll('dialog').forEach((d) => d.remove());
  state.who = null;
  state.usage = null;
  regions = null;
  for (const section of document.querySelectorAll('#console section')) {
    section.replaceChildren();
    invalidate(section);
  }
  for (const select of [$('account'), $('product')]) {
    select.replaceChildren();
    delete select.dataset.options;
  }
  clearAlert($('page-alerts'));
  $('console').hidden = true;
  $('who').hidden = true;
  $('sign-in').hidden = false;
  if (reason) showAlert($('sign-in-alerts'), reason);
  $('token').focus();
}

$('sign-in-form').addEventListener('submit', signIn);
$('sign-out').addEventListener('click', () => signOut());
$('account').addEventListener('change', () => {
  state.accountId = $('account').value;
  refreshNow();
});
$('product').addEventListener('change', () => {
  state.product = $('product').value;
  refreshNow();
});
$('token').focus();

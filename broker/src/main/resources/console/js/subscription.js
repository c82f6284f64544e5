// Subscription Details (seed 003): Subscribed Licenses, Available Licenses (the quota less the
// licenses in use online and the offline licenses: what the pools' Available add up to),
// Machine Quota and Expiry Date, from the same snapshot as the pool table.

import {h, heading, renderIfChanged, formatDate} from './dom.js';

const MODELS = {
  LICENSE_MODEL_SESSION: 'Session (one license per live session)',
  LICENSE_MODEL_NODE_LOCKED: 'Node-locked seats',
  LICENSE_MODEL_FLOATING: 'Floating seats',
};

export function mount(section) {
  const body = h('div');
  section.replaceChildren(heading('subscription-title', 'Subscription Details'), body);
  const render = (u) => {
    const available = (u.rows || []).reduce((sum, r) => sum + Number(r.available), 0);
    const item = (term, value, key) => [h('dt', {}, term), h('dd', {'data-term': key}, value)];
    return h('dl', {class: 'details'},
      item('Subscribed Licenses', u.licenses, 'subscribed'),
      item('Available Licenses', available, 'available'),
      item('Machine Quota', `${u.machine_quota} (${u.registered_machines} registered)`, 'machine-quota'),
      item('Offline Licenses', u.offline_licenses, 'offline'),
      item('Expiry Date', u.expires_at ? formatDate(u.expires_at) : 'no subscription', 'expiry'),
      item('License Model', MODELS[u.license_model] || MODELS.LICENSE_MODEL_SESSION, 'model'));
  };
  return {
    update(usage) {
      if (usage) renderIfChanged(body, usage, render);
    },
  };
}

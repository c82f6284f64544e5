// The License Usage Policy panel (seed 001): the policy, "Allow fallback to Account pool" and
// "Restore Default". Each change is sent at once; the broker applies it to the very next request.

import {h, heading, showAlert, clearAlert} from './dom.js';

const POLICIES = [
  ['USAGE_POLICY_UNRESTRICTED', 'Unrestricted', 'Any eligible license pool (Account/Organization) with available dedicated licenses.'],
  ['USAGE_POLICY_MEMBER_BASED', 'Member-based', "The user's assigned Organization, and any Organization where the user is a member of at least one project."],
  ['USAGE_POLICY_STRICT', 'Strict', "The user's assigned Organization only."],
];

export function mount(section, ctx) {
  const select = h('select', {id: 'policy-select'}, POLICIES.map(([value, text]) => h('option', {value}, text)));
  const fallback = h('input', {type: 'checkbox', id: 'policy-fallback'});
  const restore = h('button', {type: 'button', class: 'secondary'}, 'Restore Default');
  const explain = h('p', {class: 'muted', id: 'policy-explain'});
  const alerts = h('div', {class: 'alerts'});
  select.setAttribute('aria-describedby', 'policy-explain');
  section.replaceChildren(
    heading('policy-title', 'License Usage Policy'),
    h('p', {class: 'muted'}, 'Controls which pools session licenses (KRE) are drawn from; seat licenses are not affected.'),
    h('div', {class: 'field'}, h('label', {for: 'policy-select'}, 'Policy'), select),
    explain,
    h('div', {class: 'check'}, fallback, h('label', {for: 'policy-fallback'}, 'Allow fallback to Account pool')),
    h('div', {class: 'buttons'}, restore),
    alerts);
  let busy = false;

  const show = (settings) => {
    const policy = settings.policy && settings.policy !== 'USAGE_POLICY_UNSPECIFIED' ? settings.policy : 'USAGE_POLICY_UNRESTRICTED';
    if (select.value !== policy) select.value = policy;
    fallback.checked = settings.allow_fallback !== false;
    explain.textContent = POLICIES.find(([value]) => value === policy)[2]
      + (fallback.checked ? ' Then the Account pool.' : ' No fallback to the Account pool.');
  };

  const change = async (method, request) => {
    busy = true;
    try {
      show(await ctx.call(method, {account_id: ctx.state.accountId, ...request}));
      clearAlert(alerts);
    } catch (e) {
      showAlert(alerts, e);
      await load();
    } finally {
      busy = false;
    }
  };
  const load = async () => show(await ctx.call('GetUsagePolicy', {account_id: ctx.state.accountId}));

  select.addEventListener('change', () => change('SetUsagePolicy', {policy: select.value, allow_fallback: fallback.checked}));
  fallback.addEventListener('change', () => change('SetUsagePolicy', {policy: select.value, allow_fallback: fallback.checked}));
  restore.addEventListener('click', () => change('RestoreDefaultUsagePolicy', {}));

  return {
    async refresh() {
      if (!busy) await load();
    },
    fail(error) {
      showAlert(alerts, error);
    },
  };
}

// The license pool table (seeds 000-002): the account row first, sub-organizations under their
// parents, with Dedicated, Pool, Assigned and Available; Assign Dedicated Licenses, and Edit and
// Revoke in each organization's row. The broker checks every change; its refusal shows as an alert.

import {h, s, heading, renderIfChanged, showAlert, clearAlert} from './dom.js';
import {openDialog, confirmDialog, checkCount} from './dialogs.js';

const PEN = 'M2 11.5V14h2.5l7-7L9 4.5zM13.7 4.8a.7.7 0 000-1L12.2 2.3a.7.7 0 00-1 0L10 3.5 12.5 6z';
const ARROW = 'M7 3L2 8l5 5V9.5h7v-3H7z';

function icon(path) {
  return s('svg', {viewBox: '0 0 16 16', width: 14, height: 14, 'aria-hidden': 'true', focusable: 'false'}, s('path', {d: path}));
}

/** Rows in tree order (each organization right under its parent) with their depth. */
export function treeOrder(rows) {
  const ids = new Set(rows.map((r) => r.pool_id));
  const children = new Map();
  const roots = [];
  for (const r of rows) {
    if (r.parent_id && ids.has(r.parent_id)) {
      if (!children.has(r.parent_id)) children.set(r.parent_id, []);
      children.get(r.parent_id).push(r);
    } else {
      roots.push(r);
    }
  }
  const out = [];
  const walk = (row, depth) => {
    out.push({row, depth});
    (children.get(row.pool_id) || []).forEach((c) => walk(c, depth + 1));
  };
  roots.forEach((r) => walk(r, 0));
  return out;
}

export function mount(section, ctx) {
  const title = heading('pools-title', 'Dedicated Licenses');
  const assign = h('button', {type: 'button', 'data-key': 'assign'}, 'Assign Dedicated Licenses');
  const alerts = h('div', {class: 'alerts'});
  const body = h('div', {class: 'table-wrap'});
  section.replaceChildren(
    h('div', {class: 'region-head'}, title, assign),
    h('p', {class: 'muted'}, 'Dedicated: licenses explicitly assigned. Pool: what is left after allocation to sub-levels. ',
      'Assigned: licenses claimed at that level. Available: unclaimed licenses ready to be used.'),
    alerts, body);
  let rows = [];

  const setDedicated = async (orgId, licenses) => {
    await ctx.call('SetDedicatedLicenses', {org_id: orgId, product: ctx.state.product, licenses: Number(licenses)});
    clearAlert(alerts);
    await ctx.refresh();
  };

  assign.addEventListener('click', () => {
    const candidates = treeOrder(rows).filter(({row, depth}) => depth > 0 && Number(row.dedicated) === 0);
    openDialog({
      title: 'Assign Dedicated Licenses',
      intro: [h('p', {}, candidates.length
        ? 'Select an Organization or sub-Organization, enter the number of licenses to allocate, then click Assign.'
        : 'Every organization already has dedicated licenses: use Edit in its row to change them.')],
      fields: [
        {name: 'org', label: 'Organization', type: 'select', options: candidates.map(({row}) => ({value: row.pool_id, text: row.name})),
          check: (v) => v ? '' : 'Create the organization first: licenses go to existing organizations only.'},
        {name: 'licenses', label: 'Licenses', type: 'number', min: 1, check: checkCount(1)},
      ],
      submit: 'Assign',
      onSubmit: (v) => setDedicated(v.org, v.licenses),
      opener: assign,
    });
  });

  const edit = (row, opener) => openDialog({
    title: 'Edit Dedicated Licenses',
    intro: [h('p', {}, `${row.name}: ${row.dedicated} dedicated, ${row.in_use} in use. `,
      'You cannot reduce below the number in use; 0 revokes all of them, including those in use.')],
    fields: [{name: 'licenses', label: 'Licenses', type: 'number', min: 0, value: String(row.dedicated), check: checkCount(0)}],
    submit: 'Save',
    onSubmit: (v) => setDedicated(row.pool_id, v.licenses),
    opener, fallback: title,
  });

  const revoke = (row, opener) => confirmDialog({
    title: 'Revoke Dedicated Licenses',
    message: `Revoke all ${row.dedicated} dedicated licenses of ${row.name} and of its sub-organizations? `
      + 'Any claimed or in-use licenses will then be taken from the parent pool.',
    confirm: 'Revoke',
    onConfirm: async () => {
      await ctx.call('RevokeDedicatedLicenses', {org_id: row.pool_id, product: ctx.state.product});
      clearAlert(alerts);
      await ctx.refresh();
    },
    opener, fallback: title,
  });

  const render = (shown) => {
    const lines = treeOrder(shown).map(({row, depth}) => {
      const actions = depth === 0 ? [] : [
        h('button', {type: 'button', class: 'icon', 'data-key': `edit:${row.pool_id}`, title: `Edit ${row.name}`,
          onclick: (e) => edit(row, e.currentTarget)}, icon(PEN), 'Edit'),
        h('button', {type: 'button', class: 'icon', 'data-key': `revoke:${row.pool_id}`, title: `Revoke ${row.name}`,
          onclick: (e) => revoke(row, e.currentTarget)}, icon(ARROW), 'Revoke'),
      ];
      return h('tr', {'data-pool': row.pool_id},
        h('td', {class: `org depth-${Math.min(depth, 8)}`, title: row.pool_id}, row.name),
        h('td', {class: 'num'}, row.dedicated), h('td', {class: 'num'}, row.pool),
        h('td', {class: 'num'}, row.in_use), h('td', {class: 'num'}, row.available),
        h('td', {class: 'actions'}, actions));
    });
    return h('table', {'aria-label': 'License pools'},
      h('thead', {}, h('tr', {}, ['Organization', 'Dedicated', 'Pool', 'Assigned', 'Available'].map((t) => h('th', {scope: 'col'}, t)),
        h('td', {}))),
      h('tbody', {}, lines));
  };

  return {
    update(usage) {
      rows = usage ? usage.rows || [] : [];
      renderIfChanged(body, rows, render);
    },
    fail(error) {
      showAlert(alerts, error);
    },
  };
}

// Registered Machines (seed 003) and Offline Licenses: every machine registered against the
// machine quota, and those bound to an offline license. Deactivate unregisters one and ends its
// sessions; an offline license is issued for one machine and downloaded as its signed .lic file.

import {h, heading, renderIfChanged, showAlert, clearAlert, table, formatTime} from './dom.js';
import {openDialog, checkId} from './dialogs.js';
import {isSeatModel} from './seats.js';

/** Saves `bytes` (base64, as proto3 JSON has them) as a file named `name`. */
export function download(name, base64) {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const url = URL.createObjectURL(new Blob([bytes], {type: 'application/octet-stream'}));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

export function mountMachines(section, ctx) {
  const title = heading('machines-title', 'Registered Machines');
  const alerts = h('div', {class: 'alerts'});
  const body = h('div', {class: 'table-wrap'});
  section.replaceChildren(title, h('p', {class: 'muted'}, 'Machines registered with either kind of license; they count against the machine quota.'),
    alerts, body);

  const deactivate = async (machine) => {
    try {
      await ctx.call('DeactivateMachine', {account_id: ctx.state.accountId, product: ctx.state.product, machine_id: machine.machine_id});
      clearAlert(alerts);
      await ctx.refresh();
      title.focus();
    } catch (e) {
      showAlert(alerts, e);
    }
  };

  const render = (machines) => table('Registered machines', ['Machine', 'Registered', 'Live sessions', 'Offline until', ''],
    machines.map((m) => h('tr', {},
      h('td', {}, m.machine_id), h('td', {}, formatTime(m.registered_at)), h('td', {class: 'num'}, m.live_sessions),
      h('td', {}, m.offline_expires_at ? formatTime(m.offline_expires_at) : '—'),
      h('td', {class: 'actions'},
        h('button', {type: 'button', class: 'danger', 'data-key': `deactivate:${m.machine_id}`, onclick: () => deactivate(m)}, 'Deactivate')))),
    'No machine is registered.');

  return {
    update(machines) {
      renderIfChanged(body, machines, render);
    },
    fail(error) {
      showAlert(alerts, error);
    },
  };
}

export function mountOffline(section, ctx) {
  const title = heading('offline-title', 'Offline Licenses');
  const issue = h('button', {type: 'button', 'data-key': 'issue'}, 'Issue Offline License');
  const alerts = h('div', {class: 'alerts'});
  const last = h('p', {class: 'muted', 'aria-live': 'polite'});
  const body = h('div', {class: 'table-wrap'});
  section.replaceChildren(h('div', {class: 'region-head'}, title, issue),
    h('p', {class: 'muted'}, 'A signed license file bound to one machine until it expires (at most 60 days); it cannot be revoked.'),
    alerts, last, body);

  issue.addEventListener('click', () => {
    const seats = isSeatModel(ctx.state.usage?.license_model);
    const fields = [{name: 'machine', label: 'Machine ID', type: 'text', check: checkId('machine id')}];
    if (seats) fields.push({name: 'user', label: 'User', type: 'text', check: checkId('licensed user')});
    fields.push({name: 'expires', label: 'Expires on (optional)', type: 'date'});
    openDialog({
      title: 'Issue Offline License',
      intro: [h('p', {}, seats ? 'Binds the licensed user\'s seat to the machine until the file expires.'
        : 'Takes one license of the account until the file expires.')],
      fields,
      submit: 'Issue',
      onSubmit: async (v) => {
        const request = {account_id: ctx.state.accountId, product: ctx.state.product, machine_id: v.machine};
        if (v.user) request.user_id = v.user;
        if (v.expires) request.expires_at = `${v.expires}T23:59:59Z`;
        const issued = await ctx.call('IssueOfflineLicense', request);
        download(issued.file_name, issued.license_file);
        last.replaceChildren(`Issued ${issued.file_name}, valid until ${formatTime(issued.expires_at)}: `,
          h('a', {href: '#', 'data-key': 'again', onclick: (e) => {
            e.preventDefault();
            download(issued.file_name, issued.license_file);
          }}, `Download ${issued.file_name}`));
        clearAlert(alerts);
        await ctx.refresh();
      },
      opener: issue,
    });
  });

  const render = (machines) => table('Offline licenses', ['Machine', 'Expires'],
    machines.map((m) => h('tr', {}, h('td', {}, m.machine_id), h('td', {}, formatTime(m.offline_expires_at)))),
    'No offline license is live.');

  return {
    update(machines) {
      renderIfChanged(body, machines.filter((m) => m.offline_expires_at), render);
    },
    fail(error) {
      showAlert(alerts, error);
    },
  };
}

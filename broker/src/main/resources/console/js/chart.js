// License Utilization (seed 004's dashboard): per pool, the peak of licenses in use in each
// minute, hour or day, and the acquires denied, from GetUsageHistory (CONTRACT.md section 7):
//   {series: [{pool_id, points: [{start_time, peak_in_use, granted, denied, denied_by_reason}]}]}
// drawUtilization() draws any such answer, with its steps as a table too (screen readers cannot
// read bar heights); the region asks the broker for one at every poll and on every change of Step or Pool.

import {h, s, heading, showAlert, clearAlert, formatTime} from './dom.js';
import {treeOrder} from './pools.js';

export const STEPS = {
  minute: {label: 'Minute', seconds: 60, span: 60},
  hour: {label: 'Hour', seconds: 3600, span: 48},
  day: {label: 'Day', seconds: 86400, span: 30},
};
const WIDTH = 640;
const HEIGHT = 220;
const PAD = {left: 36, right: 12, top: 18, bottom: 28};

/** The time range of a step ending now: `span` whole steps, the last one still running. */
export function range(step, now = Date.now()) {
  const ms = STEPS[step].seconds * 1000;
  const end = Math.floor(now / ms) * ms + ms;
  return {start: end - STEPS[step].span * ms, end, ms};
}

/** A refusal reason as words: NO_LICENSE_AVAILABLE reads "no license available". */
function reasonText(reason) {
  return reason.toLowerCase().replaceAll('_', ' ');
}

/** The text alternative of the chart: one row per step, newest first (the step in progress is what people look for). */
function dataTable(points) {
  const rows = [...points].reverse().map((p) => {
    const iso = new Date(p.t).toISOString();
    const reasons = Object.entries(p.reasons).filter(([, n]) => Number(n) > 0).map(([r, n]) => `${reasonText(r)}: ${n}`);
    return h('tr', {},
      h('th', {scope: 'row'}, h('time', {datetime: iso}, formatTime(iso))),
      h('td', {class: 'num'}, p.peak), h('td', {class: 'num'}, p.granted), h('td', {class: 'num'}, p.denied),
      h('td', {}, reasons.join(', ') || '—'));
  });
  return h('div', {class: 'table-wrap usage-data'},
    h('table', {'aria-label': 'License utilization data'},
      h('thead', {}, h('tr', {}, ['Start', 'Peak in use', 'Granted', 'Denied', 'Denied by reason'].map((t) => h('th', {scope: 'col'}, t)))),
      h('tbody', {}, rows)));
}

/**
 * Draws `response`'s series of `poolId` into `container`: an SVG chart named "License utilization
 * chart", its summary, and the same steps as table "License utilization data".
 */
export function drawUtilization(container, response, {step = 'minute', poolId, capacity, now} = {}) {
  const {start, end, ms} = range(step, now);
  const series = (response.series || []).find((x) => !poolId || x.pool_id === poolId) || {points: []};
  const points = (series.points || []).map((p) => ({
    t: Date.parse(p.start_time), peak: Number(p.peak_in_use || 0), granted: Number(p.granted || 0),
    denied: Number(p.denied || 0), reasons: p.denied_by_reason || {},
  })).filter((p) => p.t >= start && p.t < end);
  const top = Math.max(1, Number(capacity || 0), ...points.map((p) => p.peak));
  const slots = Math.round((end - start) / ms);
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const slotW = plotW / slots;
  const x = (t) => PAD.left + ((t - start) / ms) * slotW;
  const y = (v) => PAD.top + plotH - (v / top) * plotH;
  const when = (t) => new Date(t).toLocaleString();
  const iso = (t) => new Date(t).toISOString();

  const bars = points.map((p) => s('rect', {class: 'bar', x: x(p.t) + 1, y: y(p.peak), width: Math.max(1, slotW - 2),
    height: Math.max(0, PAD.top + plotH - y(p.peak)), 'data-start': iso(p.t), 'data-peak': p.peak},
  s('title', {}, `${when(p.t)}: peak ${p.peak} in use, ${p.granted} granted, ${p.denied} denied`)));
  const denials = points.filter((p) => p.denied > 0).map((p) => s('circle', {class: 'denied', cx: x(p.t) + slotW / 2,
    cy: PAD.top - 8, r: 4, 'data-start': iso(p.t), 'data-denied': p.denied},
  s('title', {}, `${when(p.t)}: ${p.denied} denied (${Object.entries(p.reasons).map(([r, n]) => `${reasonText(r)} ${n}`).join(', ') || 'no reason'})`)));
  const capacityLine = capacity ? [s('line', {class: 'capacity', x1: PAD.left, x2: WIDTH - PAD.right, y1: y(capacity), y2: y(capacity)}),
    s('text', {class: 'axis', x: WIDTH - PAD.right, y: y(capacity) - 3, 'text-anchor': 'end'}, `pool ${capacity}`)] : [];
  const peak = points.reduce((m, p) => Math.max(m, p.peak), 0);
  const denied = points.reduce((m, p) => m + p.denied, 0);
  const summary = points.length === 0 ? 'No usage recorded in this period.'
    : `Peak ${peak} in use${capacity ? ` of a pool of ${capacity}` : ''}; ${denied} denied, from ${when(start)} to ${when(end)} by ${STEPS[step].label.toLowerCase()}.`;

  const chart = s('svg', {role: 'img', 'aria-label': 'License utilization chart', 'aria-describedby': 'utilization-summary',
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: 'chart'},
  s('title', {}, 'License utilization chart'),
  s('line', {class: 'axis-line', x1: PAD.left, x2: WIDTH - PAD.right, y1: PAD.top + plotH, y2: PAD.top + plotH}),
  s('text', {class: 'axis', x: PAD.left - 4, y: PAD.top + plotH, 'text-anchor': 'end'}, '0'),
  s('text', {class: 'axis', x: PAD.left - 4, y: PAD.top + 8, 'text-anchor': 'end'}, String(top)),
  s('text', {class: 'axis', x: PAD.left, y: HEIGHT - 8}, when(start)),
  s('text', {class: 'axis', x: WIDTH - PAD.right, y: HEIGHT - 8, 'text-anchor': 'end'}, when(end)),
  capacityLine, bars, denials);
  // A redraw keeps the table scrolled where the reader left it.
  const scrolled = container.querySelector('.usage-data')?.scrollTop || 0;
  container.replaceChildren(chart, h('p', {id: 'utilization-summary', class: 'muted'}, summary),
    h('p', {class: 'legend muted'}, h('span', {class: 'key bar-key'}), 'peak in use ', h('span', {class: 'key denied-key'}), 'denied'),
    points.length ? dataTable(points) : []);
  const wrap = container.querySelector('.usage-data');
  if (wrap) wrap.scrollTop = scrolled;
  return chart;
}

export function mount(section, ctx) {
  const stepSelect = h('select', {id: 'utilization-step'},
    Object.entries(STEPS).map(([value, {label}]) => h('option', {value}, label)));
  const poolSelect = h('select', {id: 'utilization-pool'});
  const alerts = h('div', {class: 'alerts'});
  const chart = h('div', {id: 'utilization-chart'});
  section.replaceChildren(heading('utilization-title', 'License Utilization'),
    h('div', {class: 'inline-fields'},
      h('div', {class: 'field'}, h('label', {for: 'utilization-step'}, 'Step'), stepSelect),
      h('div', {class: 'field'}, h('label', {for: 'utilization-pool'}, 'Pool'), poolSelect)),
    alerts, chart);
  let lastResponse = {series: []};
  let lastAsked = null;
  let asked = 0;

  const pools = () => treeOrder(ctx.state.usage?.rows || []).map(({row}) => row);
  const draw = () => {
    const pool = pools().find((r) => r.pool_id === lastAsked.poolId);
    const options = {step: lastAsked.step, poolId: lastAsked.poolId, capacity: pool ? Number(pool.pool) : 0, now: Date.now()};
    // Drawn again only when something shown changes: a poll must not reset a reader's place in the table.
    const snapshot = JSON.stringify([lastResponse, options.step, options.poolId, options.capacity, range(options.step, options.now).start]);
    if (chart.dataset.snapshot === snapshot) return;
    chart.dataset.snapshot = snapshot;
    drawUtilization(chart, lastResponse, options);
  };
  const syncPools = () => {
    const rows = pools();
    const wanted = rows.map((r) => `${r.pool_id}\u0000${r.name}`).join('\u0001');
    if (poolSelect.dataset.options !== wanted) {
      const keep = poolSelect.value;
      poolSelect.replaceChildren(...rows.map((r) => h('option', {value: r.pool_id}, r.name)));
      poolSelect.dataset.options = wanted;
      if (rows.some((r) => r.pool_id === keep)) poolSelect.value = keep;
    }
  };
  const load = async () => {
    syncPools();
    const wanted = {step: stepSelect.value, poolId: poolSelect.value};
    const {start, end} = range(wanted.step);
    // A poll and a change of Step or Pool may overlap: only the answer to the latest question is drawn.
    const mine = ++asked;
    const response = await ctx.call('GetUsageHistory', {account_id: ctx.state.accountId, product: ctx.state.product,
      pool_id: wanted.poolId, start_time: new Date(start).toISOString(), end_time: new Date(end).toISOString(),
      step: `${STEPS[wanted.step].seconds}s`}).catch((e) => {
      if (mine === asked) throw e;
      return null;
    });
    if (mine !== asked) return;
    lastResponse = response;
    lastAsked = wanted;
    clearAlert(alerts);
    draw();
  };
  stepSelect.addEventListener('change', () => load().catch((e) => showAlert(alerts, e)));
  poolSelect.addEventListener('change', () => load().catch((e) => showAlert(alerts, e)));

  return {
    refresh: load,
    fail(error) {
      showAlert(alerts, error);
    },
  };
}

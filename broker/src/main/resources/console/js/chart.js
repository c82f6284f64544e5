// License Utilization (seed 004's dashboard): per pool, the peak of licenses in use in each
// minute, hour or day, and the acquires denied, from GetUsageHistory (CONTRACT.md section 7):
//   {series: [{pool_id, points: [{start_time, peak_in_use, granted, denied, denied_by_reason}]}]}
// drawUtilization() draws any such answer; the region asks the broker for one every few seconds.

import {h, s, heading, showAlert, clearAlert} from './dom.js';
import {treeOrder} from './pools.js';

export const STEPS = {
  minute: {label: 'Minute', seconds: 60, span: 60},
  hour: {label: 'Hour', seconds: 3600, span: 48},
  day: {label: 'Day', seconds: 86400, span: 30},
};
const WIDTH = 640;
const HEIGHT = 220;
const PAD = {left: 36, right: 12, top: 18, bottom: 28};
const HISTORY_RETRY_MS = 30000;

/** The time range of a step ending now: `span` whole steps, the last one still running. */
export function range(step, now = Date.now()) {
  const ms = STEPS[step].seconds * 1000;
  const end = Math.floor(now / ms) * ms + ms;
  return {start: end - STEPS[step].span * ms, end, ms};
}

/** Draws `response`'s series of `poolId` into `container` as an SVG chart named "License utilization chart". */
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

  const bars = points.map((p) => s('rect', {class: 'bar', x: x(p.t) + 1, y: y(p.peak), width: Math.max(1, slotW - 2),
    height: Math.max(0, PAD.top + plotH - y(p.peak)), 'data-peak': p.peak},
  s('title', {}, `${when(p.t)}: peak ${p.peak} in use, ${p.granted} granted, ${p.denied} denied`)));
  const denials = points.filter((p) => p.denied > 0).map((p) => s('circle', {class: 'denied', cx: x(p.t) + slotW / 2,
    cy: PAD.top - 8, r: 4, 'data-denied': p.denied},
  s('title', {}, `${when(p.t)}: ${p.denied} denied (${Object.entries(p.reasons).map(([r, n]) => `${r} ${n}`).join(', ') || 'no reason'})`)));
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
  container.replaceChildren(chart, h('p', {id: 'utilization-summary', class: 'muted'}, summary),
    h('p', {class: 'legend muted'}, h('span', {class: 'key bar-key'}), 'peak in use ', h('span', {class: 'key denied-key'}), 'denied'));
  return chart;
}

export function mount(section, ctx) {
  const stepSelect = h('select', {id: 'utilization-step'},
    Object.entries(STEPS).map(([value, {label}]) => h('option', {value}, label)));
  const poolSelect = h('select', {id: 'utilization-pool'});
  const alerts = h('div', {class: 'alerts'});
  const note = h('p', {class: 'muted'});
  const chart = h('div', {id: 'utilization-chart'});
  section.replaceChildren(heading('utilization-title', 'License Utilization'),
    h('div', {class: 'inline-fields'},
      h('div', {class: 'field'}, h('label', {for: 'utilization-step'}, 'Step'), stepSelect),
      h('div', {class: 'field'}, h('label', {for: 'utilization-pool'}, 'Pool'), poolSelect)),
    alerts, note, chart);
  let lastResponse = {series: []};
  let unavailableUntil = 0;

  const pools = () => treeOrder(ctx.state.usage?.rows || []).map(({row}) => row);
  const draw = () => {
    const pool = pools().find((r) => r.pool_id === poolSelect.value);
    drawUtilization(chart, lastResponse, {step: stepSelect.value, poolId: poolSelect.value, capacity: pool ? Number(pool.pool) : 0});
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
    if (Date.now() < unavailableUntil) {
      draw();
      return;
    }
    const {start, end} = range(stepSelect.value);
    try {
      lastResponse = await ctx.call('GetUsageHistory', {account_id: ctx.state.accountId, product: ctx.state.product,
        pool_id: poolSelect.value, start_time: new Date(start).toISOString(), end_time: new Date(end).toISOString(),
        step: `${STEPS[stepSelect.value].seconds}s`});
      note.textContent = '';
      clearAlert(alerts);
    } catch (e) {
      if (e.code !== 'UNIMPLEMENTED') throw e;
      lastResponse = {series: []};
      unavailableUntil = Date.now() + HISTORY_RETRY_MS;
      note.textContent = 'This broker keeps no usage history yet (GetUsageHistory): the chart stays empty.';
    }
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

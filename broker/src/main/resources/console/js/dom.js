// Small DOM helpers: elements from plain data (never HTML strings, so nothing from the broker is
// ever parsed as markup), alerts, and re-rendering that keeps the keyboard focus where it was.

const SVG_NS = 'http://www.w3.org/2000/svg';

function build(el, attrs, children) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'text') el.textContent = value;
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** An HTML element: h('button', {type: 'button', onclick: f}, 'Edit'). */
export function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

/** An SVG element. */
export function s(tag, attrs, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

/** Shows a refusal in `container` as one element of role "alert" (the broker's own message). */
export function showAlert(container, error) {
  clearAlert(container);
  const message = error && error.message ? error.message : String(error);
  container.append(h('p', {role: 'alert', class: 'alert'}, message));
}

export function clearAlert(container) {
  container.querySelectorAll('[role="alert"]').forEach((el) => el.remove());
}

/**
 * Replaces the children of `container` when `data` differs from what it shows now, and gives the
 * focus back to the element with the same data-key: a poll never steals a keyboard user's place.
 */
export function renderIfChanged(container, data, render) {
  const snapshot = JSON.stringify(data);
  if (container.dataset.snapshot === snapshot) return false;
  container.dataset.snapshot = snapshot;
  const active = document.activeElement;
  const key = active && container.contains(active) ? active.dataset.key : undefined;
  container.replaceChildren(...[render(data)].flat());
  if (key) {
    const again = container.querySelector(`[data-key="${CSS.escape(key)}"]`);
    if (again) again.focus();
    else container.closest('section')?.querySelector('h2')?.focus();
  }
  return true;
}

/** Forgets what `container` shows, so the next render draws it again. */
export function invalidate(container) {
  delete container.dataset.snapshot;
}

/** A heading for a region (focusable, so focus can land on it when its content goes). */
export function heading(id, text) {
  return h('h2', {id, tabindex: '-1'}, text);
}

/** A table with a caption-less accessible name, column headers and rows of cells. */
export function table(name, headers, rows, empty) {
  if (rows.length === 0) return h('p', {class: 'muted'}, empty);
  return h('table', {'aria-label': name},
    h('thead', {}, h('tr', {}, headers.map((text) => text === '' ? h('td', {}) : h('th', {scope: 'col'}, text)))),
    h('tbody', {}, rows));
}

export function formatTime(ts) {
  if (!ts) return '—';
  const d = new Date(ts);
  return Number.isNaN(d.getTime()) ? ts : d.toLocaleString();
}

export function formatDate(ts) {
  if (!ts) return '—';
  const d = new Date(ts);
  return Number.isNaN(d.getTime()) ? ts : d.toISOString().slice(0, 10);
}

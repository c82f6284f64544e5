// Modal dialogs on the native <dialog> element: focus moves into the dialog, Escape and Cancel
// close it, and focus goes back to the control that opened it. Fields are checked as you type;
// the broker decides everything else, and its refusal is shown inside the dialog as an alert.

import {h, showAlert, clearAlert} from './dom.js';

const MAX_COUNT = 1000000000;

/** A whole number 0..1e9 (the broker's bounds of a count), or a message saying why not. */
export function checkCount(min) {
  return (value) => {
    if (value.trim() === '') return 'Enter a number.';
    if (!/^\d+$/.test(value.trim())) return 'Enter a whole number, without signs or decimals.';
    const n = Number(value);
    if (n < min) return `Enter at least ${min}.`;
    if (n > MAX_COUNT) return `Enter at most ${MAX_COUNT}.`;
    return '';
  };
}

/** Printable ASCII without spaces at the ends, 1..128 characters: an id the broker accepts. */
export function checkId(what) {
  return (value) => {
    if (value === '') return `Enter the ${what}.`;
    if (value.length > 128) return `The ${what} is at most 128 characters.`;
    if (!/^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/.test(value)) return `The ${what} is printable ASCII, without spaces at its ends.`;
    return '';
  };
}

let counter = 0;

/**
 * Opens a modal dialog.
 * spec: {title, intro: [nodes], fields: [{name, label, type ('number'|'text'|'select'|'date'),
 *        value, options: [{value, text}], check(value) -> message}], submit (button text),
 *        danger (bool), onSubmit(values) -> Promise, opener (element), fallback (element)}
 */
export function openDialog(spec) {
  const id = `dialog-${++counter}`;
  const alerts = h('div', {class: 'alerts'});
  const inputs = [];
  const fieldNodes = (spec.fields || []).map((f, i) => {
    const inputId = `${id}-f${i}`;
    const errorId = `${inputId}-error`;
    let input;
    if (f.type === 'select') {
      input = h('select', {id: inputId, name: f.name},
        f.options.map((o) => h('option', {value: o.value, selected: o.value === f.value}, o.text)));
    } else {
      input = h('input', {id: inputId, name: f.name, type: f.type || 'text', value: f.value ?? '', autocomplete: 'off',
        spellcheck: 'false', inputmode: f.type === 'number' ? 'numeric' : undefined, min: f.type === 'number' ? f.min ?? 0 : undefined});
    }
    const error = h('p', {id: errorId, class: 'field-error'});
    input.setAttribute('aria-describedby', errorId);
    inputs.push({f, input, error});
    return h('div', {class: 'field'}, h('label', {for: inputId}, f.label), input, error);
  });
  const submit = h('button', {type: 'submit', class: spec.danger ? 'danger' : ''}, spec.submit);
  const cancel = h('button', {type: 'button', class: 'secondary'}, 'Cancel');
  const form = h('form', {method: 'dialog', novalidate: true}, spec.intro || [], fieldNodes, alerts,
    h('div', {class: 'buttons'}, cancel, submit));
  const dialog = h('dialog', {'aria-labelledby': `${id}-title`}, h('h2', {id: `${id}-title`}, spec.title), form);

  const check = (touched) => {
    let ok = true;
    for (const {f, input, error} of inputs) {
      const message = f.check ? f.check(input.value) : '';
      if (message) ok = false;
      if (touched === input || touched === true || input.getAttribute('aria-invalid')) {
        error.textContent = message;
        if (message) input.setAttribute('aria-invalid', 'true'); else input.removeAttribute('aria-invalid');
      }
    }
    submit.disabled = !ok;
    return ok;
  };
  for (const {input} of inputs) {
    input.addEventListener('input', () => check(input));
    input.addEventListener('change', () => check(input));
  }
  cancel.addEventListener('click', () => dialog.close());
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!check(true)) return;
    submit.disabled = true;
    clearAlert(alerts);
    const values = Object.fromEntries(inputs.map(({f, input}) => [f.name, input.value.trim()]));
    try {
      await spec.onSubmit(values);
      dialog.close();
    } catch (e) {
      showAlert(alerts, e);
      submit.disabled = false;
      (inputs.find(({f}) => f.name === e.field)?.input ?? submit).focus();
    }
  });
  dialog.addEventListener('close', () => {
    dialog.remove();
    // A poll may have drawn the opener anew meanwhile: the same data-key finds its successor.
    let back = spec.opener;
    if (back && !back.isConnected && back.dataset.key) {
      back = document.querySelector(`[data-key="${CSS.escape(back.dataset.key)}"]`);
    }
    (back && back.isConnected ? back : spec.fallback)?.focus();
  });
  document.getElementById('dialogs').append(dialog);
  check(false);
  dialog.showModal();
  (inputs[0]?.input ?? submit).focus();
  return dialog;
}

/** A confirmation box: a question and one button that does it. */
export function confirmDialog({title, message, confirm, onConfirm, opener, fallback}) {
  return openDialog({title, intro: [h('p', {}, message)], fields: [], submit: confirm, danger: true, onSubmit: onConfirm,
    opener, fallback});
}

/** True while a dialog is open (a poll then leaves the page under it as it is). */
export function dialogOpen() {
  return document.querySelector('dialog[open]') !== null;
}

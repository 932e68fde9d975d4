// Webhooks (both account kinds): endpoints that receive signed events, with their
// deliveries. The signing secret is shown once, when an endpoint is made or its secret
// rotated; the server never shows it again.

import { call, session } from './api.js';
import {
  h, clear, field, notice, describe, heading, busy, table, toast, copyText, setFieldError, showFieldErrors,
} from './ui.js';

// What each kind of account can subscribe to (a seller's events are its brands').
const EVENTS = {
  publisher: [
    ['link.created', 'A link was created'],
    ['link.updated', 'A link was paused, resumed or renamed'],
    ['bulk_job.finished', 'A bulk upload finished'],
    ['report.updated', 'New report data arrived'],
    ['access_request.approved', 'A brand approved your access request'],
    ['access_request.declined', 'A brand declined your access request'],
    ['grant.revoked', 'A brand revoked your access'],
    ['statement.final', 'A statement became final'],
    ['statement.paid', 'A statement was paid'],
  ],
  seller: [
    ['report.updated', 'New report data arrived'],
    ['access_request.created', 'A creator asked for access'],
    ['access_request.approved', 'An access request was approved'],
    ['access_request.declined', 'An access request was declined'],
    ['grant.revoked', 'A grant was revoked'],
    ['statement.final', 'A statement became final'],
    ['statement.paid', 'A statement was paid'],
    ['amazon.connection_lost', 'The Amazon connection was lost'],
  ],
};

function when(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

/** A modal <dialog>, removed from the page when closed. */
function modal(title, ...content) {
  const titleId = `dlg-${Math.random().toString(36).slice(2)}`;
  const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': titleId }, h('h2', { id: titleId }, title), ...content);
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}

/** Resolves true when the user confirms `question`. */
function confirmDialog(title, text, yesLabel) {
  return new Promise((resolve) => {
    const yes = h('button', { type: 'button', class: 'danger' }, yesLabel);
    const no = h('button', { type: 'button', class: 'secondary' }, 'Cancel');
    const dialog = modal(title, h('p', {}, text), h('div', { class: 'actions' }, yes, no));
    let answer = false;
    yes.addEventListener('click', () => { answer = true; dialog.close(); });
    no.addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => resolve(answer));
    no.focus();
  });
}

/** The event checkboxes, in a fieldset; `checked` preselects. */
function eventPicker(kind, checked = []) {
  const boxes = EVENTS[kind].map(([name, label]) => {
    const box = h('input', { type: 'checkbox', name: 'events', value: name, checked: checked.includes(name) });
    const id = `ev-${name.replace(/\W/g, '-')}-${Math.random().toString(36).slice(2, 7)}`;
    box.id = id;
    return { box, row: h('div', { class: 'check-row' }, box, ' ', h('label', { for: id }, h('code', {}, name), ' — ', label)) };
  });
  const error = h('p', { class: 'field-error', role: 'alert', hidden: true });
  const set = h('fieldset', { class: 'channel-set' }, h('legend', {}, 'Events'), boxes.map((b) => b.row), error);
  return {
    el: set,
    values: () => boxes.filter((b) => b.box.checked).map((b) => b.box.value),
    error(text) { error.textContent = text || ''; error.hidden = !text; },
    focus: () => boxes[0].box.focus(),
  };
}

/** The secret, shown this once with a copy button. */
function secretPanel(secret, what) {
  const input = h('input', { type: 'text', readonly: true, value: secret, 'aria-label': 'Signing secret', spellcheck: false });
  const copy = h('button', { type: 'button', class: 'secondary small' }, 'Copy secret');
  copy.addEventListener('click', async () => {
    try {
      await copyText(secret, input);
      copy.textContent = 'Copied';
      toast('Secret copied to the clipboard');
    } catch {
      toast('Could not copy: select the secret and copy it by hand');
    }
  });
  return h('div', { class: 'notice info secret-panel', role: 'status' },
    h('p', {}, h('strong', {}, what), ' Copy the signing secret now: it is not shown again.'),
    h('div', { class: 'actions' }, input, copy),
    h('p', { class: 'hint' }, 'Verify each delivery with a Standard Webhooks library (webhook-id, webhook-timestamp, webhook-signature headers).'));
}

export async function webhooks(main, params) {
  const kind = session()?.kind === 'seller' ? 'seller' : 'publisher';
  const msg = notice();
  const secretSlot = h('div', { 'aria-live': 'polite' });
  const list = h('div', { 'aria-live': 'polite' });
  const deliveries = h('section', { class: 'deliveries', 'aria-live': 'polite' });

  const url = h('input', { type: 'url', name: 'url', required: true, autocomplete: 'off', placeholder: 'https://example.com/quiver-hook' });
  const description = h('input', { type: 'text', name: 'description', maxlength: 200, autocomplete: 'off' });
  const picker = eventPicker(kind);
  const addMsg = notice();
  const add = h('button', { type: 'submit' }, 'Add endpoint');
  const form = h('form', { class: 'card', novalidate: true, 'aria-labelledby': 'wh-add' },
    h('h2', { id: 'wh-add' }, 'Add an endpoint'),
    field('Endpoint URL', url, 'Where Quiver POSTs each event (https).'),
    field('Description (optional)', description, 'Up to 200 characters.'),
    picker.el, addMsg.el, add);

  clear(main, heading('Webhooks'),
    h('p', { class: 'muted' }, kind === 'seller'
      ? 'Quiver tells your tools when something happens on your brands: each event is POSTed to your endpoints, signed.'
      : 'Quiver tells your tools when something happens on your account: each event is POSTed to your endpoints, signed.'),
    msg.el, secretSlot, h('h2', {}, 'Your endpoints'), list, deliveries, form);

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    addMsg.hide();
    setFieldError(url, '');
    picker.error('');
    const events = picker.values();
    if (!url.value.trim()) { setFieldError(url, 'Enter the URL to send events to.'); url.focus(); return; }
    if (!events.length) { picker.error('Choose at least one event.'); picker.focus(); return; }
    try {
      const created = await busy(add, () => call('POST', '/webhooks', { json: { url: url.value.trim(), events, description: description.value.trim() || undefined } }));
      form.reset();
      clear(secretSlot, secretPanel(created.secret, `Endpoint ${created.url} added.`));
      await load();
      secretSlot.querySelector('input').focus();
    } catch (e) {
      const rest = e.code === 'validation' ? showFieldErrors(e, form) : [e];
      const eventsErr = (e.fields || []).find((f) => Array.isArray(f.loc) && f.loc.includes('events'));
      if (eventsErr) picker.error(eventsErr.msg);
      if (e.code !== 'validation') addMsg.show(describe(e));
      else if (rest.some((f) => !(Array.isArray(f.loc) && f.loc.includes('events')))) addMsg.show(rest.map((f) => f.msg).join('; '));
    }
  });

  let endpoints = [];
  async function load() {
    msg.hide();
    try {
      const r = await call('GET', '/webhooks');
      endpoints = r.webhooks;
      clear(list, endpoints.length
        ? h('ul', { class: 'plain-list endpoint-list' }, endpoints.map((e) => h('li', { class: 'card endpoint' }, endpointCard(e))))
        : h('p', { class: 'empty' }, 'No endpoints yet: add one below.'));
      const shown = params.get('endpoint');
      if (shown && endpoints.some((e) => e.id === shown)) await showDeliveries(shown);
      else clear(deliveries);
    } catch (e) {
      clear(list);
      msg.show(describe(e));
    }
  }

  function status(e) {
    if (!e.enabled) return h('span', { class: 'badge paused' }, 'Disabled');
    if (e.failing_since) return h('span', { class: 'badge gated' }, `Failing since ${when(e.failing_since)}`);
    return h('span', { class: 'badge ok' }, 'Enabled');
  }

  function endpointCard(e) {
    const err = h('p', { class: 'cell-error', role: 'alert' });
    const fail = (x) => { err.textContent = describe(x); };
    const btn = (label, aria, cls = 'small secondary') => h('button', { type: 'button', class: cls, 'aria-label': `${aria} ${e.url}` }, label);
    const toggle = btn(e.enabled ? 'Disable' : 'Enable', e.enabled ? 'Disable' : 'Enable');
    toggle.addEventListener('click', async () => {
      try {
        await busy(toggle, () => call('PATCH', `/webhooks/${encodeURIComponent(e.id)}`, { json: { enabled: !e.enabled } }));
        toast(e.enabled ? 'Endpoint disabled' : 'Endpoint enabled');
        await load();
      } catch (x) { fail(x); }
    });
    const edit = btn('Edit', 'Edit');
    edit.addEventListener('click', () => editDialog(e));
    const rotate = btn('Rotate secret', 'Rotate secret of');
    rotate.addEventListener('click', async () => {
      if (!await confirmDialog('Rotate the signing secret?', 'A new secret is made and shown once. For 24 hours deliveries are signed with the old secret too, so your receiver can switch without missing an event.', 'Rotate secret')) { rotate.focus(); return; }
      try {
        const r = await busy(rotate, () => call('POST', `/webhooks/${encodeURIComponent(e.id)}/rotate_secret`));
        clear(secretSlot, secretPanel(r.secret, `New secret for ${e.url}.`));
        await load();
        secretSlot.querySelector('input').focus();
      } catch (x) { fail(x); }
    });
    const test = btn('Send test', 'Send test to');
    test.addEventListener('click', async () => {
      try {
        await busy(test, () => call('POST', `/webhooks/${encodeURIComponent(e.id)}/test`));
        toast('Test event (ping) sent');
        await showDeliveries(e.id);
      } catch (x) { fail(x); }
    });
    const show = btn('Deliveries', 'Deliveries of');
    show.addEventListener('click', () => showDeliveries(e.id));
    const del = btn('Delete', 'Delete', 'small danger');
    del.addEventListener('click', async () => {
      if (!await confirmDialog('Delete this endpoint?', `${e.url} stops receiving events, and its delivery history is deleted.`, 'Delete endpoint')) { del.focus(); return; }
      try {
        await busy(del, () => call('DELETE', `/webhooks/${encodeURIComponent(e.id)}`));
        toast('Endpoint deleted');
        if (params.get('endpoint') === e.id) params.delete('endpoint');
        await load();
      } catch (x) { fail(x); }
    });
    return [
      h('h3', { class: 'endpoint-url' }, e.url), ' ', status(e),
      e.description ? h('p', {}, e.description) : null,
      h('p', { class: 'small-text muted' }, 'Events: ', e.events.map((n, i) => [i ? ', ' : '', h('code', {}, n)])),
      h('p', { class: 'small-text muted' }, `Added ${when(e.created_at)}`, e.previous_secret_until ? ` · old secret also signs until ${when(e.previous_secret_until)}` : ''),
      h('div', { class: 'row-actions' }, show, test, edit, toggle, rotate, del),
      err,
    ];
  }

  function editDialog(e) {
    const u = h('input', { type: 'url', name: 'url', value: e.url, required: true });
    const d = h('input', { type: 'text', name: 'description', value: e.description || '', maxlength: 200 });
    const p = eventPicker(kind, e.events);
    const m = notice();
    const save = h('button', { type: 'submit' }, 'Save');
    const cancel = h('button', { type: 'button', class: 'secondary' }, 'Cancel');
    const f = h('form', { novalidate: true }, field('Endpoint URL', u), field('Description (optional)', d), p.el, m.el, h('div', { class: 'actions' }, save, cancel));
    const dialog = modal('Edit endpoint', f);
    cancel.addEventListener('click', () => dialog.close());
    f.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      m.hide();
      const events = p.values();
      if (!events.length) { p.error('Choose at least one event.'); p.focus(); return; }
      try {
        await busy(save, () => call('PATCH', `/webhooks/${encodeURIComponent(e.id)}`, { json: { url: u.value.trim(), description: d.value.trim(), events } }));
        dialog.close();
        toast('Endpoint saved');
        await load();
      } catch (x) {
        m.show(x.code === 'validation' && x.fields.length ? x.fields.map((fe) => fe.msg).join('; ') : describe(x));
      }
    });
    u.focus();
  }

  async function showDeliveries(id) {
    const e = endpoints.find((x) => x.id === id);
    params.set('endpoint', id);
    history.replaceState(null, '', `#/webhooks?${params}`);
    const refresh = h('button', { type: 'button', class: 'secondary small' }, 'Refresh');
    const m = notice();
    const body = h('div');
    clear(deliveries, h('h2', { id: 'wh-deliveries' }, `Deliveries to ${e ? e.url : id}`), h('div', { class: 'actions' }, refresh), m.el, body);
    async function fill() {
      m.hide();
      try {
        const r = await call('GET', `/webhooks/${encodeURIComponent(id)}/deliveries`, { query: { limit: 50 } });
        clear(body, table('Deliveries', r.deliveries, [
          ['Event', (d) => [h('code', {}, d.event_type), h('br'), h('span', { class: 'muted small-text' }, d.event_id)]],
          ['Created', (d) => when(d.created_at)],
          ['Status', (d) => h('span', { class: `badge ${d.status === 'delivered' ? 'ok' : d.status === 'pending' ? 'pending' : 'gated'}` }, d.status)],
          ['Attempts', (d) => String(d.attempt_count), { num: true }],
          ['HTTP status', (d) => (d.last_status_code === null || d.last_status_code === undefined ? '—' : String(d.last_status_code)), { num: true }],
          ['Latency', (d) => (d.last_latency_ms === null || d.last_latency_ms === undefined ? '—' : `${d.last_latency_ms} ms`), { num: true }],
          ['Error', (d) => d.last_error || '—'],
          ['Next attempt', (d) => (d.next_attempt_at && d.status !== 'delivered' ? when(d.next_attempt_at) : '—')],
          ['', (d) => retryButton(id, d, fill)],
        ], { empty: 'No deliveries yet. Send a test to see one.' }));
      } catch (x) {
        clear(body);
        m.show(describe(x));
      }
    }
    refresh.addEventListener('click', () => busy(refresh, fill));
    await fill();
  }

  function retryButton(id, d, refill) {
    const b = h('button', { type: 'button', class: 'small secondary', 'aria-label': `Retry ${d.event_type} ${d.event_id}` }, 'Retry');
    const err = h('span', { class: 'cell-error', role: 'alert' });
    b.addEventListener('click', async () => {
      try {
        await busy(b, () => call('POST', `/webhooks/${encodeURIComponent(id)}/deliveries/${encodeURIComponent(d.id)}/retry`));
        toast('Delivery queued again');
        await refill();
      } catch (x) { err.textContent = describe(x); }
    });
    return h('div', { class: 'inline-edit' }, b, err);
  }

  await load();
}

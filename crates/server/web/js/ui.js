// Small DOM helpers shared by every screen. Text always goes in as text nodes, never as
// HTML, so nothing from the API can inject markup.

export const MARKETPLACES = [
  'amazon.com', 'amazon.ca', 'amazon.com.mx', 'amazon.co.uk', 'amazon.de',
  'amazon.fr', 'amazon.it', 'amazon.es', 'amazon.nl',
];

let ids = 0;
export function uid(prefix = 'q') {
  ids += 1;
  return `${prefix}-${ids}`;
}

/** h('button', {class: 'x', onclick: f}, 'text', child) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A labelled control: returns {wrap, input}. */
export function field(label, control, hint) {
  const id = control.id || uid('f');
  control.id = id;
  const msg = h('p', { class: 'field-error', id: `${id}-error`, role: 'alert', hidden: true });
  const wrap = h('div', { class: 'field' }, h('label', { for: id }, label), control, hint ? h('p', { class: 'hint' }, hint) : null, msg);
  return wrap;
}

export function select(name, options, value) {
  return h('select', { name }, options.map(([v, text]) => h('option', { value: v, selected: v === value }, text)));
}

export function marketplaceSelect(name, value, { all = false } = {}) {
  const opts = MARKETPLACES.map((m) => [m, m]);
  if (all) opts.unshift(['all', 'All marketplaces']);
  return select(name, opts, value);
}

/** Shows `message` under a control (or clears it), linked for screen readers. */
export function setFieldError(control, message) {
  const msg = document.getElementById(`${control.id}-error`);
  if (!msg) return;
  msg.textContent = message || '';
  msg.hidden = !message;
  if (message) {
    control.setAttribute('aria-invalid', 'true');
    control.setAttribute('aria-describedby', msg.id);
  } else {
    control.removeAttribute('aria-invalid');
    control.removeAttribute('aria-describedby');
  }
}

/** An inline message area next to a button or form; `show(text, kind, ...extra nodes)`. */
export function notice() {
  const el = h('div', { class: 'notice', role: 'alert', hidden: true });
  return {
    el,
    show(text, kind = 'error', ...extra) {
      el.className = `notice ${kind}`;
      clear(el, h('span', {}, text), ...extra);
      el.hidden = false;
    },
    hide() {
      el.hidden = true;
      el.replaceChildren();
    },
  };
}

const FIELD_NAMES = {
  asin: 'ASIN', link_name: 'Link name', marketplace: 'Marketplace', start: 'Start date', end: 'End date',
  limit: 'Limit', username: 'Email', password: 'Password', commission: 'Commission',
  default_commission: 'Default commission', message: 'Message', links: 'Links', email: 'Email',
};

/** A sentence a person understands for any error the API (or the network) can give. */
export function describe(err) {
  if (!err) return 'Something went wrong.';
  const wait = err.retryAfter ? ` Try again in ${err.retryAfter} s.` : '';
  switch (err.code) {
    case 'network': return err.message;
    case 'bad_credentials': return 'Incorrect email or password.';
    case 'too_many_attempts': return `Too many failed logins.${wait || ' Try again later.'}`;
    case 'rate_limited': return `Too many requests.${wait || ' Slow down a little.'}`;
    case 'session_expired':
    case 'not_authenticated':
    case 'invalid_token': return 'Your session has expired. Please log in again.';
    case 'wrong_account_type': return 'This account cannot do that (creator and brand accounts have different screens).';
    case 'brand_access_denied': return 'Not allowed to promote this product: the brand approves creators first.';
    case 'amazon_unavailable': return "Couldn't reach Amazon. Nothing was created.";
    case 'product_not_found': return err.message;
    case 'unsupported_marketplace': return err.message;
    case 'invalid_asin': return err.message;
    case 'access_request_pending': return 'You already asked this brand; the request is waiting for its decision.';
    case 'already_allowed': return 'You may already promote this brand.';
    case 'idempotency_key_reused': return 'That request was already sent with different details. Try again.';
    case 'payload_too_large': return 'That is too much data for one request (2 MiB at most).';
    case 'validation': {
      if (!err.fields.length) return 'Some values are not valid.';
      return err.fields.map((f) => `${fieldName(f)}: ${f.msg}`).join('; ');
    }
    default:
      if (err.status >= 500) return `The server had a problem (${err.status}). Try again in a moment.`;
      return err.message || `Request failed (${err.status}).`;
  }
}

function fieldName(f) {
  const loc = Array.isArray(f.loc) ? f.loc.filter((p) => p !== 'body' && p !== 'query') : [];
  const last = loc.length ? loc[loc.length - 1] : 'value';
  return FIELD_NAMES[last] || String(last);
}

/** Places each 422 item next to the control whose name matches its `loc`; returns leftovers. */
export function showFieldErrors(err, form) {
  const rest = [];
  for (const f of err.fields || []) {
    const name = Array.isArray(f.loc) ? f.loc[f.loc.length - 1] : null;
    const control = name && form.elements ? form.elements.namedItem(String(name)) : null;
    if (control && control.id) setFieldError(control, f.msg);
    else rest.push(f);
  }
  return rest;
}

export function toast(text) {
  // The element goes away with a dialog it was shown in; make a new one then.
  const el = document.getElementById('toast') || h('div', { id: 'toast', class: 'toast', role: 'status', 'aria-live': 'polite' });
  // A modal dialog sits in the top layer, above everything else: show the toast inside it.
  const host = document.querySelector('dialog[open]') || document.body;
  if (el.parentNode !== host) host.append(el);
  el.textContent = text;
  el.classList.add('show');
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => el.classList.remove('show'), 2500);
}

/** Copies text to the clipboard; falls back to selecting it in `input` for older browsers. */
export async function copyText(text, input) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    if (!input) throw new Error('copy failed');
    input.select();
    if (!document.execCommand('copy')) throw new Error('copy failed');
  }
}

export function copyButton(text, input, label = 'Copy') {
  const btn = h('button', { type: 'button', class: 'secondary small', 'aria-label': `${label} link ${text}` }, label);
  btn.addEventListener('click', async () => {
    try {
      await copyText(text, input);
      btn.textContent = 'Copied';
      btn.setAttribute('aria-label', `Copied link ${text}`);
      toast('Link copied to the clipboard');
      setTimeout(() => {
        btn.textContent = label;
        btn.setAttribute('aria-label', `${label} link ${text}`);
      }, 1500);
    } catch {
      toast('Could not copy: select the link and copy it by hand');
    }
  });
  return btn;
}

/**
 * One CSV cell. A cell a spreadsheet would evaluate (OWASP "CSV Injection": it begins with
 * =, +, -, @, tab or carriage return) gets a leading ' and is quoted, so it shows as text;
 * a plain number such as -12.5 is not a formula and stays as it is. The server's bulk CSV
 * follows the same rule (`neutralise` in crates/server/src/jobs/csv.rs).
 */
export function csvEscape(v) {
  let s = v === null || v === undefined ? '' : String(v);
  const formula = /^[=+\-@\t\r]/.test(s) && !/^[+-]?\d+(\.\d*)?$/.test(s);
  if (formula) s = `'${s}`;
  return formula || /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** columns: [[header, row => value], ...] */
export function toCsv(rows, columns) {
  const lines = [columns.map(([name]) => csvEscape(name)).join(',')];
  for (const r of rows) lines.push(columns.map(([, get]) => csvEscape(get(r))).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

/** Parses CSV text (RFC 4180 quoting) into arrays of strings. */
export function parseCsv(text) {
  const rows = [];
  let row = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; }
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(cell); cell = ''; }
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(cell); cell = '';
      if (row.some((x) => x.trim() !== '')) rows.push(row);
      row = [];
    } else cell += c;
  }
  row.push(cell);
  if (row.some((x) => x.trim() !== '')) rows.push(row);
  return rows;
}

export function download(filename, text, type = 'text/csv') {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h('a', { href: url, download: filename, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function money(amount, currency) {
  if (amount === null || amount === undefined) return '';
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(amount);
  } catch {
    return `${Number(amount).toFixed(2)} ${currency}`;
  }
}

export function num(n) {
  return new Intl.NumberFormat().format(n || 0);
}

export function isoDay(d) {
  return d.toISOString().slice(0, 10);
}

export function daysAgo(n) {
  const d = new Date();
  d.setUTCDate(d.getUTCDate() - n);
  return isoDay(d);
}

export function shortDate(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
}

/** A scrollable table: columns [[header, row => cell, {num: true}], ...]. */
export function table(caption, rows, columns, { empty = 'Nothing to show.' } = {}) {
  if (!rows.length) return h('p', { class: 'empty' }, empty);
  return h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': caption },
    h('table', {},
      h('caption', { class: 'sr-only' }, caption),
      // A column of buttons has no visible title, but its header still names it for screen readers.
      h('thead', {}, h('tr', {}, columns.map(([name, , o]) => h('th', { scope: 'col', class: o && o.num ? 'num' : null }, name || h('span', { class: 'sr-only' }, 'Actions'))))),
      h('tbody', {}, rows.map((r) => h('tr', {}, columns.map(([name, get, o]) => h('td', { class: o && o.num ? 'num' : null, 'data-label': name || null }, h('div', {}, get(r)))))))));
}

/** Sets a button busy while `fn` runs. */
export async function busy(button, fn) {
  const before = button.textContent;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await fn();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
    if (button.textContent === before) button.textContent = before;
  }
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** A page heading that takes focus on navigation, for keyboard and screen-reader users. */
export function heading(text) {
  return h('h1', { tabindex: '-1', class: 'page-title' }, text);
}

export function initials(text) {
  return (text || '?').split(/\s+/).filter(Boolean).slice(0, 2).map((w) => w[0].toUpperCase()).join('');
}

/**
 * Filters that fold away on a phone once results are shown, so the results are on the first
 * screen; open on wider screens.
 */
export function collapsible(form, label = 'Filters') {
  const phone = typeof window !== 'undefined' && window.matchMedia && window.matchMedia('(max-width: 759px)').matches;
  return h('details', { class: 'filter-panel', open: !phone }, h('summary', {}, label), form);
}

// Leaving a screen with unsaved edits asks first: the screen registers a check that returns
// a sentence while something is unsaved (null otherwise); the router and the browser's own
// unload ask before the edits would be lost. A check of a screen no longer shown returns null.
let unsavedCheck = null;
export function guardUnsaved(check) {
  unsavedCheck = check;
}
/** True when nothing unsaved would be lost, or the user agrees to lose it. */
export function mayLeave() {
  const what = unsavedCheck && unsavedCheck();
  return !what || window.confirm(`${what} Leave this screen and lose them?`);
}
if (typeof window !== 'undefined') {
  window.addEventListener('beforeunload', (ev) => {
    if (unsavedCheck && unsavedCheck()) {
      ev.preventDefault();
      ev.returnValue = '';
    }
  });
}

// The account screen, for creators and brands alike: profile, password, sessions and API
// keys (a new key is shown once, with a copy button). Also the brand's invitations.

import { call, allPages } from './api.js';
import { h, clear, field, notice, describe, heading, busy, showFieldErrors, setFieldError, table, shortDate, copyText, toast, select } from './ui.js';

const when = (iso) => (iso ? shortDate(iso) : '—');

function section(title, ...children) {
  return h('section', { class: 'card', 'aria-labelledby': title.replace(/\W+/g, '-').toLowerCase() },
    h('h2', { id: title.replace(/\W+/g, '-').toLowerCase() }, title), ...children);
}

function formError(e, form, msg, passwordInput) {
  if (e.code === 'weak_password' && passwordInput) {
    setFieldError(passwordInput, e.message);
    passwordInput.focus();
    return;
  }
  const rest = showFieldErrors(e, form);
  if (!e.fields.length || rest.length) msg.show(describe(e));
}

// Each section loads on its own and shows its own error in place; a section no longer on the
// page (the user went elsewhere) or a load overtaken by a newer one draws nothing.
const gone = (el) => !el.isConnected;

function profile() {
  const body = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const el = section('Profile', body);
  call('GET', '/account').then((me) => {
    if (gone(el)) return;
    clear(body, profileForm(me));
  }, (e) => {
    if (gone(el)) return;
    clear(body, h('p', { class: 'notice error', role: 'alert' }, describe(e)));
  });
  return el;
}

function profileForm(me) {
  const name = h('input', { name: 'display_name', type: 'text', autocomplete: 'name', value: me.display_name, required: true });
  const email = h('input', { name: 'email', type: 'email', autocomplete: 'email', value: me.email, required: true });
  const msg = notice();
  const save = h('button', { type: 'submit' }, 'Save profile');
  const form = h('form', { novalidate: true }, field('Display name', name), field('Email', email,
    'A new address takes effect once you follow the link we e-mail to it.'), msg.el, save);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    msg.hide();
    [name, email].forEach((c) => setFieldError(c, ''));
    try {
      const r = await busy(save, () => call('PATCH', '/account', { json: { display_name: name.value, email: email.value } }));
      email.value = r.email;
      msg.show(r.email_change_pending ? 'Saved. Check the new address for a confirmation link.' : 'Saved.', 'success');
    } catch (e) {
      formError(e, form, msg);
    }
  });
  const status = me.email_verified
    ? h('p', { class: 'muted' }, `Address confirmed. Account id ${me.id}.`)
    : h('p', { class: 'notice warning' }, 'Your address is not confirmed yet: creating links waits for it. ',
      h('a', { href: '#/resend' }, 'Send a new link'));
  return h('div', {}, status, form);
}

function passwordForm() {
  const current = h('input', { name: 'current_password', type: 'password', autocomplete: 'current-password', required: true });
  const next = h('input', { name: 'new_password', type: 'password', autocomplete: 'new-password', minlength: 10, required: true });
  const msg = notice();
  const save = h('button', { type: 'submit' }, 'Change password');
  const form = h('form', { novalidate: true }, field('Current password', current),
    field('New password', next, 'At least 10 characters. Other sessions are logged out.'), msg.el, save);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    msg.hide();
    [current, next].forEach((c) => setFieldError(c, ''));
    try {
      const r = await busy(save, () => call('POST', '/account/password', { json: { current_password: current.value, new_password: next.value } }));
      form.reset();
      msg.show(`Password changed; ${r.other_sessions_ended} other session(s) logged out.`, 'success');
    } catch (e) {
      if (e.code === 'wrong_password') {
        setFieldError(current, e.message);
        current.focus();
      } else formError(e, form, msg, next);
    }
  });
  return section('Password', form);
}

function sessions() {
  const body = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const msg = notice();
  const el = section('Sessions', msg.el, body);
  let latest = 0;
  async function load() {
    const mine = ++latest;
    let r;
    try {
      r = await call('GET', '/account/sessions');
    } catch (e) {
      if (gone(el) || mine !== latest) return;
      // An error never leaves the previous list looking current.
      clear(body);
      msg.show(describe(e));
      return;
    }
    if (gone(el) || mine !== latest) return;
    msg.hide();
    clear(body, table('Sessions', r.sessions, [
      ['Started', (s) => when(s.created_at)],
      ['Last used', (s) => when(s.last_used_at)],
      ['Address', (s) => s.client_address],
      ['Browser or client', (s) => s.user_agent || '—'],
      ['', (s) => (s.current ? h('span', { class: 'muted' }, 'This session') : h('button', {
        type: 'button', class: 'secondary small', 'aria-label': `Log out the session started ${when(s.created_at)}`,
        onclick: async (ev) => {
          try {
            await busy(ev.currentTarget, () => call('DELETE', `/account/sessions/${encodeURIComponent(s.id)}`));
            toast('Session logged out');
            await load();
          } catch (e) {
            msg.show(describe(e));
          }
        },
      }, 'Log out'))],
    ], { empty: 'No sessions.' }));
  }
  load();
  return el;
}

function apiKeys() {
  const body = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const listMsg = notice();
  const msg = notice();
  const created = h('div', { 'aria-live': 'polite' });
  const name = h('input', { name: 'name', type: 'text', required: true, maxlength: 100 });
  const scope = select('scope', [['read', 'Read only (GET requests)'], ['write', 'Read and write']], 'read');
  const expires = h('input', { name: 'expires_at', type: 'date' });
  const make = h('button', { type: 'submit' }, 'Create key');
  const form = h('form', { novalidate: true, class: 'inline-form' }, field('Key name', name), field('Scope', scope),
    field('Expires (optional)', expires), make);
  let latest = 0;
  let el = null;
  async function load() {
    const mine = ++latest;
    let r;
    try {
      r = await call('GET', '/account/api_keys');
    } catch (e) {
      if (gone(el) || mine !== latest) return;
      clear(body);
      listMsg.show(describe(e));
      return;
    }
    if (gone(el) || mine !== latest) return;
    listMsg.hide();
    clear(body, table('API keys', r.api_keys, [
      ['Name', (k) => k.name],
      ['Key', (k) => h('code', {}, `${k.prefix}…`)],
      ['Scope', (k) => k.scope],
      ['Created', (k) => when(k.created_at)],
      ['Last used', (k) => when(k.last_used_at)],
      ['Expires', (k) => (k.expires_at ? when(k.expires_at) : 'Never')],
      ['', (k) => h('button', {
        type: 'button', class: 'danger small', 'aria-label': `Revoke key ${k.name}`,
        onclick: async (ev) => {
          if (!window.confirm(`Revoke the key "${k.name}"? Scripts using it stop working at once.`)) return;
          try {
            await busy(ev.currentTarget, () => call('DELETE', `/account/api_keys/${encodeURIComponent(k.id)}`));
            toast('Key revoked');
            await load();
          } catch (e) {
            listMsg.show(describe(e));
          }
        },
      }, 'Revoke')],
    ], { empty: 'No API keys yet.' }));
  }
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    msg.hide();
    setFieldError(name, '');
    if (!name.value.trim()) {
      setFieldError(name, 'Required');
      name.focus();
      return;
    }
    const json = { name: name.value, scope: scope.value };
    if (expires.value) json.expires_at = `${expires.value}T23:59:59Z`;
    try {
      const k = await busy(make, () => call('POST', '/account/api_keys', { json }));
      const shown = h('input', { type: 'text', readonly: true, value: k.key, 'aria-label': 'New API key', class: 'mono' });
      const copy = h('button', { type: 'button', class: 'secondary small' }, 'Copy key');
      copy.addEventListener('click', async () => {
        try {
          await copyText(k.key, shown);
          toast('Key copied to the clipboard');
        } catch {
          toast('Could not copy: select the key and copy it by hand');
        }
      });
      clear(created, h('div', { class: 'notice success', role: 'status' },
        h('p', {}, `Key "${k.name}" created. Copy it now: it is not shown again.`), shown, copy,
        h('p', { class: 'hint' }, 'Use it as: Authorization: Bearer <key>')));
      form.reset();
      await load();
    } catch (e) {
      formError(e, form, msg);
    }
  });
  el = section('API keys', h('p', { class: 'muted' }, 'Keys let scripts call the API without your password.'), form, created, msg.el, listMsg.el, body);
  load();
  return el;
}

export function account(main) {
  clear(main, heading('Account'), profile(), passwordForm(), sessions(), apiKeys());
}

/** The brand's invitations: send one, see their status, withdraw a pending one. */
export async function invitations(main, params) {
  const msg = notice();
  const brand = h('select', { name: 'brand' });
  const body = h('div');
  const email = h('input', { name: 'email', type: 'email', autocomplete: 'off', required: true });
  const commission = h('input', { name: 'commission', type: 'number', min: 0, max: 100, step: 0.01 });
  const note = h('textarea', { name: 'message', maxlength: 1000, rows: 3 });
  const send = h('button', { type: 'submit' }, 'Send invitation');
  const sendMsg = notice();
  const form = h('form', { novalidate: true }, field('Creator\'s email', email),
    field('Commission for this creator, % (optional)', commission, 'Empty: your brand\'s usual rates.'),
    field('Message (optional)', note), sendMsg.el, send);
  const listMsg = notice();
  const title = heading('Invitations');
  clear(main, title, msg.el, field('Brand', brand), h('h2', {}, 'Invite a creator'), form,
    h('h2', {}, 'Sent invitations'), listMsg.el, body);
  // Only the newest load of the screen still shown draws: a slow answer for the brand picked
  // before, or one arriving after the user went elsewhere, is dropped.
  let latest = 0;
  async function load() {
    const mine = ++latest;
    const brandId = brand.value;
    if (!brandId) return;
    listMsg.hide();
    // The previous brand's rows never stand under the newly picked brand.
    clear(body, h('p', { class: 'muted' }, 'Loading…'));
    history.replaceState(null, '', `#/invitations?brand=${encodeURIComponent(brandId)}`);
    let r;
    try {
      r = await call('GET', `/sellers/brands/${encodeURIComponent(brandId)}/invitations`);
    } catch (e) {
      if (mine !== latest || !title.isConnected) return;
      clear(body);
      listMsg.show(describe(e));
      return;
    }
    if (mine !== latest || !title.isConnected) return;
    clear(body, table('Invitations', r.invitations, [
      ['Email', (i) => i.email],
      ['Status', (i) => i.status],
      ['Commission', (i) => (i.commission === null ? 'Brand rates' : `${i.commission}%`)],
      ['Sent', (i) => when(i.created_at)],
      ['Expires', (i) => when(i.expires_at)],
      ['', (i) => (i.status === 'pending' ? h('button', {
        type: 'button', class: 'secondary small', 'aria-label': `Withdraw the invitation to ${i.email}`,
        onclick: async (ev) => {
          try {
            // The brand the row belongs to, whatever the picker says by now.
            await busy(ev.currentTarget, () => call('DELETE', `/sellers/brands/${encodeURIComponent(brandId)}/invitations/${encodeURIComponent(i.id)}`));
            toast('Invitation withdrawn');
            await load();
          } catch (e) {
            listMsg.show(describe(e));
          }
        },
      }, 'Withdraw') : null)],
    ], { empty: 'No invitations yet.' }));
  }
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    sendMsg.hide();
    setFieldError(email, '');
    if (!email.value.trim()) {
      setFieldError(email, 'Required');
      email.focus();
      return;
    }
    const json = { email: email.value };
    if (commission.value !== '') json.commission = Number(commission.value);
    if (note.value.trim()) json.message = note.value;
    try {
      await busy(send, () => call('POST', `/sellers/brands/${encodeURIComponent(brand.value)}/invitations`, { json }));
      sendMsg.show(`Invitation sent to ${email.value.trim()}.`, 'success');
      form.reset();
      await load();
    } catch (e) {
      formError(e, form, sendMsg);
    }
  });
  brand.addEventListener('change', () => load());
  let r;
  try {
    r = await allPages('/sellers/brands', { limit: 500 }, 'brands', 5);
  } catch (e) {
    if (title.isConnected) msg.show(describe(e));
    return;
  }
  if (!title.isConnected) return;
  for (const b of r.rows) brand.append(h('option', { value: b.brand_id, selected: b.brand_id === params.get('brand') }, `${b.brand_name} (${b.program_mode})`));
  await load();
}

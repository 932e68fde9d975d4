// Joining without a session: sign up, verify the address, ask for a new link, forgotten
// passwords, and accepting a brand's invitation. Links in Quiver's e-mails open these
// screens (#/verify?token=..., #/reset?token=..., #/invitation?token=...); the token stays
// in the fragment, which the browser never sends to a server.

import { ApiError, NetworkError, session, login, logout, call } from './api.js';
import { h, clear, field, notice, describe, heading, busy, showFieldErrors, setFieldError } from './ui.js';

/** POSTs JSON without needing a session. */
export async function post(path, json) {
  let res;
  try {
    res = await fetch(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(json),
    });
  } catch {
    throw new NetworkError();
  }
  const body = await res.json().catch(() => null);
  if (!res.ok) {
    const v = Number(res.headers.get('Retry-After'));
    throw new ApiError(res.status, body, Number.isFinite(v) && v > 0 ? v : null);
  }
  return body;
}

function input(name, type, autocomplete, extra = {}) {
  return h('input', { name, type, autocomplete, required: true, ...extra });
}

/** Shows an API error next to its field when there is one, else in `msg`. */
function fail(e, form, msg, passwordInput) {
  if (e.code === 'weak_password' && passwordInput) {
    setFieldError(passwordInput, e.message);
    passwordInput.focus();
    return;
  }
  const rest = showFieldErrors(e, form);
  if (!e.fields.length || rest.length) msg.show(describe(e));
}

function card(title, ...children) {
  return h('div', { class: 'card login' }, heading(title), ...children);
}

const back = () => h('p', { class: 'hint' }, h('a', { href: '#/' }, 'Back to log in'));

const PASSWORD_HINT = 'At least 10 characters. A few unrelated words make a strong password.';

export function signup(main) {
  document.title = 'Create an account · Quiver';
  const name = input('display_name', 'text', 'name');
  const email = input('email', 'email', 'email');
  const password = input('password', 'password', 'new-password', { minlength: 10 });
  const msg = notice();
  const submit = h('button', { type: 'submit' }, 'Create account');
  const form = h('form', { novalidate: true }, field('Display name', name), field('Email', email),
    field('Password', password, PASSWORD_HINT), msg.el, submit);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    msg.hide();
    [name, email, password].forEach((c) => setFieldError(c, ''));
    const empty = [name, email, password].find((c) => !c.value.trim());
    if (empty) {
      setFieldError(empty, 'Required');
      empty.focus();
      return;
    }
    try {
      const r = await busy(submit, () => post('/signup', { email: email.value, password: password.value, display_name: name.value }));
      clear(main, card('Check your inbox', h('p', { role: 'status' }, r.detail),
        h('p', {}, `We sent a confirmation link to ${email.value.trim()}. You can log in already; creating links waits for the confirmation.`),
        back()));
    } catch (e) {
      fail(e, form, msg, password);
    }
  });
  clear(main, card('Create a creator account', form,
    h('p', { class: 'hint' }, 'Already have an account? ', h('a', { href: '#/' }, 'Log in'))));
  name.focus();
}

export async function verify(main, params) {
  document.title = 'Confirm your address · Quiver';
  const status = h('p', { role: 'status' }, 'Confirming your address…');
  clear(main, card('Confirm your address', status));
  try {
    const r = await post('/signup/verify', { token: params.get('token') || '' });
    status.textContent = `Thank you: ${r.email} is confirmed.`;
    main.firstChild.append(session()
      ? h('p', {}, h('a', { href: '#/' }, 'Continue'))
      : h('p', {}, h('a', { href: '#/' }, 'Log in')));
  } catch (e) {
    status.textContent = describe(e);
    status.className = 'notice error';
    main.firstChild.append(h('p', {}, h('a', { href: '#/resend' }, 'Send me a new link')));
  }
}

function emailOnly(main, { title, intro, path, button }) {
  document.title = `${title} · Quiver`;
  const email = input('email', 'email', 'email', { value: (session() || {}).email || '' });
  const msg = notice();
  const submit = h('button', { type: 'submit' }, button);
  const form = h('form', { novalidate: true }, field('Email', email), msg.el, submit);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    msg.hide();
    setFieldError(email, '');
    if (!email.value.trim()) {
      setFieldError(email, 'Required');
      email.focus();
      return;
    }
    try {
      const r = await busy(submit, () => post(path, { email: email.value }));
      msg.show(r.detail, 'success');
    } catch (e) {
      fail(e, form, msg);
    }
  });
  clear(main, card(title, h('p', { class: 'muted' }, intro), form, back()));
  email.focus();
}

export function resend(main) {
  emailOnly(main, {
    title: 'Send a new confirmation link',
    intro: 'The link works once, for 48 hours. A new one replaces the old ones.',
    path: '/signup/resend',
    button: 'Send link',
  });
}

export function forgot(main) {
  emailOnly(main, {
    title: 'Forgot your password?',
    intro: 'We e-mail you a link to choose a new one. It works once, for one hour.',
    path: '/password/forgot',
    button: 'Send reset link',
  });
}

export function reset(main, params) {
  document.title = 'Choose a new password · Quiver';
  const password = input('password', 'password', 'new-password', { minlength: 10 });
  const msg = notice();
  const submit = h('button', { type: 'submit' }, 'Set password');
  const form = h('form', { novalidate: true }, field('New password', password, PASSWORD_HINT), msg.el, submit);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    msg.hide();
    setFieldError(password, '');
    if (!password.value) {
      setFieldError(password, 'Required');
      password.focus();
      return;
    }
    try {
      await busy(submit, () => post('/password/reset', { token: params.get('token') || '', password: password.value }));
      await logout().catch(() => {});
      clear(main, card('Password changed', h('p', { role: 'status' }, 'Your new password is set, and every session was logged out.'),
        h('p', {}, h('a', { href: '#/' }, 'Log in'))));
    } catch (e) {
      fail(e, form, msg, password);
    }
  });
  clear(main, card('Choose a new password', form, back()));
  password.focus();
}

export async function invitation(main, params) {
  document.title = 'Invitation · Quiver';
  const token = params.get('token') || '';
  let view;
  try {
    view = await post('/invitations/lookup', { token });
  } catch (e) {
    clear(main, card('Invitation', h('p', { class: 'notice error', role: 'alert' }, describe(e)), back()));
    return;
  }
  const intro = [h('p', {}, `${view.brand_name} invites you to promote its products on Quiver.`),
    view.message ? h('blockquote', {}, view.message) : null];
  const msg = notice();
  const done = (r) => clear(main, card('Invitation accepted',
    h('p', { role: 'status' }, `You may now promote ${r.brand_name}'s products.`),
    h('p', {}, h('a', { href: '#/catalog' }, r.account_created ? 'Log in to start' : 'Go to the catalog'))));
  const s = session();
  if (s && s.kind === 'publisher') {
    const accept = h('button', { type: 'button' }, `Accept as ${s.email}`);
    accept.addEventListener('click', async () => {
      msg.hide();
      try {
        done(await busy(accept, () => call('POST', '/invitations/accept', { json: { token } })));
      } catch (e) {
        msg.show(describe(e));
      }
    });
    clear(main, card(`Join ${view.brand_name}`, ...intro, msg.el, accept));
    return;
  }
  if (view.account_exists) {
    const password = input('password', 'password', 'current-password');
    const submit = h('button', { type: 'submit' }, 'Log in and accept');
    const form = h('form', { novalidate: true }, field('Password', password, `For ${view.email}`), msg.el, submit);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      msg.hide();
      try {
        await busy(submit, async () => {
          await login(view.email, password.value);
          done(await call('POST', '/invitations/accept', { json: { token } }));
        });
      } catch (e) {
        msg.show(describe(e));
      }
    });
    clear(main, card(`Join ${view.brand_name}`, ...intro, form));
    password.focus();
    return;
  }
  const name = input('display_name', 'text', 'name');
  const password = input('password', 'password', 'new-password', { minlength: 10 });
  const submit = h('button', { type: 'submit' }, 'Create account and accept');
  const form = h('form', { novalidate: true }, h('p', { class: 'muted' }, `Your account will use ${view.email}.`),
    field('Display name', name), field('Password', password, PASSWORD_HINT), msg.el, submit);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    msg.hide();
    [name, password].forEach((c) => setFieldError(c, ''));
    const empty = [name, password].find((c) => !c.value.trim());
    if (empty) {
      setFieldError(empty, 'Required');
      empty.focus();
      return;
    }
    try {
      const r = await busy(submit, () => post('/invitations/accept', { token, password: password.value, display_name: name.value }));
      await login(view.email, password.value);
      done(r);
    } catch (e) {
      fail(e, form, msg, password);
    }
  });
  clear(main, card(`Join ${view.brand_name}`, ...intro, form));
  name.focus();
}

/** Screens reachable without logging in, by route name. */
export const PUBLIC = { signup, verify, resend, forgot, reset, invitation };

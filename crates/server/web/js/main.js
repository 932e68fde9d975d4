// Shell: login, navigation and hash routing (#/catalog, #/links, ...). Every screen is a
// function (main element, params) that renders into <main>.

import { session, login, logout, SESSION_KEY } from './api.js';
import { h, clear, field, notice, describe, heading, busy, mayLeave } from './ui.js';
import * as creator from './creator.js';
import * as seller from './seller.js';
import { creatorReport, sellerReport } from './reports.js';
import { account, invitations } from './account.js';
import { PUBLIC } from './join.js';
import { linkClicks, brandClicks } from './clicks.js';
import { bulk } from './bulk.js';
import { accessRequests, profile } from './access.js';
import { requests, grants } from './brand-access.js';
import { overview, pendingBadge } from './overview.js';
import { earnings } from './earnings.js';
import { statements } from './statements.js';
import { amazon, reconnectBanner, hideReconnectBanner } from './amazon.js';
import { webhooks } from './webhooks.js';

const ROUTES = {
  publisher: [
    ['catalog', 'Catalog', creator.catalog],
    ['links', 'My links', creator.links],
    ['reports', 'Reports', creatorReport],
    ['clicks', 'Clicks', linkClicks],
    ['bulk', 'Bulk upload', bulk],
    ['access', 'Access requests', accessRequests],
    ['profile', 'My profile', profile],
    ['earnings', 'Earnings', earnings],
    ['webhooks', 'Webhooks', webhooks],
    ['account', 'Account', account],
  ],
  seller: [
    ['overview', 'Overview', overview],
    ['brands', 'Brands & products', seller.brands],
    ['amazon', 'Amazon', amazon],
    ['requests', 'Access requests', requests],
    ['grants', 'Grants', grants],
    ['seller-report', 'Report', sellerReport],
    ['seller-clicks', 'Clicks', brandClicks],
    ['statements', 'Statements', statements],
    ['invitations', 'Invitations', invitations],
    ['webhooks', 'Webhooks', webhooks],
    ['account', 'Account', account],
  ],
};

const main = document.getElementById('main');
const topbar = document.getElementById('topbar');
const nav = document.getElementById('nav');
const who = document.getElementById('who');
const navToggle = document.getElementById('nav-toggle');
const alerts = document.getElementById('alerts');
let loginMessage = null;

function currentRoute() {
  const [path, query = ''] = location.hash.replace(/^#\/?/, '').split('?');
  return { name: path, params: new URLSearchParams(query) };
}

function render() {
  const s = session();
  const pub = currentRoute();
  if (PUBLIC[pub.name]) {
    // Links from e-mails: they work logged in or not.
    topbar.hidden = true;
    hideReconnectBanner(alerts);
    clear(main);
    PUBLIC[pub.name](main, pub.params);
    return;
  }
  if (!s || !s.kind) {
    topbar.hidden = true;
    hideReconnectBanner(alerts);
    renderLogin();
    return;
  }
  const routes = ROUTES[s.kind];
  const { name, params } = currentRoute();
  const route = routes.find(([n]) => n === name);
  if (!route) {
    location.replace(`#/${routes[0][0]}`);
    return;
  }
  topbar.hidden = false;
  who.textContent = `${s.email} (${s.kind === 'seller' ? 'brand' : 'creator'})`;
  clear(nav, routes.map(([n, label]) => h('a', { href: `#/${n}`, 'aria-current': n === name ? 'page' : null }, label)));
  // Going to a screen closes the phone menu; the current screen's name is on its button.
  setMenu(false);
  navToggle.textContent = `Menu: ${route[1]}`;
  if (s.kind === 'seller') {
    badge();
    reconnectBanner(alerts);
  } else {
    hideReconnectBanner(alerts);
  }
  clear(main);
  document.title = `${route[1]} · Quiver`;
  Promise.resolve(route[2](main, params)).then(() => {
    const title = main.querySelector('.page-title');
    if (title && document.activeElement === document.body) title.focus({ preventScroll: true });
  });
}

/**
 * On a phone the navigation is a menu behind one button (every route of ROUTES is in it, so
 * screens added there appear without more work); on wider screens the CSS shows the links and
 * hides the button, and the state below changes nothing visible.
 */
function setMenu(open) {
  navToggle.setAttribute('aria-expanded', String(open));
  topbar.classList.toggle('nav-open', open);
}
navToggle.addEventListener('click', () => {
  const open = navToggle.getAttribute('aria-expanded') !== 'true';
  setMenu(open);
  if (open) nav.querySelector('a[aria-current="page"], a')?.focus();
});
topbar.addEventListener('keydown', (ev) => {
  if (ev.key !== 'Escape' || navToggle.getAttribute('aria-expanded') !== 'true') return;
  setMenu(false);
  navToggle.focus();
});
/** The pending-requests badge, on its link and (for phones, where the links fold away) on the menu button. */
async function badge() {
  await pendingBadge(nav);
  navToggle.querySelector('.nav-badge')?.remove();
  const b = nav.querySelector('.nav-badge');
  if (b) navToggle.append(' ', b.cloneNode(true));
}
// A choice in the menu closes it even when it names the screen already shown.
nav.addEventListener('click', (ev) => { if (ev.target.closest('a')) setMenu(false); });

let loginNotice = null;

function renderLogin() {
  document.title = 'Log in · Quiver';
  // Already on screen (the address changed while logged out): keep what was typed.
  if (loginNotice && main.querySelector('form.login')) {
    if (loginMessage) loginNotice.show(loginMessage, 'info');
    return;
  }
  const email = h('input', { type: 'email', name: 'username', autocomplete: 'username', required: true });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const msg = notice();
  loginNotice = msg;
  const submit = h('button', { type: 'submit' }, 'Log in');
  const form = h('form', { class: 'card login', novalidate: true },
    heading('Log in to Quiver'),
    h('p', { class: 'muted' }, 'Creators and brands use the same login.'),
    field('Email', email),
    field('Password', password),
    msg.el,
    submit,
    h('p', { class: 'hint' }, h('a', { href: '#/signup' }, 'Create an account'), ' · ', h('a', { href: '#/forgot' }, 'Forgot your password?')),
    h('p', { class: 'hint' }, 'Demo: creator@example.com, creator2@example.com, brand@example.com or brand2@example.com (a brand not yet connected to Amazon), password quiver-demo.'));
  // Kept until the next login: a re-render (the address changing) must not lose it.
  if (loginMessage) msg.show(loginMessage, 'info');
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    msg.hide();
    if (!email.value.trim() || !password.value) {
      msg.show('Enter your email and password.');
      (email.value.trim() ? password : email).focus();
      return;
    }
    try {
      await busy(submit, () => login(email.value, password.value));
      loginMessage = null;
      // The address (screen and filters) the user came with, or had when the session
      // ended, is where they continue.
      render();
    } catch (e) {
      msg.show(describe(e));
      password.select();
    }
  });
  clear(main, form);
  email.focus();
}

/** Ends what belongs to the session on screen: open dialogs close, the login shows `why`. */
function sessionEnded(why) {
  for (const d of document.querySelectorAll('dialog')) {
    if (d.open) d.close();
    d.remove();
  }
  loginMessage = why;
  render();
}

document.getElementById('logout').addEventListener('click', () => {
  // The session is forgotten at once; revoking it on the server goes on meanwhile, so a
  // quick new login is never undone by this handler finishing late.
  logout();
  location.hash = '';
  sessionEnded('You are logged out.');
});

window.addEventListener('quiver:expired', () => {
  sessionEnded('You are logged out: your session has expired. Please log in again.');
});
// Another tab logged in or out: follow it.
window.addEventListener('storage', (ev) => {
  if (ev.key !== SESSION_KEY && ev.key !== null) return;
  const was = Boolean(ev.oldValue);
  const now = Boolean(session());
  if (was && !now) sessionEnded('You are logged out (from another tab).');
  else if (!was && now) render();
});
window.addEventListener('hashchange', (ev) => {
  // An unsaved edit on the screen being left: stay unless the user agrees to lose it.
  if (session() && !mayLeave()) {
    history.replaceState(null, '', ev.oldURL);
    return;
  }
  render();
});
window.addEventListener('quiver:requests-changed', () => { if (session()?.kind === 'seller') badge(); });
window.addEventListener('quiver:amazon-changed', () => { if (session()?.kind === 'seller') reconnectBanner(alerts); });
render();

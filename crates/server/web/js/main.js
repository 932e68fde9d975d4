// Shell: login, navigation and hash routing (#/catalog, #/links, ...). Every screen is a
// function (main element, params) that renders into <main>.

import { session, login, logout } from './api.js';
import { h, clear, field, notice, describe, heading, busy } from './ui.js';
import * as creator from './creator.js';
import * as seller from './seller.js';
import { creatorReport, sellerReport } from './reports.js';
import { account, invitations } from './account.js';
import { PUBLIC } from './join.js';

const ROUTES = {
  publisher: [
    ['catalog', 'Catalog', creator.catalog],
    ['links', 'My links', creator.links],
    ['reports', 'Reports', creatorReport],
    ['bulk', 'Bulk upload', creator.bulk],
    ['access', 'Access requests', creator.accessRequests],
    ['account', 'Account', account],
  ],
  seller: [
    ['brands', 'Brands & products', seller.brands],
    ['requests', 'Access requests', seller.requests],
    ['grants', 'Grants', seller.grants],
    ['seller-report', 'Report', sellerReport],
    ['invitations', 'Invitations', invitations],
    ['account', 'Account', account],
  ],
};

const main = document.getElementById('main');
const topbar = document.getElementById('topbar');
const nav = document.getElementById('nav');
const who = document.getElementById('who');
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
    clear(main);
    PUBLIC[pub.name](main, pub.params);
    return;
  }
  if (!s || !s.kind) {
    topbar.hidden = true;
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
  clear(main);
  document.title = `${route[1]} · Quiver`;
  Promise.resolve(route[2](main, params)).then(() => {
    const title = main.querySelector('.page-title');
    if (title && document.activeElement === document.body) title.focus({ preventScroll: true });
  });
}

function renderLogin() {
  document.title = 'Log in · Quiver';
  const email = h('input', { type: 'email', name: 'username', autocomplete: 'username', required: true });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const msg = notice();
  const submit = h('button', { type: 'submit' }, 'Log in');
  const form = h('form', { class: 'card login', novalidate: true },
    heading('Log in to Quiver'),
    h('p', { class: 'muted' }, 'Creators and brands use the same login.'),
    field('Email', email),
    field('Password', password),
    msg.el,
    submit,
    h('p', { class: 'hint' }, h('a', { href: '#/signup' }, 'Create an account'), ' · ', h('a', { href: '#/forgot' }, 'Forgot your password?')),
    h('p', { class: 'hint' }, 'Demo: creator@example.com, creator2@example.com or brand@example.com, password quiver-demo.'));
  if (loginMessage) {
    msg.show(loginMessage, 'info');
    loginMessage = null;
  }
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
      location.hash = '';
      render();
    } catch (e) {
      msg.show(describe(e));
      password.select();
    }
  });
  clear(main, form);
  email.focus();
}

document.getElementById('logout').addEventListener('click', async () => {
  await logout();
  loginMessage = 'You are logged out.';
  location.hash = '';
  render();
});

window.addEventListener('quiver:expired', () => {
  loginMessage = 'Your session has expired. Please log in again.';
  render();
});
window.addEventListener('hashchange', render);
render();

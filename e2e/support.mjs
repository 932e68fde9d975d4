// What every browser test file shares: the run's settings (from e2e/run.sh), one Chromium,
// the current page, and the helpers the files used to repeat. `page` and `context` are live
// bindings: newPage() replaces them and every importer sees the new ones.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const BASE = process.env.QUIVER_URL;
export const MAILBOX = process.env.QUIVER_E2E_MAILBOX;
export const DB = process.env.QUIVER_E2E_DATABASE;
export const SHOTS = process.env.QUIVER_E2E_SCREENSHOTS || path.resolve('artifacts/screenshots');
export const BIN = process.env.QUIVER_E2E_BIN
  || path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../target/debug/quiver');
export const PASSWORD = 'quiver-demo';
export const CREATOR = 'creator@example.com';
export const BRAND = 'brand@example.com';
export const TIMEOUT = 15_000;
export const PHONE = { width: 390, height: 844 };
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

if (!BASE) throw new Error('QUIVER_URL is not set: run the suite with e2e/run.sh');

export let browser;
export let context;
export let page;
/** Messages the browser logged as errors (CSP violations, uncaught exceptions). */
export const consoleErrors = [];
/** Answers of 400 or more the pages received, as "status METHOD /path". */
export const failedResponses = [];

/** Starts Chromium (and makes the screenshot folder); call it from `before`. */
export async function launch() {
  mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: process.env.QUIVER_E2E_CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return browser;
}

/** Stops Chromium; call it from `after`. */
export async function closeBrowser() {
  if (browser) await browser.close();
  browser = undefined;
  context = undefined;
  page = undefined;
}

/**
 * A page in a context of its own, not the shared one (for a second browser next to it).
 * `picture`: an SVG every catalog image gets; by default the demo catalog's image host, which
 * does not exist, fails at once (initials show).
 */
export async function openPage(viewport = { width: 1280, height: 860 }, { picture } = {}) {
  const ctx = await browser.newContext({ viewport, acceptDownloads: true });
  await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: BASE });
  ctx.setDefaultTimeout(TIMEOUT);
  await ctx.route('https://assets.quiver.example/**', (r) => (picture
    ? r.fulfill({ status: 200, contentType: 'image/svg+xml', body: picture })
    : r.abort()));
  const p = await ctx.newPage();
  watch(p);
  return p;
}

/** Records a page's console errors and failed answers in consoleErrors / failedResponses. */
export function watch(p) {
  p.on('console', (m) => {
    // A failed HTTP answer is logged as "Failed to load resource"; those are checked, with
    // their URL, through failedResponses.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) consoleErrors.push(m.text());
  });
  p.on('response', (r) => {
    if (r.status() >= 400) failedResponses.push(`${r.status()} ${r.request().method()} ${new URL(r.url()).pathname}`);
  });
  p.on('pageerror', (e) => consoleErrors.push(String(e)));
  return p;
}

/** Replaces the shared page (and its context) with a fresh one. */
export async function newPage(viewport, options) {
  if (context) await context.close();
  page = await openPage(viewport, options);
  context = page.context();
  return page;
}

/** Makes `p` (a page of the shared context, e.g. a second tab) the shared page. */
export function usePage(p) {
  page = p;
  context = p.context();
  return p;
}

export async function shot(name, fullPage = true) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage });
}

/** Logs in on the login screen (storage cleared first) and waits for the app. */
export async function login(email, password = PASSWORD, p = page) {
  await p.goto(`${BASE}/app`);
  await p.evaluate(() => { sessionStorage.clear(); localStorage.clear(); });
  await p.reload();
  await p.getByLabel('Email').fill(email);
  await p.getByLabel('Password').fill(password);
  await p.getByRole('button', { name: 'Log in' }).click();
  await p.getByRole('button', { name: 'Log out' }).waitFor();
}

/** Calls the API with the page's own session; a JSON body goes in `init.body`. */
export function api(pathAndQuery, init = {}) {
  return page.evaluate(async ([p, i]) => {
    const s = JSON.parse(localStorage.getItem('quiver.session') || sessionStorage.getItem('quiver.session'));
    const headers = { Authorization: `Bearer ${s.access}` };
    if (i.body !== undefined) headers['Content-Type'] = 'application/json';
    const r = await fetch(p, { ...i, headers });
    if (!r.ok) throw new Error(`${r.status} ${p}`);
    return r.json();
  }, [pathAndQuery, init]);
}

/** axe-core's violations on the current page. Evaluated through the debugger protocol, so
 * the app's CSP (no inline scripts) stays in force for the app itself. */
export async function axeViolations() {
  await page.evaluate(AXE);
  return page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => `${v.id} ×${v.nodes.length}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
  });
}

export async function noHorizontalScroll(where = '') {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no horizontal scrolling${where ? ` on ${where}` : ''} (${overflow}px too wide)`);
}

/** A creator account of the calling file's own, straight in the server's database. */
export function createCreator(email, name) {
  assert.ok(DB, 'QUIVER_E2E_DATABASE names the server database');
  execFileSync(BIN, ['admin', 'create-account', '--database-url', `sqlite://${DB}`, '--email', email, '--password', PASSWORD, '--name', name], { stdio: 'pipe' });
}

/** The address of the `screen` link (…#/screen?token=…) in the latest e-mail to `to`. */
export async function linkFor(to, screen) {
  assert.ok(MAILBOX, 'QUIVER_E2E_MAILBOX names the run\'s mail sink');
  for (let i = 0; i < 100; i++) {
    const all = await (await fetch(`${MAILBOX}/messages`)).json();
    const mine = all.filter((m) => m.to.includes(to));
    if (mine.length) {
      const text = mine[mine.length - 1].data.replace(/=\n/g, '').replace(/=3D/g, '=');
      const m = text.match(new RegExp(`#/${screen}\\?token=([A-Za-z0-9_-]+)`));
      if (m) return `${BASE}/app/#/${screen}?token=${m[1]}`;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no ${screen} e-mail to ${to}`);
}

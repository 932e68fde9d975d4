// Webhooks in the web app (issue #21): a creator registers an endpoint pointing at a small
// receiver this test starts, which verifies every delivery with the official
// `standardwebhooks` package; creating a link and a bulk job there makes verified
// `link.created` and `bulk_job.finished` arrive, and the deliveries table shows them.
// run.sh starts the server with QUIVER_WEBHOOK_ALLOW_HTTP=1 and QUIVER_WEBHOOK_ALLOW_PRIVATE=1.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { Webhook } from 'standardwebhooks';

const BASE = process.env.QUIVER_URL;
const DB = process.env.QUIVER_E2E_DATABASE;
const SHOTS = process.env.QUIVER_E2E_SCREENSHOTS || path.resolve('artifacts/screenshots');
const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../target/debug/quiver');
const PASSWORD = 'quiver-demo';
const HOOKER = 'hook-creator@example.com';
const TIMEOUT = 15_000;
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

if (!BASE) throw new Error('QUIVER_URL is not set: run the suite with e2e/run.sh');

let browser;
let context;
let page;
const consoleErrors = [];

// The receiver: verifies each request with the endpoint's secret (known once registered).
let secret = null;
const verified = [];
const rejected = [];
let receiver;
let receiverUrl;

function startReceiver() {
  receiver = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      try {
        if (!secret) throw new Error('no secret yet');
        const event = new Webhook(secret).verify(body, req.headers);
        verified.push({ id: req.headers['webhook-id'], type: event.type, data: event.data });
        res.writeHead(204).end();
      } catch (e) {
        rejected.push(String(e));
        res.writeHead(400).end();
      }
    });
  });
  return new Promise((resolve) => receiver.listen(0, '127.0.0.1', () => {
    receiverUrl = `http://127.0.0.1:${receiver.address().port}/quiver-hook`;
    resolve();
  }));
}

async function waitFor(what, check, ms = 30_000) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`${what}: verified ${JSON.stringify(verified.map((v) => v.type))}, rejected ${JSON.stringify(rejected)}`);
}

async function newPage(viewport = { width: 1280, height: 860 }) {
  if (context) await context.close();
  context = await browser.newContext({ viewport });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: BASE });
  context.setDefaultTimeout(TIMEOUT);
  await context.route('https://assets.quiver.example/**', (r) => r.abort());
  page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
}

async function login(email) {
  await page.goto(`${BASE}/app`);
  await page.evaluate(() => { sessionStorage.clear(); localStorage.clear(); });
  await page.reload();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('button', { name: 'Log out' }).waitFor();
}

async function shot(name, fullPage = true) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage });
}

async function axeViolations() {
  await page.evaluate(AXE);
  return page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => `${v.id} ×${v.nodes.length}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
  });
}

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  assert.ok(DB, 'QUIVER_E2E_DATABASE names the server database');
  execFileSync(BIN, ['admin', 'create-account', '--database-url', `sqlite://${DB}`, '--email', HOOKER, '--password', PASSWORD, '--name', 'Hook Creator'], { stdio: 'pipe' });
  await startReceiver();
  browser = await chromium.launch({
    executablePath: process.env.QUIVER_E2E_CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  await newPage();
});

after(async () => {
  if (browser) await browser.close();
  if (receiver) receiver.close();
});

test('a creator registers an endpoint; the secret is shown once and copies', async () => {
  await login(HOOKER);
  await page.getByRole('link', { name: 'Webhooks' }).click();
  await page.getByRole('heading', { name: 'Webhooks' }).waitFor();
  await page.getByText('No endpoints yet: add one below.').waitFor();

  // Nothing chosen: a clear error, nothing sent.
  await page.getByLabel('Endpoint URL').fill(receiverUrl);
  await page.getByRole('button', { name: 'Add endpoint' }).click();
  await page.getByText('Choose at least one event.').waitFor();

  await page.getByLabel('Description (optional)').fill('e2e receiver');
  await page.getByLabel(/link\.created/).check();
  await page.getByLabel(/bulk_job\.finished/).check();
  await page.getByRole('button', { name: 'Add endpoint' }).click();
  const box = page.getByRole('textbox', { name: 'Signing secret' });
  await box.waitFor();
  secret = await box.inputValue();
  assert.match(secret, /^whsec_/);
  await page.getByRole('button', { name: 'Copy secret' }).click();
  await page.getByRole('button', { name: 'Copied' }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
  const card = page.locator('li.endpoint').filter({ hasText: receiverUrl });
  await card.getByText('Enabled').waitFor();
  await card.getByText('e2e receiver').waitFor();
  await shot('60-webhooks-created');
  assert.deepEqual(await axeViolations(), []);

  // Reloaded, the secret is gone for good.
  await page.reload();
  await page.locator('li.endpoint').filter({ hasText: receiverUrl }).waitFor();
  assert.equal(await page.getByRole('textbox', { name: 'Signing secret' }).count(), 0);
});

test('a link and a bulk job made in the app arrive verified, and the deliveries show them', async () => {
  await page.getByRole('link', { name: 'Catalog' }).click();
  await page.getByLabel('Search').fill('Trail Backpack');
  await page.getByLabel('Marketplace').selectOption('amazon.com');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  const product = page.locator('li.product').filter({ hasText: 'Northwind Trail Backpack 30L' }).filter({ hasText: ' · amazon.com' }).first();
  await product.getByRole('button', { name: /Create link/ }).click();
  const dialog = page.getByRole('dialog', { name: 'Create a link' });
  await dialog.getByLabel('Link name').fill('hook-single');
  await dialog.getByRole('button', { name: 'Create link' }).click();
  await dialog.getByRole('textbox', { name: /Link URL/ }).waitFor();
  await page.keyboard.press('Escape');

  await page.getByRole('link', { name: 'Bulk upload' }).click();
  await page.getByLabel('Or paste CSV').fill('asin,link_name,marketplace\nB0D45KS7QM,hook-bulk-1,amazon.de\n');
  await page.getByText('1 row ready to send.').waitFor();
  await page.getByRole('button', { name: 'Upload and create links' }).click();
  await page.getByText(/Done: 1 of 1 processed, 1 created/).waitFor({ timeout: 60_000 });

  await waitFor('link.created and bulk_job.finished verified', () => verified.some((v) => v.type === 'link.created' && v.data.link_name === 'hook-single')
    && verified.some((v) => v.type === 'bulk_job.finished'));
  assert.deepEqual(rejected, [], 'every delivery verified');
  const job = verified.find((v) => v.type === 'bulk_job.finished');
  assert.equal(job.data.status, 'done');
  assert.equal(job.data.succeeded, 1);
  // Receivers dedupe on webhook-id: each event came once here.
  assert.equal(new Set(verified.map((v) => v.id)).size, verified.length);

  await page.getByRole('link', { name: 'Webhooks' }).click();
  const card = page.locator('li.endpoint').filter({ hasText: receiverUrl });
  await card.getByRole('button', { name: /^Deliveries of/ }).click();
  const table = page.getByRole('region', { name: 'Deliveries' });
  for (const type of ['link.created', 'bulk_job.finished']) {
    const row = table.locator('tbody tr').filter({ hasText: type }).first();
    await row.getByText('delivered').waitFor();
    await row.getByText('204').waitFor();
  }
  await shot('61-webhooks-deliveries');
  assert.deepEqual(await axeViolations(), []);

  // A test ping arrives verified too, and a delivery can be sent again (same webhook-id).
  await card.getByRole('button', { name: /^Send test to/ }).click();
  await waitFor('ping verified', () => verified.some((v) => v.type === 'ping'));
  const pingId = verified.find((v) => v.type === 'ping').id;
  await table.locator('tbody tr').filter({ hasText: 'ping' }).first().getByText('delivered').waitFor();
  await table.locator('tbody tr').filter({ hasText: 'ping' }).first().getByRole('button', { name: /^Retry ping/ }).click();
  await waitFor('ping delivered again', () => verified.filter((v) => v.id === pingId).length === 2);
});

test('disable, edit and delete (after confirming) an endpoint', async () => {
  const card = page.locator('li.endpoint').filter({ hasText: receiverUrl });
  await card.getByRole('button', { name: /^Disable/ }).click();
  await card.getByText('Disabled').waitFor();
  await card.getByRole('button', { name: /^Enable/ }).click();
  await card.getByText('Enabled').waitFor();

  await card.getByRole('button', { name: /^Edit/ }).click();
  const edit = page.getByRole('dialog', { name: 'Edit endpoint' });
  await edit.getByLabel('Endpoint URL').fill('ftp://nowhere.example');
  await edit.getByRole('button', { name: 'Save' }).click();
  await edit.locator('.notice.error').waitFor();
  await edit.getByLabel('Endpoint URL').fill(receiverUrl);
  await edit.getByLabel(/link\.updated/).check();
  await edit.getByRole('button', { name: 'Save' }).click();
  await edit.waitFor({ state: 'detached' });
  await card.getByText('link.updated').waitFor();

  await card.getByRole('button', { name: /^Delete/ }).click();
  const confirm = page.getByRole('dialog', { name: 'Delete this endpoint?' });
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  await confirm.waitFor({ state: 'detached' });
  await card.waitFor();
  await card.getByRole('button', { name: /^Delete/ }).click();
  await page.getByRole('dialog', { name: 'Delete this endpoint?' }).getByRole('button', { name: 'Delete endpoint' }).click();
  await page.getByText('No endpoints yet: add one below.').waitFor();
});

test('at phone width the webhooks screen fits and is axe-clean', async () => {
  await newPage({ width: 390, height: 844 });
  await login(HOOKER);
  await page.goto(`${BASE}/app#/webhooks`);
  await page.getByRole('button', { name: 'Add endpoint' }).waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no horizontal scrolling (${overflow}px too wide)`);
  assert.deepEqual(await axeViolations(), []);
  await shot('62-phone-webhooks', false);
  assert.deepEqual(consoleErrors, []);
});

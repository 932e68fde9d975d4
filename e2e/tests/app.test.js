// The web app in a real headless Chromium against a real `quiver serve` (started by run.sh).
// Tests run in order and share one server: the creator's story first, then the brand's.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  BASE, CREATOR, BRAND, TIMEOUT, browser, page, consoleErrors, failedResponses, launch, closeBrowser, newPage, shot, login,
} from '../support.mjs';

async function logout() {
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('heading', { name: 'Log in to Quiver' }).waitFor();
}

async function searchCatalog(text, brand, marketplace = 'amazon.com') {
  await page.getByRole('link', { name: 'Catalog' }).click();
  await page.getByLabel('Search').fill(text);
  await page.getByLabel('Marketplace').selectOption(marketplace);
  if (brand) await page.getByLabel('Brand').selectOption(brand);
  await page.getByRole('button', { name: 'Search', exact: true }).click();
}

function productCard(title, marketplace) {
  return page.locator('li.product').filter({ hasText: title }).filter({ hasText: ` · ${marketplace}` }).first();
}

before(async () => {
  await launch();
  await newPage();
});

after(closeBrowser);

test('/ leads to the login screen and a wrong password is explained', async () => {
  await page.goto(`${BASE}/`);
  assert.match(page.url(), /\/app$/);
  await page.getByRole('heading', { name: 'Log in to Quiver' }).waitFor();
  await shot('01-login');
  await page.getByLabel('Email').fill(CREATOR);
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByText('Incorrect email or password.').waitFor();
});

let linkUrl;

test('creator finds a product, creates a link, copies it and sees a QR code', async () => {
  await login(CREATOR);
  await page.getByRole('heading', { name: 'Catalog' }).waitFor();
  await searchCatalog('Trail Backpack');
  const card = productCard('Northwind Trail Backpack 30L', 'amazon.com');
  await card.getByText('Can promote').waitFor();
  await shot('02-catalog');
  await card.getByRole('button', { name: /Create link/ }).click();
  const dialog = page.getByRole('dialog', { name: 'Create a link' });
  await dialog.getByLabel('Link name').fill('e2e-backpack-review');
  await dialog.getByRole('button', { name: 'Create link' }).click();
  const url = dialog.getByRole('textbox', { name: /Link URL/ });
  await url.waitFor();
  linkUrl = await url.inputValue();
  assert.match(linkUrl, /^https:\/\/www\.amazon\.com\/dp\/B0D45KS7QM\?maas=/);
  await dialog.getByRole('img', { name: /QR code/ }).waitFor();
  await dialog.getByRole('button', { name: /^Copy link/ }).click();
  await dialog.getByRole('button', { name: /^Copied/ }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), linkUrl);
  await shot('03-link-created');
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
});

test('the new link is in the list and can be paused', async () => {
  await page.getByRole('link', { name: 'My links' }).click();
  await page.getByLabel('Name contains').fill('e2e-backpack');
  await page.getByRole('button', { name: 'Filter' }).click();
  const row = page.locator('tbody tr').filter({ hasText: 'e2e-backpack-review' });
  await row.getByText('Active', { exact: true }).waitFor();
  await row.getByRole('button', { name: 'Pause e2e-backpack-review' }).click();
  await row.getByText('Paused', { exact: true }).waitFor();
  await row.getByRole('button', { name: 'Resume e2e-backpack-review' }).waitFor();
  await page.getByLabel('Name contains').fill('');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.locator('tbody tr').first().waitFor();
  await shot('04-links');
});

test('a gated product offers "Request access" (with the creator\'s message), then says "Pending"', async () => {
  await searchCatalog('Lumen', 'lumen-home');
  const card = page.locator('li.product').filter({ hasText: ' · amazon.com' }).first();
  await card.getByText('Needs approval').waitFor();
  assert.equal(await card.getByRole('button', { name: /Create link/ }).count(), 0, 'no Create link that would fail');
  await card.getByRole('button', { name: /^Request access/ }).click();
  const dialog = page.getByRole('dialog', { name: 'Request access to Lumen Home' });
  await dialog.getByLabel('Your message to the brand (optional)').fill('I review lamps on YouTube (40k subscribers).');
  await shot('05-request-access');
  await dialog.getByRole('button', { name: 'Send request' }).click();
  await dialog.getByText(/Access requested from Lumen Home/).waitFor();
  await page.keyboard.press('Escape');
  await card.getByText('Pending', { exact: true }).waitFor();
  await page.getByRole('link', { name: 'Access requests' }).click();
  const row = page.locator('tbody tr').filter({ hasText: 'Lumen Home' });
  await row.getByText('pending').waitFor();
  await row.getByText('I review lamps on YouTube (40k subscribers).').waitFor();
  await logout();
});

test('the brand approves the request', async () => {
  await login(BRAND);
  // The brand's home is its overview (#15); its products are one link away.
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  await page.getByRole('link', { name: 'Brands & products' }).click();
  await page.getByRole('heading', { name: 'Brands & products' }).waitFor();
  await page.locator('tbody tr').filter({ hasText: 'lumen-home' }).first().waitFor();
  await shot('06-brand-products');
  await page.getByRole('link', { name: 'Access requests' }).click();
  const row = page.locator('tbody tr').filter({ hasText: 'Lumen Home' }).filter({ hasText: 'pending' });
  await row.waitFor();
  await shot('07-brand-requests');
  await row.getByRole('button', { name: /^Approve/ }).click();
  await page.getByText('No requests are waiting for you.').waitFor();
  await page.getByRole('link', { name: 'Grants' }).click();
  await page.getByLabel('Brand').selectOption('lumen-home');
  await page.locator('tbody tr').filter({ hasText: 'aff_demo_creator' }).first().waitFor();
  await shot('08-brand-grants');
});

test('the brand edits a commission and sees its report with a chart and creators', async () => {
  await page.getByRole('link', { name: 'Brands & products' }).click();
  const rate = page.getByLabel('Default commission for Peak Audio, percent');
  await rate.fill('101');
  await page.getByRole('button', { name: 'Save Peak Audio' }).click();
  await page.getByText('Between 0 and 100.').waitFor();
  await rate.fill('11.5');
  await page.getByRole('button', { name: 'Save Peak Audio' }).click();
  await page.getByText(/Saved Peak Audio/).waitFor();
  await page.getByRole('link', { name: 'Report' }).click();
  await page.getByRole('button', { name: 'Last 90 days' }).click();
  await page.getByRole('heading', { name: 'Per creator' }).waitFor();
  assert.ok(await chartDrawn(), 'the seller chart is drawn');
  await page.locator('tbody tr').first().waitFor();
  await shot('09-brand-report');
  await logout();
});

test('after approval the creator creates the link for the gated brand', async () => {
  await login(CREATOR);
  await searchCatalog('Lumen', 'lumen-home');
  const card = page.locator('li.product').filter({ hasText: ' · amazon.com' }).first();
  await card.getByText('Can promote').waitFor();
  await card.getByRole('button', { name: /Create link/ }).click();
  const dialog = page.getByRole('dialog', { name: 'Create a link' });
  await dialog.getByLabel('Link name').fill('e2e-lumen');
  await dialog.getByRole('button', { name: 'Create link' }).click();
  await dialog.getByText(/Link “e2e-lumen” created/).waitFor();
  await page.keyboard.press('Escape');
});

test('the access request form leaves out a brand the creator may already promote', async () => {
  await page.getByRole('link', { name: 'Access requests' }).click();
  await page.locator('tbody tr').filter({ hasText: 'Lumen Home' }).getByText('approved').waitFor();
  // Approved: lumen-home is no longer offered (#15: the picker excludes promotable brands).
  assert.equal(await page.getByLabel('Brand', { exact: true }).locator('option[value="lumen-home"]').count(), 0);
  await shot('15-creator-access-requests');
});

test('Amazon being unavailable is shown and retried after Retry-After', async () => {
  let calls = 0;
  await page.route('**/generate_attribution_link', async (route) => {
    calls += 1;
    if (calls === 1) {
      await route.fulfill({
        status: 503,
        headers: { 'Retry-After': '1', 'Content-Type': 'application/json' },
        body: JSON.stringify({ detail: "Couldn't reach Amazon; try again shortly", code: 'amazon_unavailable' }),
      });
    } else {
      await route.continue();
    }
  });
  await searchCatalog('Trail Backpack', null, 'all');
  // All marketplaces: one card for the product, its marketplaces as chips.
  const card = page.locator('li.product').filter({ hasText: 'Northwind Trail Backpack 30L' });
  assert.equal(await card.count(), 1);
  await card.getByRole('link', { name: /on amazon\.de \(Amazon page/ }).waitFor();
  await card.getByRole('button', { name: /Create link/ }).click();
  const dialog = page.getByRole('dialog', { name: 'Create a link' });
  await dialog.getByLabel('Marketplace').selectOption('amazon.de');
  await dialog.getByRole('button', { name: 'Create link' }).click();
  await dialog.getByText(/Couldn't reach Amazon, retrying/).waitFor();
  await dialog.getByText(/created for amazon\.de/).waitFor();
  assert.equal(calls, 2);
  await page.unroute('**/generate_attribution_link');
  await page.keyboard.press('Escape');
});

/** True once the report's canvas holds a Chart.js chart with its four series, drawn at a size. */
async function chartDrawn() {
  const handle = await page.waitForFunction(() => {
    const c = document.querySelector('.chart-box canvas');
    const chart = c && window.Chart && window.Chart.getChart(c);
    return Boolean(chart) && c.width > 0 && c.height > 0 && chart.data.datasets.length === 4;
  }, null, { timeout: TIMEOUT }).catch(() => null);
  return Boolean(handle);
}

test('reports: date range, daily chart, per-link table and CSV download', async () => {
  await page.getByRole('link', { name: 'Reports' }).click();
  await page.getByRole('button', { name: 'Last 90 days' }).click();
  await page.getByRole('heading', { name: 'Per link' }).waitFor();
  assert.ok(await chartDrawn(), 'the creator chart is drawn');
  await page.locator('tbody tr').first().waitFor();
  await shot('10-reports');
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download CSV' }).click(),
  ]);
  const file = await download.path();
  const { readFile } = await import('node:fs/promises');
  const csv = await readFile(file, 'utf8');
  assert.match(csv.split('\r\n')[0], /^link,name,currency,clicks,/);
  assert.ok(csv.split('\r\n').length > 2, 'the CSV has rows');
  // An end before the start is explained next to the end date.
  await page.getByLabel('From', { exact: true }).fill('2026-03-10');
  await page.getByLabel('To', { exact: true }).fill('2026-03-01');
  await page.getByRole('button', { name: 'Show report' }).click();
  await page.getByText('The end date must be on or after the start date.').waitFor();
});

test('bulk upload shows progress and offers the result CSV', async () => {
  await page.getByRole('link', { name: 'Bulk upload' }).click();
  await page.getByLabel('CSV file').setInputFiles({
    name: 'links.csv',
    mimeType: 'text/csv',
    buffer: Buffer.from('asin,link_name,marketplace\nB0D45KS7QM,e2e-bulk-1,amazon.com\nB0D45KS7QM,e2e-bulk-2,amazon.de\nB0NOSUCH01,e2e-bulk-3,amazon.com\n'),
  });
  await page.getByRole('button', { name: 'Upload and create links' }).click();
  await page.getByText(/Done: 3 of 3 processed, 2 created, 1 failed/).waitFor({ timeout: 60_000 });
  await shot('11-bulk');
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download results CSV' }).click(),
  ]);
  const { readFile } = await import('node:fs/promises');
  const csv = await readFile(await download.path(), 'utf8');
  assert.match(csv, /^ASIN,Marketplace,Link Name,Attribution URL,Status,Error/);
});

const readSession = () => page.evaluate(() => JSON.parse(localStorage.getItem('quiver.session')));
const editSession = (fields) => page.evaluate((f) => {
  localStorage.setItem('quiver.session', JSON.stringify({ ...JSON.parse(localStorage.getItem('quiver.session')), ...f }));
}, fields);

test('an expired or refused access token is renewed with the refresh token', async () => {
  const first = await readSession();
  // Expired by the clock: renewed before the call.
  await editSession({ expiresAt: Date.now() - 1000 });
  await page.getByRole('link', { name: 'Access requests' }).click();
  await page.locator('tbody tr').filter({ hasText: 'Lumen Home' }).getByText('approved').waitFor();
  const second = await readSession();
  assert.notEqual(second.access, first.access);
  assert.notEqual(second.refresh, first.refresh, 'the refresh token rotates');
  // Refused by the server (401): renewed, and the call is repeated once.
  await editSession({ access: 'not-a-valid-token' });
  await page.getByRole('link', { name: 'My links' }).click();
  // The previous screen's table may still be on the page: wait for the renewal itself.
  await page.waitForFunction(
    () => JSON.parse(localStorage.getItem('quiver.session')).access !== 'not-a-valid-token',
    null,
    { timeout: 10000 },
  );
  await page.locator('tbody tr').first().waitFor();
  const third = await readSession();
  assert.notEqual(third.access, 'not-a-valid-token');
  await page.getByRole('button', { name: 'Log out' }).waitFor();
});

test('an expired session returns to the login screen', async () => {
  await page.evaluate(() => {
    const s = JSON.parse(localStorage.getItem('quiver.session'));
    s.access = 'revoked-or-expired';
    s.refresh = 'no-longer-valid';
    localStorage.setItem('quiver.session', JSON.stringify(s));
  });
  await page.getByRole('link', { name: 'Catalog' }).click();
  await page.getByText('Your session has expired. Please log in again.').waitFor();
});

test('on a phone-sized screen the catalog and links fit and work by keyboard', async () => {
  await newPage({ width: 390, height: 844 });
  await login(CREATOR);
  await page.getByRole('heading', { name: 'Catalog' }).waitFor();
  await page.locator('li.product').first().waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no horizontal scrolling (${overflow}px too wide)`);
  await shot('12-phone-catalog');
  // Keyboard only: focus the first "Create link" button, open the dialog, create, close.
  // Fjordline Outdoor (the second demo seller's brand, #18) has no Amazon connection until
  // amazon.test.js connects it, so its links are refused with 409 brand_not_connected.
  const first = page.locator('li.product').filter({ hasText: 'Can promote' }).filter({ hasNotText: 'Fjordline' }).first().getByRole('button', { name: /Create link/ });
  await first.focus();
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('dialog', { name: 'Create a link' });
  await dialog.waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.name), 'link_name');
  await page.keyboard.type('-kbd');
  await page.keyboard.press('Enter');
  await dialog.getByText(/created for/).waitFor();
  await shot('13-phone-link', false);
  await page.keyboard.press('Escape');
  // On a phone the screens are behind the menu button.
  await page.getByRole('button', { name: /^Menu/ }).click();
  await page.getByRole('link', { name: 'My links' }).click();
  await page.locator('tbody tr').first().scrollIntoViewIfNeeded();
  await shot('14-phone-links', false);
});

test('the brand revokes a grant after confirming', async () => {
  // Desktop again after the phone test (there, the screens are behind the menu button).
  await newPage();
  await login(BRAND);
  await page.getByRole('link', { name: 'Grants' }).click();
  await page.getByLabel('Brand', { exact: true }).selectOption('lumen-home');
  const row = page.locator('tbody tr').filter({ hasText: 'aff_demo_creator' }).filter({ hasNotText: 'aff_demo_creator2' });
  await row.waitFor();
  page.once('dialog', (d) => d.accept());
  await row.getByRole('button', { name: /^Revoke/ }).click();
  await row.waitFor({ state: 'detached' });
  await page.getByLabel('Show').selectOption('false');
  await page.getByRole('button', { name: 'Show', exact: true }).click();
  await page.locator('tbody tr').filter({ hasText: 'aff_demo_creator' }).first().waitFor();
});

async function unlabelledControls() {
  return page.evaluate(() => [...document.querySelectorAll('input, select, textarea')]
    .filter((el) => !el.labels?.length && !el.getAttribute('aria-label'))
    .map((el) => el.outerHTML));
}

test('every control has a label and the browser logged no errors (CSP included)', async () => {
  // Earlier tests provoke 4xx answers on purpose (each logs an error); start clean.
  consoleErrors.length = 0;
  failedResponses.length = 0;
  for (const [who, routes] of [[BRAND, ['brands', 'requests', 'grants', 'seller-report']], [CREATOR, ['catalog', 'links', 'reports', 'bulk', 'access']]]) {
    await login(who);
    for (const route of routes) {
      await page.goto(`${BASE}/app#/${route}`);
      await page.locator('.page-title').waitFor();
      await page.waitForLoadState('networkidle');
      assert.deepEqual(await unlabelledControls(), [], `unlabelled controls on #/${route}`);
    }
  }
  assert.deepEqual(consoleErrors, []);
  // The token response names the account kind: no request fails to find it out.
  assert.deepEqual(failedResponses, []);
});

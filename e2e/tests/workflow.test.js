// Issue 15, second part: archiving links, the catalog's server-side filters and sorts, one
// card per product with marketplace chips, images, and sessions that survive a new tab.
// Runs after the other files on the same server.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  BASE, PASSWORD, CREATOR, BRAND, TIMEOUT, browser, context, page, launch, closeBrowser, newPage as openShared, usePage, shot, login, api, axeViolations,
} from '../support.mjs';

// A picture for every product of the demo catalog (its host does not exist).
const PICTURE = '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" fill="#94a3b8"/></svg>';
const newPage = (viewport) => openShared(viewport, { picture: PICTURE });

before(async () => {
  await launch();
  await newPage();
});

after(closeBrowser);

test('catalog: "only ones I can promote" and the sort come from the server, with images and Amazon links', async () => {
  await login(CREATOR);
  await page.getByRole('heading', { name: 'Catalog' }).waitFor();
  await page.getByLabel('Marketplace').selectOption('amazon.com');
  await page.getByLabel('Show').selectOption('true');
  await page.getByLabel('Sort by').selectOption('commission');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await page.waitForURL(/promotable=true&sort=commission/);
  const expected = await api('/getproducts?marketplace=amazon.com&promotable=true&sort=commission&product_available=either&limit=24');
  await page.getByText(`${expected.total_count} products you can promote`).waitFor();
  const cards = page.locator('li.product');
  await cards.first().waitFor();
  assert.equal(await cards.count(), expected.product_catalog.length);
  assert.equal(await cards.filter({ hasText: 'Needs approval' }).count(), 0);
  const titles = await cards.locator('.product-title').allTextContents();
  assert.deepEqual(titles, expected.product_catalog.map((p) => p.title), 'in the server\'s commission order');
  // The catalog's picture, not the initials; and a link to the product's Amazon page.
  const first = cards.first();
  await page.waitForFunction(() => { const i = document.querySelector('li.product img.thumb'); return i && i.complete && i.naturalWidth > 0; });
  assert.equal(await first.getByRole('link', { name: /on amazon\.com \(Amazon page/ }).getAttribute('href'), expected.product_catalog[0].product_url);
  await shot('30-catalog-promotable-by-commission');
  // A picture that fails to load falls back to the initials (a fresh browser: no cache).
  await newPage();
  await context.route('https://assets.quiver.example/**', (r) => r.abort());
  await login(CREATOR);
  await page.goto(`${BASE}/app#/catalog?marketplace=amazon.com&promotable=true&sort=price`);
  await page.locator('li.product div.thumb').first().waitFor();
  assert.equal(await page.locator('li.product img.thumb').count(), 0);
  const prices = await api('/getproducts?marketplace=amazon.com&promotable=true&sort=price&product_available=either&limit=24');
  assert.deepEqual(await page.locator('li.product .product-title').allTextContents(), prices.product_catalog.map((p) => p.title));
});

test('catalog: all marketplaces shows one card per product with its marketplaces as chips', async () => {
  await page.goto(`${BASE}/app#/catalog?marketplace=all&search=Trail%20Backpack`);
  const card = page.locator('li.product').filter({ hasText: 'Northwind Trail Backpack 30L' });
  await card.first().waitFor();
  const listings = await api('/getproducts?marketplace=all&search=Trail%20Backpack&product_available=either&limit=100');
  const markets = listings.product_catalog.filter((p) => p.title === 'Northwind Trail Backpack 30L').map((p) => p.marketplace);
  assert.ok(markets.length > 1);
  assert.equal(await card.count(), 1, 'one card');
  assert.deepEqual(await card.locator('.chips a').allTextContents(), markets);
  await card.getByRole('button', { name: /Create link/ }).click();
  const dialog = page.getByRole('dialog', { name: 'Create a link' });
  assert.deepEqual(await dialog.getByLabel('Marketplace').locator('option').allTextContents(), markets);
  await page.keyboard.press('Escape');
  await shot('31-catalog-all-marketplaces');
});

test('links: archive hides a link from the list and the report picker, with undo and an Archived view', async () => {
  const made = await api('/generate_attribution_link', { method: 'POST', body: JSON.stringify({ asin: 'B0D45KS7QM', link_name: 'e2e-archive-me' }) });
  await page.getByRole('link', { name: 'My links' }).click();
  await page.getByLabel('Name contains').fill('e2e-archive-me');
  await page.getByRole('button', { name: 'Filter' }).click();
  const row = page.locator('tbody tr').filter({ hasText: 'e2e-archive-me' });
  await row.getByRole('button', { name: 'Archive e2e-archive-me' }).click();
  await page.getByText(/Archived e2e-archive-me\. It still works and keeps earning/).waitFor();
  await row.waitFor({ state: 'detached' });
  await page.getByRole('button', { name: 'Undo' }).click();
  await row.getByRole('button', { name: 'Archive e2e-archive-me' }).waitFor();
  assert.equal((await api(`/links/${made.id}`)).archived, false);
  await row.getByRole('button', { name: 'Archive e2e-archive-me' }).click();
  await row.waitFor({ state: 'detached' });
  assert.equal((await api(`/links/${made.id}`)).archived, true);
  await page.getByLabel('Archive', { exact: true }).selectOption('true');
  await page.getByRole('button', { name: 'Filter' }).click();
  await row.getByText('Archived', { exact: true }).waitFor();
  await row.getByRole('button', { name: 'Restore e2e-archive-me' }).waitFor();
  await shot('32-links-archived');
  // The report's link picker offers links in use only.
  await page.getByRole('link', { name: 'Reports' }).click();
  const picker = page.getByLabel('Link', { exact: true });
  await picker.locator('option').nth(1).waitFor({ state: 'attached' });
  const options = await picker.locator('option').allTextContents();
  assert.ok(!options.some((o) => o.startsWith('e2e-archive-me')), options.join(', '));
  assert.ok(options.length > 1);
  // Restored, it is back in the picker.
  await api(`/links/${made.id}`, { method: 'PATCH', body: JSON.stringify({ archived: false }) });
  await page.reload();
  await picker.locator('option', { hasText: 'e2e-archive-me' }).waitFor({ state: 'attached' });
});

test('the request-access dialog and the new catalog have no axe violations (desktop and phone)', async () => {
  for (const viewport of [{ width: 1280, height: 860 }, { width: 390, height: 844 }]) {
    await newPage(viewport);
    await login(CREATOR);
    await page.goto(`${BASE}/app#/catalog?marketplace=all`);
    await page.locator('li.product').first().waitFor();
    await page.waitForLoadState('networkidle');
    assert.deepEqual(await axeViolations(), [], `catalog ${viewport.width}px`);
    if (viewport.width < 500) await shot('33-phone-catalog-all-marketplaces', false);
    const gated = page.locator('li.product').filter({ hasText: 'Needs approval' }).first();
    if (await gated.count()) {
      await gated.getByRole('button', { name: /^Request access/ }).click();
      await page.getByRole('dialog').waitFor();
      assert.deepEqual(await axeViolations(), [], `request dialog ${viewport.width}px`);
      if (viewport.width < 500) await shot('34-phone-request-access', false);
      await page.keyboard.press('Escape');
    }
  }
});

test('sessions: a new tab and a browser restart keep the session; deep links and filters survive login', async () => {
  await newPage();
  await login(CREATOR);
  // A second tab of the same browser is logged in at once.
  const tab = await context.newPage();
  await tab.goto(`${BASE}/app#/links`);
  await tab.getByRole('heading', { name: 'My links' }).waitFor();
  await tab.close();
  // A restart: a new browser context from the saved profile (its local storage).
  const state = await context.storageState();
  await context.close();
  const restarted = await browser.newContext({ storageState: state, viewport: { width: 1280, height: 860 } });
  restarted.setDefaultTimeout(TIMEOUT);
  await restarted.route('https://assets.quiver.example/**', (r) => r.abort());
  usePage(await restarted.newPage());
  await page.goto(`${BASE}/app#/reports`);
  await page.getByRole('heading', { name: 'Reports' }).waitFor();
  await page.getByRole('button', { name: 'Log out' }).waitFor();
  // A deep link with filters, opened logged out, is where the login leads.
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByText('You are logged out.').waitFor();
  await page.goto(`${BASE}/app#/links?period=90&sort=clicks`);
  await page.getByRole('heading', { name: 'Log in to Quiver' }).waitFor();
  const failed = [];
  page.on('response', (r) => { if (r.status() >= 400) failed.push(`${r.status()} ${new URL(r.url()).pathname}`); });
  await page.getByLabel('Email').fill(BRAND);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  // A brand has no links screen: it lands on its own first screen, with no failed request.
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  assert.deepEqual(failed, [], 'the account kind comes with the tokens');
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByText('You are logged out.').waitFor();
  await page.goto(`${BASE}/app#/links?period=90&sort=clicks`);
  await page.getByLabel('Email').fill(CREATOR);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'My links' }).waitFor();
  assert.match(page.url(), /#\/links\?.*period=90.*sort=clicks/);
  assert.equal(await page.getByLabel('Figures for').inputValue(), '90');
  assert.equal(await page.getByLabel('Sort by').inputValue(), 'clicks');
});

test('sessions: logging out in another tab says "You are logged out" here and closes open dialogs', async () => {
  await page.getByRole('link', { name: 'Catalog' }).click();
  await page.locator('li.product').filter({ hasText: 'Can promote' }).first().getByRole('button', { name: /Create link/ }).click();
  await page.getByRole('dialog', { name: 'Create a link' }).waitFor();
  const other = await context.newPage();
  await other.goto(`${BASE}/app#/catalog`);
  await other.getByRole('button', { name: 'Log out' }).click();
  await other.getByText('You are logged out.').waitFor();
  await page.getByText(/You are logged out/).waitFor();
  assert.equal(await page.locator('dialog[open]').count(), 0, 'no dialog left open');
  await page.getByRole('heading', { name: 'Log in to Quiver' }).waitFor();
  await shot('35-logged-out-elsewhere');
  await other.close();
  // An ended session (refresh token refused) says so too, and closes the dialog.
  await login(CREATOR);
  await page.locator('li.product').filter({ hasText: 'Can promote' }).first().getByRole('button', { name: /Create link/ }).click();
  await page.evaluate(() => {
    const s = JSON.parse(localStorage.getItem('quiver.session'));
    localStorage.setItem('quiver.session', JSON.stringify({ ...s, access: 'gone', refresh: 'gone' }));
  });
  await page.getByRole('dialog', { name: 'Create a link' }).getByRole('button', { name: 'Create link' }).click();
  await page.getByText(/You are logged out: your session has expired/).waitFor();
  assert.equal(await page.locator('dialog[open]').count(), 0);
});

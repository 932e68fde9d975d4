// Screens that must not show stale data (#15): an answer that arrives after the user left the
// account screen, or after they picked another brand on the invitations screen, draws
// nothing; a failed load shows its error where the data would be. And the phone layout: the
// navigation folds into a labelled menu button (keyboard operable, closes on navigation),
// list filters fold away, and no screen scrolls sideways at 390 px. And a creator's history
// with the brand (request, approval, grant, revocation) in the brand's profile dialog. A
// creator of its own, so it runs alone or after the other files.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  BASE, PASSWORD, CREATOR, BRAND, PHONE, page, launch, closeBrowser, newPage, shot, login, api,
  axeViolations, noHorizontalScroll, createCreator,
} from '../support.mjs';

const ASKER = 'screens-asker@example.com';
const stamp = Date.now();

/** Holds every answer to URLs matching `pattern` back by `ms`. */
async function slow(pattern, ms) {
  await page.route(pattern, async (r) => {
    await new Promise((done) => setTimeout(done, ms));
    await r.continue().catch(() => {});
  });
}

const problem = (status) => ({
  status, contentType: 'application/problem+json',
  body: JSON.stringify({ type: 'about:blank', title: 'Internal Server Error', status, code: 'internal', detail: 'test' }),
});

before(async () => {
  createCreator(ASKER, 'Screens Asker');
  // A request waiting for the brand, so its menu button carries the pending badge.
  const t = await (await fetch(`${BASE}/token`, { method: 'POST', body: new URLSearchParams({ username: ASKER, password: PASSWORD }) })).json();
  const r = await fetch(`${BASE}/access_requests`, { method: 'POST', headers: { Authorization: `Bearer ${t.access_token}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ brand_id: 'lumen-home', message: 'From the screens test' }) });
  assert.equal(r.status, 201, await r.text());
  await launch();
  await newPage();
});

after(closeBrowser);

test('an account answer arriving after the user left the screen draws nothing on the next one', async () => {
  await login(CREATOR);
  await page.getByRole('heading', { name: 'Catalog' }).waitFor();
  await slow('**/account/api_keys', 1500);
  const late = page.waitForResponse((r) => r.url().endsWith('/account/api_keys'));
  await page.getByRole('link', { name: 'Account' }).click();
  await page.getByRole('heading', { name: 'Account', level: 1 }).waitFor();
  await page.getByRole('link', { name: 'My links' }).click();
  await page.getByRole('heading', { name: 'My links', level: 1 }).waitFor();
  await late;
  await page.waitForTimeout(200);
  assert.equal(await page.getByRole('heading', { name: 'API keys' }).count(), 0, 'no API keys section on My links');
  assert.equal(await page.getByRole('heading', { name: 'Sessions' }).count(), 0, 'no sessions section on My links');
  assert.equal(await page.locator('main h1').count(), 1);
  assert.equal(await page.locator('main h1').textContent(), 'My links');
  await page.unrouteAll({ behavior: 'ignoreErrors' });
});

test('a failed account section shows its error in place; the other sections still work', async () => {
  await page.route('**/account/sessions', (r) => (r.request().method() === 'GET' ? r.fulfill(problem(500)) : r.continue()));
  await page.getByRole('link', { name: 'Account' }).click();
  const sessions = page.locator('section[aria-labelledby="sessions"]');
  await sessions.getByText('The server had a problem (500)').waitFor();
  assert.equal(await sessions.locator('table').count(), 0, 'no session rows under the error');
  // The rest of the screen is there and current.
  await page.locator('section[aria-labelledby="profile"]').getByLabel('Display name').waitFor();
  await page.locator('section[aria-labelledby="api-keys"]').getByRole('button', { name: 'Create key' }).waitFor();
  await page.locator('section[aria-labelledby="password"]').getByLabel('Current password').waitFor();
  await shot('80-account-section-error');
  await page.unrouteAll({ behavior: 'ignoreErrors' });
  // A newer load replaces the error with the list.
  await page.reload();
  await page.locator('section[aria-labelledby="sessions"]').getByText('This session').waitFor();
  assert.equal(await page.getByText('The server had a problem (500)').count(), 0);
});

test('invitations: the list shown is the brand picked last, and a failed load clears it', async () => {
  await login(BRAND);
  const brands = (await api('/sellers/brands?limit=500')).brands.map((b) => b.brand_id);
  assert.ok(brands.length >= 2, 'the demo brand has two brands or more');
  const [a, b] = brands;
  const toA = `stale-a-${stamp}@example.com`;
  const toB = `stale-b-${stamp}@example.com`;
  await api(`/sellers/brands/${a}/invitations`, { method: 'POST', body: JSON.stringify({ email: toA }) });
  await api(`/sellers/brands/${b}/invitations`, { method: 'POST', body: JSON.stringify({ email: toB }) });
  await page.goto(`${BASE}/app#/invitations?brand=${b}`);
  const rows = page.getByRole('region', { name: 'Invitations' }).locator('tbody tr');
  await rows.filter({ hasText: toB }).waitFor();

  // The answer for brand A is slow; the user picks B again before it arrives.
  await slow(`**/sellers/brands/${a}/invitations`, 1500);
  const late = page.waitForResponse((r) => r.url().endsWith(`/sellers/brands/${a}/invitations`));
  const picker = page.getByLabel('Brand', { exact: true });
  await picker.selectOption(a);
  // While A's answer is on its way, B's rows are not left standing under A.
  assert.equal(await rows.filter({ hasText: toB }).count(), 0, 'the previous brand\'s rows are gone at once');
  await picker.selectOption(b);
  await rows.filter({ hasText: toB }).waitFor();
  await late;
  await page.waitForTimeout(200);
  assert.equal(await rows.filter({ hasText: toA }).count(), 0, 'brand A\'s late answer is dropped');
  await rows.filter({ hasText: toB }).waitFor();
  assert.match(page.url(), new RegExp(`brand=${b}$`));
  await page.unrouteAll({ behavior: 'ignoreErrors' });

  // A failed load: the error stands where the list was, with no rows of the brand before.
  await page.route(`**/sellers/brands/${a}/invitations`, (r) => (r.request().method() === 'GET' ? r.fulfill(problem(500)) : r.continue()));
  await picker.selectOption(a);
  await page.getByText('The server had a problem (500)').waitFor();
  assert.equal(await rows.count(), 0, 'no rows under the error');
  const error = await page.getByText('The server had a problem (500)').boundingBox();
  const listHeading = await page.getByRole('heading', { name: 'Sent invitations' }).boundingBox();
  assert.ok(error.y > listHeading.y, 'the error is shown in the list\'s place, under its heading');
  await shot('81-invitations-load-error');
  await page.unrouteAll({ behavior: 'ignoreErrors' });
  await picker.selectOption(b);
  await rows.filter({ hasText: toB }).waitFor();
  assert.equal(await page.getByText('The server had a problem (500)').count(), 0, 'the error goes with the next load');
});

test('on a phone the navigation is a labelled menu button, operable by keyboard, closed on navigation', async () => {
  await newPage(PHONE);
  await login(CREATOR);
  await page.getByRole('heading', { name: 'Catalog', level: 1 }).waitFor();
  const menu = page.getByRole('button', { name: /^Menu/ });
  assert.equal(await menu.textContent(), 'Menu: Catalog');
  assert.equal(await menu.getAttribute('aria-expanded'), 'false');
  assert.equal(await menu.getAttribute('aria-controls'), 'nav');
  const nav = page.getByRole('navigation', { name: 'Main' });
  assert.equal(await nav.isVisible(), false, 'the links are folded away');
  await noHorizontalScroll('the catalog');
  const top = await page.locator('li.product').first().boundingBox();
  assert.ok(top.y < PHONE.height, `the first product is on the first screen (${top.y})`);
  await shot('82-phone-menu-closed', false);

  // Keyboard: Enter opens it with focus on the current screen's link, Escape closes it.
  await menu.focus();
  await page.keyboard.press('Enter');
  assert.equal(await menu.getAttribute('aria-expanded'), 'true');
  await nav.getByRole('link', { name: 'My links' }).waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute('href')), '#/catalog');
  const links = await nav.getByRole('link').count();
  assert.ok(links >= 9, `every screen is in the menu (${links})`);
  await noHorizontalScroll('the open menu');
  assert.deepEqual(await axeViolations(), []);
  await shot('83-phone-menu-open', false);
  await page.keyboard.press('Escape');
  assert.equal(await menu.getAttribute('aria-expanded'), 'false');
  assert.equal(await nav.isVisible(), false);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'nav-toggle', 'focus back on the button');

  // Space opens it too; Tab reaches the next link and Enter follows it; the menu closes.
  await page.keyboard.press('Space');
  assert.equal(await menu.getAttribute('aria-expanded'), 'true');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute('href')), '#/links');
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'My links', level: 1 }).waitFor();
  assert.equal(await menu.getAttribute('aria-expanded'), 'false');
  assert.equal(await nav.isVisible(), false);
  assert.equal(await menu.textContent(), 'Menu: My links');

  // The list's filters are folded so the rows come first; they open on demand.
  const filters = page.locator('details.filter-panel');
  assert.equal(await filters.getAttribute('open'), null, 'filters folded');
  await page.locator('tbody tr').first().waitFor();
  const row = await page.locator('tbody tr').first().boundingBox();
  assert.ok(row.y < PHONE.height, `the first link is on the first screen (${row.y})`);
  await page.getByText('Filters', { exact: true }).click();
  await page.getByLabel('Name contains').waitFor();
  await shot('84-phone-links-filters', false);

  // A click on a link of the open menu closes it as well.
  await menu.click();
  await nav.getByRole('link', { name: 'Reports' }).click();
  await page.getByRole('heading', { level: 1 }).first().waitFor();
  assert.equal(await menu.getAttribute('aria-expanded'), 'false');
});

test('at 390 px no screen of either account scrolls sideways, menu open or closed', async () => {
  const found = [];
  for (const who of [CREATOR, BRAND]) {
    await newPage(PHONE);
    await login(who);
    await page.locator('.page-title').waitFor();
    const routes = await page.locator('#nav a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    assert.ok(routes.length >= 9, `${who}: every screen is in the menu`);
    for (const href of routes) {
      await page.goto(`${BASE}/app${href}`);
      await page.locator('.page-title').waitFor();
      await page.waitForLoadState('networkidle');
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      if (overflow > 0) found.push(`${href} ${overflow}px`);
    }
    await page.getByRole('button', { name: /^Menu/ }).click();
    await noHorizontalScroll(`${who}'s open menu`);
    if (who === BRAND) {
      // The pending-requests badge stays in sight on the folded menu's button.
      await page.getByRole('button', { name: /^Menu/ }).locator('.nav-badge').waitFor();
      await shot('85-phone-brand-menu', false);
    }
  }
  assert.deepEqual(found, []);
});

test('the brand sees a creator’s grants and revocations in the profile’s history, as the API has them', async () => {
  await newPage();
  await login(BRAND);
  const pending = (await api('/sellers/access_requests?status=pending&limit=100')).access_requests.find((a) => a.creator_name === 'Screens Asker');
  assert.ok(pending, 'the request made in before()');
  await api(`/sellers/access_requests/${pending.id}/approve`, { method: 'POST', body: '{}' });
  await page.evaluate(async (p) => {
    const s = JSON.parse(localStorage.getItem('quiver.session') || sessionStorage.getItem('quiver.session'));
    const r = await fetch(p, { method: 'DELETE', headers: { Authorization: `Bearer ${s.access}` } });
    if (!r.ok) throw new Error(`${r.status} ${p}`);
  }, `/sellers/brands/lumen-home/grants/${pending.creator}`);
  const events = (await api(`/sellers/creators/${pending.creator}`)).history;
  assert.deepEqual(events.map((e) => e.event).sort(), ['approved', 'granted', 'requested', 'revoked']);

  await page.goto(`${BASE}/app#/grants?brand=lumen-home&active=false`);
  const row = page.locator('tbody tr').filter({ hasText: 'Screens Asker' });
  await row.getByRole('button', { name: 'Profile of Screens Asker' }).click();
  const items = page.getByRole('dialog', { name: 'Profile of Screens Asker' })
    .getByRole('list', { name: 'History with your brands' }).getByRole('listitem');
  await items.nth(events.length - 1).waitFor();
  const sentence = {
    requested: 'Asked to promote Lumen Home. From the screens test',
    approved: 'Lumen Home approved the request.',
    granted: 'Granted access to Lumen Home.',
    revoked: 'Access to Lumen Home revoked.',
  };
  const shown = (await items.allInnerTexts()).map((t) => t.replace(/^\w{3} \d{1,2}, \d{4} /, ''));
  assert.deepEqual(shown, events.map((e) => sentence[e.event]), 'the API\'s events, newest first');
  assert.equal(shown[0], 'Access to Lumen Home revoked.');
  await shot('86-brand-profile-history-grants', false);
  assert.deepEqual(await axeViolations(), []);
});

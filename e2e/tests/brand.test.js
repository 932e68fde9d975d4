// The brand's side of #15: the overview (KPIs against the API, the pending badge, top
// creators and products, audit log and commission history, the #brand-amazon container),
// the confirmation before approval mode, the guard on unsaved commission edits, grants by
// e-mail or affiliate id with the creator's profile, and stale lists after an error; phone
// width and axe-core included. Brand settings it changes are put back.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  BASE, DB, PASSWORD, BRAND, page, launch, closeBrowser, newPage, shot, login, api, axeViolations, noHorizontalScroll, createCreator,
} from '../support.mjs';

const ASKER = 'overview-asker@example.com';
const GRANTEE = 'grantee@example.com';

before(async () => {
  assert.ok(DB, 'QUIVER_E2E_DATABASE names the server database');
  createCreator(ASKER, 'Overview Asker');
  createCreator(GRANTEE, 'Grantee Creator');
  // A request waiting for the brand, made over the API by a creator of this file.
  const t = await (await fetch(`${BASE}/token`, { method: 'POST', body: new URLSearchParams({ username: ASKER, password: PASSWORD }) })).json();
  const r = await fetch(`${BASE}/access_requests`, { method: 'POST', headers: { Authorization: `Bearer ${t.access_token}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ brand_id: 'lumen-home', message: 'From the overview test' }) });
  assert.equal(r.status, 201, await r.text());
  await launch();
  await newPage();
});

after(closeBrowser);

const iso = (d) => d.toISOString().slice(0, 10);
const daysAgo = (n) => { const d = new Date(); d.setUTCDate(d.getUTCDate() - n); return iso(d); };
const num = (n) => new Intl.NumberFormat('en-US').format(n);

test('the overview shows the period’s KPIs, pending requests with a badge, top creators and products', async () => {
  await login(BRAND);
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  await page.getByLabel('Period').selectOption('90');
  const summary = await api(`/sellers/reports/summary?start=${daysAgo(89)}&end=${daysAgo(0)}&group_by=creator`);
  const clicks = page.locator('[data-kpi="clicks"] .kpi-value');
  await page.waitForFunction((want) => document.querySelector('[data-kpi="clicks"] .kpi-value')?.textContent === want, num(summary.totals.clicks));
  assert.equal(await clicks.textContent(), num(summary.totals.clicks));
  assert.equal(await page.locator('[data-kpi="purchases"] .kpi-value').textContent(), num(summary.totals.purchases));
  for (const m of summary.totals.money) {
    const shown = await page.locator(`[data-kpi="sales-${m.currency}"] .kpi-value`).textContent();
    assert.equal(shown, new Intl.NumberFormat('en-US', { style: 'currency', currency: m.currency }).format(m.sales), m.currency);
  }
  const pending = await api('/sellers/access_requests?status=pending&limit=1');
  assert.ok(pending.total_count >= 1);
  const badge = page.getByRole('link', { name: /Access requests/ }).locator('.nav-badge');
  await badge.waitFor();
  assert.equal(await badge.textContent(), `${pending.total_count} pending`);
  await page.getByText(`${pending.total_count} request${pending.total_count === 1 ? '' : 's'}`, { exact: true }).waitFor();
  await page.getByText(/Overview Asker \(aff_[^)]*\) for Lumen Home/).waitFor();
  const top = summary.rows.slice().sort((a, b) => b.clicks - a.clicks || a.key.localeCompare(b.key))[0];
  if (top) await page.getByRole('region', { name: 'Top creators' }).locator('tbody tr').first().getByText(top.label || top.key, { exact: true }).waitFor();
  else await page.getByText('No creator activity in this period.').waitFor();
  await page.getByRole('heading', { name: 'Top products' }).waitFor();
  // Each brand's Amazon connection (operator-configured today) and its last ingestion, as
  // the API reports them.
  const amazon = page.locator('#brand-amazon');
  for (const b of summary.brands) {
    const row = amazon.locator('tbody tr', { hasText: b.brand_name });
    await row.getByText(b.amazon === 'platform' ? /Configured by the platform operator/ : /Not connected/).waitFor();
    if (!b.data_as_of) await row.getByText('No report received yet').waitFor();
  }
  await shot('48-brand-overview');
  assert.deepEqual(await axeViolations(), []);
});

test('switching a brand to approval mode asks first; cancelling saves nothing', async () => {
  await page.getByRole('link', { name: 'Brands & products' }).click();
  const mode = page.getByLabel('Program mode for Northwind Outdoor');
  await mode.selectOption('approval');
  let asked = '';
  page.once('dialog', (d) => { asked = d.message(); d.dismiss(); });
  await page.getByRole('button', { name: 'Save Northwind Outdoor' }).click();
  await page.waitForFunction(() => document.querySelector('select[aria-label="Program mode for Northwind Outdoor"]').value === 'open');
  assert.match(asked, /refuses new links from every creator without a grant/);
  const brands = async () => (await api('/sellers/brands?limit=500')).brands.find((b) => b.brand_id === 'northwind-outdoor' || b.brand_name === 'Northwind Outdoor');
  assert.equal((await brands()).program_mode, 'open', 'nothing saved');
  // Accepting switches it; back to open needs no confirmation.
  await mode.selectOption('approval');
  page.once('dialog', (d) => d.accept());
  await page.getByRole('button', { name: 'Save Northwind Outdoor' }).click();
  await page.getByText(/Saved Northwind Outdoor: approval/).waitFor();
  assert.equal((await brands()).program_mode, 'approval');
  await mode.selectOption('open');
  let again = false;
  page.once('dialog', (d) => { again = true; d.dismiss(); });
  await page.getByRole('button', { name: 'Save Northwind Outdoor' }).click();
  await page.getByText(/Saved Northwind Outdoor: open/).waitFor();
  assert.equal(again, false, 'no confirmation to open a brand');
  page.removeAllListeners('dialog');
});

test('leaving with an unsaved commission edit asks first, and the edit shows in the history once saved', async () => {
  const rate = page.getByLabel('Default commission for Peak Audio, percent');
  const before = await rate.inputValue();
  const next = before === '13.25' ? '13.5' : '13.25';
  await rate.fill(next);
  let asked = '';
  page.once('dialog', (d) => { asked = d.message(); d.dismiss(); });
  await page.getByRole('link', { name: 'Overview' }).click();
  await page.waitForFunction(() => location.hash.startsWith('#/brands'));
  assert.match(asked, /unsaved/);
  assert.equal(await rate.inputValue(), next, 'the edit is still there');
  await page.getByRole('heading', { name: 'Brands & products' }).waitFor();
  // Saved: leaving no longer asks.
  await page.getByRole('button', { name: 'Save Peak Audio' }).click();
  await page.getByText(/Saved Peak Audio/).waitFor();
  let askedAgain = false;
  page.once('dialog', (d) => { askedAgain = true; d.accept(); });
  await page.getByRole('link', { name: 'Overview' }).click();
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  assert.equal(askedAgain, false);
  page.removeAllListeners('dialog');
  const history = page.getByRole('region', { name: 'Commission history' });
  await history.locator('tbody tr').first().getByText(`default commission ${before}% → ${next}%`).waitFor();
  await page.getByRole('region', { name: 'Audit log' }).locator('tbody tr').first().getByText(/Brand settings/).waitFor();
  // Accepting the question leaves, and the edit is gone.
  await page.getByRole('link', { name: 'Brands & products' }).click();
  await rate.fill('1');
  page.once('dialog', (d) => d.accept());
  await page.getByRole('link', { name: 'Grants' }).click();
  await page.getByRole('heading', { name: 'Grants' }).waitFor();
  const peak = (await api('/sellers/brands?limit=500')).brands.find((b) => b.brand_name === 'Peak Audio');
  assert.equal(String(peak.default_commission), next);
  // Put the demo commission back for the files that run after this one.
  const status = await page.evaluate(async ([id, rate]) => {
    const s = JSON.parse(localStorage.getItem('quiver.session'));
    const r = await fetch(`/sellers/brands/${id}`, { method: 'PATCH', headers: { Authorization: `Bearer ${s.access}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ default_commission: rate }) });
    return r.status;
  }, [peak.brand_id, Number(before)]);
  assert.equal(status, 200);
});

test('a brand grants a creator by e-mail or affiliate id, and opens the profile from the list', async () => {
  await page.getByLabel('Brand', { exact: true }).selectOption('lumen-home');
  const who = page.getByLabel('Creator', { exact: true });
  await who.fill('nobody-here@example.com');
  await page.getByRole('button', { name: 'Grant access' }).click();
  await page.getByText('No creator account uses nobody-here@example.com. They can sign up, or you can invite them.').waitFor();
  await who.fill('not-an-email');
  await page.getByRole('button', { name: 'Grant access' }).click();
  await page.getByText('Enter a whole e-mail address, like name@example.com.').waitFor();
  await page.getByLabel('Find the creator by').selectOption('creator');
  await who.fill('aff_nobody');
  await page.getByRole('button', { name: 'Grant access' }).click();
  await page.getByText('No creator has the affiliate id aff_nobody.').waitFor();
  await page.getByLabel('Find the creator by').selectOption('email');
  await who.fill(GRANTEE.toUpperCase());
  await page.getByRole('button', { name: 'Grant access' }).click();
  await page.getByText(/Grantee Creator \(aff_[^)]*\) may now promote Lumen Home/).waitFor();
  const row = page.locator('tbody tr').filter({ hasText: 'Grantee Creator' });
  await row.waitFor();
  await row.getByRole('button', { name: 'Profile of Grantee Creator' }).click();
  const dialog = page.getByRole('dialog', { name: 'Profile of Grantee Creator' });
  await dialog.getByText('This creator has not filled in a profile yet.').waitFor();
  await dialog.getByRole('button', { name: 'Close' }).click();
  const grants = await api('/sellers/brands/lumen-home/grants?active=true');
  assert.ok(grants.grants.some((g) => g.creator_name === 'Grantee Creator'));
  await shot('49-brand-grant-by-email');
});

test('an error on the grants list never leaves the previous rows looking current', async () => {
  await page.route((url) => url.pathname.endsWith('/grants') && url.searchParams.has('active'), (r) => r.fulfill({ status: 500, contentType: 'application/json', body: '{"detail":"boom","code":"internal"}' }));
  await page.getByRole('button', { name: 'Show', exact: true }).click();
  await page.getByText(/The server had a problem \(500\)/).waitFor();
  assert.equal(await page.locator('tbody tr').count(), 0);
  await page.unrouteAll();
});

test('at phone width the brand’s screens fit and are axe-clean', async () => {
  await newPage({ width: 390, height: 844 });
  await login(BRAND);
  const found = {};
  for (const route of ['overview', 'requests', 'grants', 'brands']) {
    await page.goto(`${BASE}/app#/${route}`);
    await page.locator('.page-title').waitFor();
    await page.waitForLoadState('networkidle');
    await noHorizontalScroll();
    const v = await axeViolations();
    if (v.length) found[route] = v;
  }
  assert.deepEqual(found, {});
});

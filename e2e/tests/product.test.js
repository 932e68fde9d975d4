// The web app as a product (issue 15): server-side report summaries checked against the
// API over more rows than the browser used to fetch, presets and comparison, and axe-core
// on every screen at desktop and phone sizes. Runs after app.test.js on the same server.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  BASE, DB, CREATOR, BRAND, browser, page, launch, closeBrowser, newPage, shot, login, api, axeViolations,
} from '../support.mjs';

before(async () => {
  await launch();
  await newPage();
});

after(closeBrowser);

const iso = (d) => d.toISOString().slice(0, 10);
const daysAgo = (n) => { const d = new Date(); d.setUTCDate(d.getUTCDate() - n); return iso(d); };
const cents = (v) => Math.round(v * 100);

/**
 * Gives the demo creator 90 days × every link × 50 synthetic sold products of facts, kept
 * consistent the way ingestion keeps them (seller rows and row-count rollups included): far
 * more rows than the 20,000 the browser used to fetch before summing.
 */
function seedManyFacts() {
  assert.ok(DB, 'QUIVER_E2E_DATABASE names the server database');
  const sql = `
PRAGMA busy_timeout = 10000;
BEGIN IMMEDIATE;
CREATE TEMP TABLE e2e_facts AS
WITH RECURSIVE d(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM d WHERE n < 89),
  a(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM a WHERE n < 49)
SELECT l.account_id, CAST(strftime('%Y%m%d', 'now', '-' || d.n || ' days') AS INTEGER) AS day, l.id AS link_id,
  printf('B0E2E%05d', a.n) AS asin, l.marketplace, l.brand_id, b.owner_account_id AS seller_id,
  1 + (d.n + a.n) % 7 AS clicks, 1 + (d.n * 3 + a.n) % 5 AS dpv, (d.n + a.n) % 3 AS atc, (d.n + a.n) % 2 AS purchases,
  (d.n + a.n) % 2 AS units, ((d.n + a.n) % 2) * (1999 + a.n * 13 + d.n) AS sales,
  0 AS brb, ((d.n + a.n) % 2) * ((1999 + a.n * 13 + d.n) * 1200 + 5000) / 10000 AS commission
FROM links l JOIN brands b ON b.id = l.brand_id, d, a
WHERE l.account_id = (SELECT id FROM accounts WHERE email = '${CREATOR}');
INSERT INTO report_facts (account_id, day, link_id, asin, marketplace, brand_id, seller_id, clicks, dpv, atc,
  purchases, units, sales, brb, commission, updated_at)
SELECT account_id, day, link_id, asin, marketplace, brand_id, seller_id, clicks, dpv, atc, purchases, units, sales,
  brb, commission, 0 FROM e2e_facts;
INSERT INTO report_day_counts (account_id, day, marketplace, row_count)
SELECT account_id, day, marketplace, COUNT(*) FROM e2e_facts GROUP BY account_id, day, marketplace
ON CONFLICT (account_id, day, marketplace) DO UPDATE SET row_count = report_day_counts.row_count + excluded.row_count;
INSERT INTO seller_report_facts (seller_id, day, asin, marketplace, account_id, brand_id, clicks, dpv, atc,
  purchases, units, sales, brb, commission, updated_at)
SELECT seller_id, day, asin, marketplace, account_id, MIN(brand_id), SUM(clicks), SUM(dpv), SUM(atc), SUM(purchases),
  SUM(units), SUM(sales), SUM(brb), SUM(commission), 0 FROM e2e_facts GROUP BY seller_id, day, asin, marketplace, account_id;
INSERT INTO seller_day_counts (seller_id, day, marketplace, row_count)
SELECT seller_id, day, marketplace, COUNT(*) FROM (SELECT DISTINCT seller_id, day, asin, marketplace, account_id FROM e2e_facts)
GROUP BY seller_id, day, marketplace
ON CONFLICT (seller_id, day, marketplace) DO UPDATE SET row_count = seller_day_counts.row_count + excluded.row_count;
SELECT COUNT(*) FROM e2e_facts;
COMMIT;`;
  return Number(execFileSync('sqlite3', [DB], { input: sql, encoding: 'utf8' }).trim().split('\n').pop());
}

test('a 90-day report over more rows than the old browser cap shows the server totals, to the cent', async () => {
  await login(CREATOR);
  const seeded = seedManyFacts();
  assert.ok(seeded > 20_000, `seeded ${seeded} rows`);
  const q = `start=${daysAgo(89)}&end=${daysAgo(0)}`;
  const first = await api(`/reports?${q}&limit=1`);
  assert.ok(first.total_count > 20_000, `${first.total_count} rows in /reports`);
  // The database's own sums per currency (the API suite checks the summary against every
  // /reports page; paging 20,000 rows here would only slow the browser suite down).
  const CURRENCY = {
    'amazon.com': 'USD', 'amazon.ca': 'CAD', 'amazon.com.mx': 'MXN', 'amazon.co.uk': 'GBP', 'amazon.de': 'EUR',
    'amazon.fr': 'EUR', 'amazon.it': 'EUR', 'amazon.es': 'EUR', 'amazon.nl': 'EUR',
  };
  const day = (d) => d.replaceAll('-', '');
  const out = execFileSync('sqlite3', ['-separator', ',', DB], {
    encoding: 'utf8',
    input: `SELECT marketplace, SUM(clicks), SUM(sales), SUM(commission) FROM report_facts
      WHERE account_id = (SELECT id FROM accounts WHERE email = '${CREATOR}') AND day BETWEEN ${day(daysAgo(89))} AND ${day(daysAgo(0))}
      GROUP BY marketplace;`,
  });
  const sums = {};
  for (const line of out.trim().split('\n')) {
    const [m, clicks, sales, commission] = line.split(',');
    const s = (sums[CURRENCY[m]] ||= { clicks: 0, sales: 0, commission: 0 });
    s.clicks += Number(clicks);
    s.sales += Number(sales);
    s.commission += Number(commission);
  }
  const summary = await api(`/reports/summary?${q}&group_by=link`);
  for (const m of summary.totals.money) {
    assert.equal(cents(m.sales), sums[m.currency].sales, `${m.currency} sales`);
    assert.equal(cents(m.commission), sums[m.currency].commission, `${m.currency} commission`);
    assert.equal(m.clicks, sums[m.currency].clicks, `${m.currency} clicks`);
  }

  await page.getByRole('link', { name: 'Reports' }).click();
  await page.getByRole('button', { name: 'Last 90 days' }).click();
  await page.waitForURL(/start=/);
  await page.getByRole('heading', { name: 'Per link' }).waitFor();
  const fmtNum = (n) => page.evaluate((v) => new Intl.NumberFormat().format(v), n);
  const fmtMoney = (v, c) => page.evaluate(([a, cur]) => new Intl.NumberFormat(undefined, { style: 'currency', currency: cur }).format(a), [v, c]);
  await page.locator('[data-kpi="clicks"] .kpi-value').getByText(await fmtNum(summary.totals.clicks), { exact: true }).waitFor();
  for (const m of summary.totals.money) {
    const card = page.locator(`.total[data-currency="${m.currency}"]`);
    assert.equal(await card.locator('[data-kpi="sales"] .kpi-value').textContent(), await fmtMoney(m.sales, m.currency));
    assert.equal(await card.locator('[data-kpi="commission"] .kpi-value').textContent(), await fmtMoney(m.commission, m.currency));
  }
  // Conversion rate, earnings per click, comparison, data as of and the provisional note.
  const conv = (summary.totals.purchases / summary.totals.clicks) * 100;
  assert.match(await page.locator('[data-kpi="conversion"] .kpi-value').textContent(), new RegExp(`^${conv.toFixed(conv < 10 ? 2 : 1)}%$`));
  assert.ok(await page.locator('[data-kpi="epc"]').first().isVisible());
  await page.getByText(/vs previous period|new this period/).first().waitFor();
  await page.getByText(/^Data as of /).waitFor();
  await page.getByText(/may still change: Amazon restates the last 28 days/).waitFor();
  // One table row per link, each named, with its full URL.
  assert.equal(await page.locator('tbody tr').count(), summary.rows.length);
  await page.locator('tbody tr code.url').first().getByText(/^https:\/\//).waitFor();
  // Chart tooltips are formatted as money and numbers.
  const tooltip = await page.evaluate(() => {
    const chart = window.Chart.getChart(document.querySelector('.chart-box canvas'));
    const cb = chart.options.plugins.tooltip.callbacks;
    return [cb.label.call(null, { dataset: chart.data.datasets[2], parsed: { y: 1234.5 } }),
      cb.label.call(null, { dataset: chart.data.datasets[0], parsed: { y: 12345 } })];
  });
  assert.match(tooltip[0], /^Sales \([A-Z]{3}\): .*1,234\.50/);
  assert.equal(tooltip[1], 'Clicks: 12,345');
  await shot('20-report-90-days');
});

test('presets cover 7, 30, 60 and 90 days, this month and last month', async () => {
  for (const [label, start, end] of [
    ['Last 7 days', daysAgo(6), daysAgo(0)], ['Last 60 days', daysAgo(59), daysAgo(0)],
    ['This month', `${daysAgo(0).slice(0, 8)}01`, daysAgo(0)],
  ]) {
    await page.getByRole('button', { name: label }).click();
    await page.waitForURL(new RegExp(`start=${start}&end=${end}`));
  }
  await page.getByRole('button', { name: 'Last month' }).click();
  const now = new Date();
  const first = iso(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1)));
  const last = iso(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 0)));
  await page.waitForURL(new RegExp(`start=${first}&end=${last}`));
  await page.getByRole('button', { name: 'Last 30 days' }).click();
  await page.waitForURL(new RegExp(`start=${daysAgo(29)}&end=${daysAgo(0)}`));
  // Another breakdown, from the server too.
  await page.getByLabel('Break down by').selectOption('marketplace');
  await page.getByRole('button', { name: 'Show report' }).click();
  await page.getByRole('heading', { name: 'Per marketplace' }).waitFor();
  await page.locator('tbody tr').filter({ hasText: 'amazon.de' }).waitFor();
});

test('an error never leaves the previous results looking current', async () => {
  await page.route('**/reports/summary*', (route) => route.fulfill({
    status: 500, contentType: 'application/json', body: JSON.stringify({ detail: 'boom', code: 'internal' }),
  }));
  await page.getByRole('button', { name: 'Show report' }).click();
  await page.getByText(/server had a problem/).waitFor();
  assert.equal(await page.locator('.report-body tbody tr').count(), 0);
  assert.equal(await page.locator('.report-body .kpis').count(), 0);
  await page.unroute('**/reports/summary*');
});

test('links: per-link figures for the period, sort, full URL, CSV, rename in place, pause with undo', async () => {
  await page.getByRole('link', { name: 'My links' }).click();
  await page.getByLabel('Figures for').selectOption('90');
  await page.getByLabel('Sort by').selectOption('clicks');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL(/period=90&sort=clicks/);
  const summary = await api(`/reports/summary?start=${daysAgo(89)}&end=${daysAgo(0)}&group_by=link`);
  const top = summary.rows.slice().sort((a, b) => b.clicks - a.clicks)[0];
  const firstRow = page.locator('tbody tr').first();
  await firstRow.getByText(top.label, { exact: true }).waitFor();
  assert.equal((await firstRow.locator('td[data-label="Clicks"]').textContent()).trim(), new Intl.NumberFormat('en-US').format(top.clicks));
  assert.equal((await firstRow.locator('code.full-url').textContent()), top.url);
  await shot('23-links-with-figures');
  // CSV of the whole list, sorted as shown.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
  const csv = readFileSync(await download.path(), 'utf8').trim().split('\r\n');
  assert.match(csv[0], /^id,link_name,asin,marketplace,status,archived,url,created,clicks,purchases,currency,sales,commission$/);
  const all = await api('/get_all_links?limit=100&marketplace=all');
  assert.equal(csv.length - 1, all.pagination_info.total_items);
  assert.ok(csv[1].startsWith(`${top.key},`), csv[1]);
  // Rename in place.
  await page.getByLabel('Name contains').fill('e2e-lumen');
  await page.getByRole('button', { name: 'Filter' }).click();
  // The filtered list replaces the whole table: wait for it, so the row is not re-rendered
  // (and the rename input detached) under the click.
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll('tbody tr')];
    return rows.length > 0 && rows.every((r) => r.textContent.includes('e2e-lumen'));
  });
  // The row by its URL: the name itself changes (and is an input while edited).
  const url = await page.locator('tbody tr').filter({ hasText: 'e2e-lumen' }).locator('code.full-url').textContent();
  const row = page.locator('tbody tr').filter({ hasText: url });
  await row.getByRole('button', { name: 'Rename e2e-lumen' }).click();
  await row.getByLabel('New name for e2e-lumen').fill('e2e-lumen-renamed');
  await row.getByRole('button', { name: 'Save' }).click();
  await row.getByText('e2e-lumen-renamed', { exact: true }).waitFor();
  // Pausing says what it does and can be undone.
  await row.getByRole('button', { name: 'Pause e2e-lumen-renamed' }).click();
  await page.getByText(/Shoppers who use it still reach Amazon, but it stops earning commission after today/).waitFor();
  await row.getByText('Paused', { exact: true }).waitFor();
  await page.getByRole('button', { name: 'Undo' }).click();
  await row.getByText('Active', { exact: true }).waitFor();
  await page.getByText('Resumed e2e-lumen-renamed.').waitFor();
});

test('the create dialog makes one link however often it is clicked, with an Idempotency-Key', async () => {
  const before = (await api('/get_all_links?limit=1')).pagination_info.total_items;
  const keys = [];
  page.on('request', (r) => { if (r.url().endsWith('/generate_attribution_link')) keys.push(r.headers()['idempotency-key']); });
  await page.getByRole('link', { name: 'Catalog' }).click();
  await page.getByLabel('Search').fill('Trail Backpack');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await page.locator('li.product').filter({ hasText: 'Can promote' }).first().getByRole('button', { name: /Create link/ }).click();
  const dialog = page.getByRole('dialog', { name: 'Create a link' });
  await dialog.getByLabel('Link name').fill('e2e-once');
  await dialog.getByRole('button', { name: 'Create link' }).dblclick();
  await dialog.getByText(/Link “e2e-once” created/).waitFor();
  await dialog.locator('form').evaluate((f) => f.requestSubmit());
  const done = dialog.getByRole('button', { name: 'Created' });
  assert.equal(await done.isDisabled(), true);
  await page.waitForTimeout(300);
  const after = (await api('/get_all_links?limit=1')).pagination_info.total_items;
  assert.equal(after, before + 1, 'exactly one link');
  assert.ok(keys.length >= 1 && keys.every((k) => k && k === keys[0]), `one key: ${keys}`);
  await page.keyboard.press('Escape');
});

test('the brand report shows creators by name, one row each, and filters by brand and product', async () => {
  await login(BRAND);
  await page.getByRole('link', { name: 'Report' }).click();
  await page.getByRole('button', { name: 'Last 90 days' }).click();
  await page.getByRole('heading', { name: 'Per creator' }).waitFor();
  const summary = await api(`/sellers/reports/summary?start=${daysAgo(89)}&end=${daysAgo(0)}&group_by=creator`);
  const rows = page.locator('tbody tr');
  await rows.first().waitFor();
  assert.equal(await rows.count(), summary.rows.length, 'one row per creator');
  for (const r of summary.rows) await rows.filter({ hasText: `${r.label} (${r.key})` }).waitFor();
  await shot('21-brand-report-creators');
  await page.getByLabel('Brand', { exact: true }).selectOption('peak-audio');
  await page.getByLabel('Product (ASIN)').fill('B0PKBUDS01');
  await page.getByRole('button', { name: 'Show report' }).click();
  await page.waitForURL(/brand_ids=peak-audio&asins=B0PKBUDS01/);
  const filtered = await api(`/sellers/reports/summary?start=${daysAgo(89)}&end=${daysAgo(0)}&group_by=creator&brand_ids=peak-audio&asins=B0PKBUDS01`);
  await page.locator('[data-kpi="clicks"] .kpi-value').getByText(new Intl.NumberFormat('en-US').format(filtered.totals.clicks), { exact: true }).waitFor();
});

test('the report on a phone keeps results on the first screen', async () => {
  await newPage({ width: 390, height: 844 });
  await login(CREATOR);
  await page.goto(`${BASE}/app#/reports?start=${daysAgo(29)}&end=${daysAgo(0)}&marketplace=all&group_by=link`);
  await page.getByRole('heading', { name: 'Per link' }).waitFor();
  assert.equal(await page.locator('details.filter-panel').getAttribute('open'), null, 'filters folded');
  const top = await page.locator('[data-kpi="clicks"]').boundingBox();
  assert.ok(top.y < 844, `the first figure is on the first screen (${top.y})`);
  await shot('22-phone-report', false);
  await page.getByText('Filters', { exact: true }).click();
  await page.getByLabel('From', { exact: true }).waitFor();
});

const SCREENS = {
  [CREATOR]: ['catalog', 'links', 'reports', 'bulk', 'access', 'profile'],
  [BRAND]: ['overview', 'brands', 'requests', 'grants', 'seller-report'],
};

for (const [size, viewport] of [['desktop', { width: 1280, height: 860 }], ['phone', { width: 390, height: 844 }]]) {
  test(`axe-core finds no violations on any screen (${size})`, async () => {
    await newPage(viewport);
    await page.goto(`${BASE}/app`);
    await page.getByRole('heading', { name: 'Log in to Quiver' }).waitFor();
    const found = {};
    const login0 = await axeViolations();
    if (login0.length) found.login = login0;
    for (const [who, routes] of Object.entries(SCREENS)) {
      await login(who);
      for (const route of routes) {
        await page.goto(`${BASE}/app#/${route}`);
        await page.locator('.page-title').waitFor();
        await page.waitForLoadState('networkidle');
        const v = await axeViolations();
        if (v.length) found[route] = v;
      }
    }
    assert.deepEqual(found, {});
  });
}

test('the focus ring has at least 3:1 contrast with the page', async () => {
  await page.goto(`${BASE}/app#/catalog`);
  await page.locator('.page-title').waitFor();
  await page.keyboard.press('Tab');
  const [ring, bg] = await page.evaluate(() => {
    const el = document.activeElement;
    const cs = getComputedStyle(el);
    return [cs.outlineColor, getComputedStyle(document.documentElement).backgroundColor];
  });
  const rgb = (s) => s.match(/\d+(\.\d+)?/g).slice(0, 3).map(Number);
  const lum = ([r, g, b]) => {
    const f = (c) => { const v = c / 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const [a, b] = [lum(rgb(ring)), lum(rgb(bg))].sort((x, y) => y - x);
  const contrast = (a + 0.05) / (b + 0.05);
  assert.ok(contrast >= 3, `focus ring ${ring} on ${bg}: ${contrast.toFixed(2)}:1`);
});

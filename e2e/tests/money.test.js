// Statements and payouts (issue 20): on the demo data a past month is final; the brand adds
// a bonus, approves, marks the statement paid and downloads the PayPal file; the creator
// sees it paid. axe-core on both screens, at desktop and phone width.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  BASE, CREATOR, BRAND, page, launch, closeBrowser, newPage, shot, login, api, axeViolations,
} from '../support.mjs';

before(async () => {
  await launch();
  await newPage();
});

after(closeBrowser);

const cents = (v) => Math.round(v * 100);

function monthsAgo(n) {
  const d = new Date();
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() - n);
  return d.toISOString().slice(0, 7);
}

/** The demo seeds its history in the background: wait for the final month's statements. */
async function finalStatements(month) {
  for (let i = 0; i < 120; i++) {
    const r = await api(`/sellers/statements?month=${month}&state=final`);
    if (r.statements.length) return r.statements;
    await new Promise((res) => setTimeout(res, 500));
  }
  throw new Error(`no final statements for ${month}`);
}

test('a brand adjusts, approves and pays a final statement; the creator sees it paid', async () => {
  const month = monthsAgo(2);
  await login(CREATOR);
  await page.goto(`${BASE}/app/#/earnings`);
  await page.getByLabel('PayPal e-mail').fill('creator.paypal@example.com');
  await page.getByRole('button', { name: 'Save payout details' }).click();
  await page.getByText('Payout details saved.').waitFor();
  assert.deepEqual(await axeViolations(), []);
  await shot('70-creator-earnings');

  await login(BRAND);
  const finals = await finalStatements(month);
  const s = finals.find((x) => x.currency === 'USD') || finals[0];
  await page.goto(`${BASE}/app/#/statements?month=${month}`);
  await page.getByRole('region', { name: 'Statements' }).waitFor();
  assert.deepEqual(await axeViolations(), []);
  await shot('71-brand-statements');
  await page.goto(`${BASE}/app/#/statements?id=${s.id}`);
  await page.getByLabel('Amount (negative to deduct)').fill('12.50');
  await page.getByLabel('Reason', { exact: true }).fill('Holiday bonus');
  await page.getByRole('button', { name: 'Add adjustment' }).click();
  await page.getByRole('cell', { name: 'Holiday bonus' }).waitFor();
  await page.getByRole('button', { name: 'Approve' }).click();
  await page.locator('#statement-state', { hasText: 'approved' }).waitFor();
  const approved = await api(`/sellers/statements/${s.id}`);
  assert.equal(cents(approved.total), cents(s.commission) + 1250);
  await shot('72-brand-statement-approved');

  await page.goto(`${BASE}/app/#/statements?month=${month}&state=approved`);
  await page.getByRole('checkbox', { name: new RegExp(`Select ${approved.creator} ${approved.currency}`) }).check();
  await page.getByLabel('Payment reference').fill('PP-E2E-1');
  await page.getByRole('button', { name: 'Mark selected paid' }).click();
  await page.getByText('recorded').waitFor();
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download PayPal file' }).click(),
  ]);
  const file = readFileSync(await download.path(), 'utf8').trim().split('\n');
  const line = file.find((l) => l.includes(s.id));
  assert.ok(line, file.join('\n'));
  assert.deepEqual(line.split(','), ['creator.paypal@example.com', (cents(approved.total) / 100).toFixed(2), approved.currency, s.id, `${approved.brand_name} commission ${month}`, 'PAYPAL']);
  await shot('73-brand-payout-recorded');

  await login(CREATOR);
  await page.goto(`${BASE}/app/#/earnings?start_month=${month}&end_month=${month}`);
  await page.getByRole('cell', { name: 'paid' }).first().waitFor();
  await page.goto(`${BASE}/app/#/earnings?id=${s.id}`);
  await page.locator('#statement-state', { hasText: 'paid' }).waitFor();
  assert.ok((await page.locator('#statement-total').textContent()).length > 0);
  await shot('74-creator-statement-paid');
  await newPage({ width: 390, height: 844 });
  await login(CREATOR);
  await page.goto(`${BASE}/app/#/earnings?id=${s.id}`);
  await page.locator('#statement-state', { hasText: 'paid' }).waitFor();
  assert.deepEqual(await axeViolations(), []);
  await shot('75-creator-statement-phone');
});

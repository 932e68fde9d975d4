// The creator–brand relationship (#15): a creator's public profile, the request picker,
// the brand opening the profile from a request and declining with a reason after confirming,
// the creator seeing the decision; QR downloads with a quiet zone at a chosen size; bulk
// upload with a preview, per-row results and past jobs; stale screens after an error. Phone
// width and axe-core included. Creators of its own (made with `quiver admin`), so it runs
// alone or after the other files.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  BASE, DB, BRAND, page, launch, closeBrowser, newPage, shot, login, api, axeViolations, noHorizontalScroll, createCreator,
} from '../support.mjs';

const REL = 'rel-creator@example.com';

before(async () => {
  assert.ok(DB, 'QUIVER_E2E_DATABASE names the server database');
  createCreator(REL, 'Rel Creator');
  await launch();
  await newPage();
});

after(closeBrowser);

test('a creator fills in the public profile, with field errors that clear when fixed', async () => {
  await login(REL);
  await page.getByRole('link', { name: 'My profile' }).click();
  await page.getByRole('heading', { name: 'My profile' }).waitFor();
  await page.getByLabel('Display name').fill('Lamp Reviews by Rel');
  await page.getByLabel('Pitch to brands').fill('I review desk lamps and light strips for 40k subscribers.');
  await page.getByRole('button', { name: 'Add a channel' }).click();
  await page.getByLabel('Channel 1 name').fill('YouTube');
  await page.getByLabel('Channel 1 address').fill('youtube.com/@lamps');
  await page.getByRole('button', { name: 'Save profile' }).click();
  // The server refuses an address without a scheme; the error sits under that field.
  const error = page.locator('#' + await page.getByLabel('Channel 1 address').getAttribute('id') + '-error');
  await error.getByText('Enter a full http:// or https:// address').waitFor();
  assert.equal(await page.getByLabel('Channel 1 address').getAttribute('aria-invalid'), 'true');
  await page.getByLabel('Channel 1 address').fill('https://youtube.com/@lamps');
  assert.equal(await error.isHidden(), true, 'the error clears once the field is edited');
  await page.getByRole('button', { name: 'Save profile' }).click();
  await page.getByText('Saved. Brands now see this profile.').waitFor();
  const p = await api('/account/profile');
  assert.equal(p.display_name, 'Lamp Reviews by Rel');
  assert.deepEqual(p.channels, [{ name: 'YouTube', url: 'https://youtube.com/@lamps' }]);
  await shot('40-creator-profile');
  assert.deepEqual(await axeViolations(), []);
});

test('the request picker leaves out brands already promotable or already asked', async () => {
  await page.getByRole('link', { name: 'Access requests' }).click();
  const picker = page.getByLabel('Brand', { exact: true });
  await picker.locator('option[value="lumen-home"]').waitFor({ state: 'attached' });
  const brands = (await api('/brands?limit=500')).brands;
  const offered = await picker.locator('option').evaluateAll((os) => os.map((o) => o.value).filter(Boolean));
  assert.deepEqual(offered.sort(), brands.filter((b) => b.program_mode === 'approval' && !b.can_promote).map((b) => b.brand_id).sort());
  for (const b of brands.filter((x) => x.can_promote)) assert.ok(!offered.includes(b.brand_id), `${b.brand_id} is promotable`);
  await picker.selectOption('lumen-home');
  await page.getByLabel('Message to the brand (optional)').fill('Rel here: lamps are my whole channel.');
  await page.getByRole('button', { name: 'Request access' }).click();
  await page.getByText(/Access requested from Lumen Home/).waitFor();
  await page.locator('tbody tr').filter({ hasText: 'Lumen Home' }).getByText('pending').waitFor();
  // Asked: no longer offered.
  assert.equal(await picker.locator('option[value="lumen-home"]').count(), 0);
});

test('the brand opens the requester’s profile and declines with a reason after confirming', async () => {
  await login(BRAND);
  await page.getByRole('link', { name: /Access requests/ }).click();
  const row = page.locator('tbody tr').filter({ hasText: 'Lamp Reviews by Rel' });
  await row.waitFor();
  // The creator's own words reach the brand, on the request and in the profile's history.
  await row.getByText('Rel here: lamps are my whole channel.', { exact: true }).waitFor();
  await row.getByRole('button', { name: 'Profile of Lamp Reviews by Rel' }).click();
  const profile = page.getByRole('dialog', { name: 'Profile of Lamp Reviews by Rel' });
  await profile.getByText('I review desk lamps and light strips for 40k subscribers.').waitFor();
  assert.equal(await profile.getByRole('link', { name: 'YouTube' }).getAttribute('href'), 'https://youtube.com/@lamps');
  const history = profile.getByRole('list', { name: 'History with your brands' });
  assert.deepEqual(await history.getByRole('listitem').allInnerTexts(), [
    `${new Date().toLocaleDateString('en-US', { year: 'numeric', month: 'short', day: 'numeric' })} Asked to promote Lumen Home. Rel here: lamps are my whole channel.`,
  ]);
  await shot('41-brand-creator-profile', false);
  assert.deepEqual(await axeViolations(), []);
  await profile.getByRole('button', { name: 'Close' }).click();

  // Cancelling the confirmation decides nothing.
  await row.getByRole('button', { name: /^Decline Lamp Reviews by Rel/ }).click();
  let confirm = page.getByRole('dialog', { name: /Decline Lamp Reviews by Rel’s request/ });
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  await confirm.waitFor({ state: 'detached' });
  const mine = (await api('/sellers/access_requests?status=pending')).access_requests.filter((a) => a.creator_name === 'Lamp Reviews by Rel');
  assert.equal(mine.length, 1, 'still pending');

  await row.getByRole('button', { name: /^Decline Lamp Reviews by Rel/ }).click();
  confirm = page.getByRole('dialog', { name: /Decline Lamp Reviews by Rel’s request/ });
  await confirm.getByLabel('Reason (optional)').fill('We are only working with kitchen creators this season.');
  await shot('42-brand-decline-with-reason', false);
  await confirm.getByRole('button', { name: 'Decline request' }).click();
  await row.waitFor({ state: 'detached' });
  const declined = await api(`/sellers/access_requests?status=declined`);
  assert.equal(declined.access_requests.find((a) => a.id === mine[0].id).decision_reason, 'We are only working with kitchen creators this season.');
  // The decision is in the creator's history with the brand, newest first, as the API has it.
  await page.getByLabel('Status').selectOption('all');
  await page.getByRole('button', { name: 'Show', exact: true }).click();
  await row.getByRole('button', { name: 'Profile of Lamp Reviews by Rel' }).click();
  const items = page.getByRole('dialog', { name: 'Profile of Lamp Reviews by Rel' }).getByRole('list', { name: 'History with your brands' }).getByRole('listitem');
  await items.nth(1).waitFor();
  const events = (await api(`/sellers/creators/${mine[0].creator}`)).history.map((e) => e.event);
  assert.deepEqual(events, ['declined', 'requested']);
  const texts = await items.allInnerTexts();
  assert.match(texts[0], /Lumen Home declined the request\. We are only working with kitchen creators this season\.$/);
  assert.match(texts[1], /Asked to promote Lumen Home\. Rel here: lamps are my whole channel\.$/);
  await shot('48-brand-creator-history', false);
  assert.deepEqual(await axeViolations(), []);
  await page.keyboard.press('Escape');
});

test('the creator sees the decision and its reason, and may ask again', async () => {
  await login(REL);
  await page.getByRole('link', { name: 'Access requests' }).click();
  const row = page.locator('tbody tr').filter({ hasText: 'Lumen Home' });
  await row.getByText('declined', { exact: true }).waitFor();
  await row.getByText('We are only working with kitchen creators this season.').waitFor();
  // Declined is not pending: the brand is offered again.
  await page.getByLabel('Brand', { exact: true }).locator('option[value="lumen-home"]').waitFor({ state: 'attached' });
  await shot('43-creator-sees-decline');
  assert.deepEqual(await axeViolations(), []);
});

test('an error on a list never leaves the previous rows looking current', async () => {
  const listing = (url) => url.pathname === '/access_requests' && url.searchParams.has('status');
  await page.route(listing, (r) => r.fulfill({ status: 500, contentType: 'application/json', body: '{"detail":"boom","code":"internal"}' }));
  await page.getByRole('button', { name: 'Request access' }).click(); // no brand chosen: a field error, no call
  await page.getByText('Choose a brand.').waitFor();
  await page.getByLabel('Brand', { exact: true }).selectOption('lumen-home');
  assert.equal(await page.getByText('Choose a brand.').isHidden(), true, 'the field error clears when fixed');
  await page.getByRole('button', { name: 'Request access' }).click();
  await page.getByText(/The server had a problem \(500\)/).waitFor();
  assert.equal(await page.locator('tbody tr').count(), 0, 'the old table is gone');
  await page.unroute(listing);
});

test('a QR code downloads as PNG and SVG at the chosen size with a 4-module quiet zone', async () => {
  const r = await page.evaluate(async () => {
    const s = JSON.parse(localStorage.getItem('quiver.session'));
    const res = await fetch('/generate_attribution_link', { method: 'POST', headers: { Authorization: `Bearer ${s.access}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ asin: 'B0D45KS7QM', link_name: 'rel-qr' }) });
    return res.status;
  });
  assert.equal(r, 201);
  await page.getByRole('link', { name: 'My links' }).click();
  const row = page.locator('tbody tr').filter({ hasText: 'rel-qr' });
  await row.getByRole('button', { name: 'QR code for rel-qr' }).click();
  await row.getByRole('img', { name: 'QR code for rel-qr' }).waitFor();
  await row.getByLabel('QR size').selectOption('1024');
  const [png] = await Promise.all([page.waitForEvent('download'), row.getByRole('button', { name: 'Download PNG QR code for rel-qr' }).click()]);
  assert.match(png.suggestedFilename(), /^quiver-qr-rel-qr-1024\.png$/);
  const bytes = readFileSync(await png.path());
  assert.equal(bytes.subarray(1, 4).toString(), 'PNG');
  assert.equal(bytes.readUInt32BE(16), 1024, 'width');
  assert.equal(bytes.readUInt32BE(20), 1024, 'height');
  // Measured on the image itself: the finder pattern's 7 dark modules give the module size;
  // the light border before it is at least 4 of them.
  const zone = await page.evaluate(async (b64) => {
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const c = document.createElement('canvas');
    c.width = img.width; c.height = img.height;
    const ctx = c.getContext('2d');
    ctx.drawImage(img, 0, 0);
    const { data } = ctx.getImageData(0, 0, c.width, c.height);
    const dark = (x, y) => data[(y * c.width + x) * 4] < 128;
    let first = null;
    for (let y = 0; y < c.height && !first; y++) for (let x = 0; x < c.width; x++) if (dark(x, y)) { first = { x, y }; break; }
    let run = 0;
    while (dark(first.x + run, first.y)) run++;
    return { x: first.x, y: first.y, module: run / 7 };
  }, bytes.toString('base64'));
  assert.ok(zone.module >= 1 && Number.isInteger(zone.module), `whole-pixel modules (${zone.module})`);
  assert.ok(zone.x >= 4 * zone.module && zone.y >= 4 * zone.module, `quiet zone of 4 modules (${JSON.stringify(zone)})`);

  await row.getByLabel('QR size').selectOption('256');
  const [svg] = await Promise.all([page.waitForEvent('download'), row.getByRole('button', { name: 'Download SVG QR code for rel-qr' }).click()]);
  const text = readFileSync(await svg.path(), 'utf8');
  assert.match(text, /<svg [^>]*width="256" height="256"/);
  const [, total] = text.match(/viewBox="0 0 (\d+) \1"/);
  const link = (await api('/get_all_links?link_name=rel-qr')).all_links[0];
  assert.ok(link.url, 'the link has a URL');
  assert.match(text, /<path d="M4 4h1v1h-1z/, 'the first dark module sits 4 modules in');
  assert.ok(Number(total) >= 21 + 8, 'the view box holds the code plus 4 modules each side');
  await shot('44-links-qr-download');
});

test('bulk upload: pasted CSV is previewed and checked per row, results show per row, past jobs stay listed', async () => {
  await page.getByRole('link', { name: 'Bulk upload' }).click();
  await page.getByText('The CSV format').click();
  await page.getByText(/asin: the product’s 10-letter or digit Amazon id/).waitFor();
  const paste = page.getByLabel('Or paste CSV');
  await paste.fill('asin,link_name,marketplace\nB0D45KS7QM,rel-bulk-1,amazon.com\nnot-an-asin,rel-bulk-2,amazon.com\nB0NOSUCH01,rel-bulk-3,amazon.moon\n');
  await page.getByText('2 of 3 rows need fixing before anything is sent.').waitFor();
  const preview = page.locator('.bulk-preview');
  await preview.locator('tbody tr').filter({ hasText: 'not-an-asin' }).getByText('ASIN must be 10 letters or digits').waitFor();
  await preview.locator('tbody tr').filter({ hasText: 'amazon.moon' }).getByText('amazon.moon is not a supported marketplace').waitFor();
  await shot('45-bulk-preview');
  assert.deepEqual(await axeViolations(), []);
  const before = (await api('/bulk_jobs')).bulk_jobs.length;
  await page.getByRole('button', { name: 'Upload and create links' }).click();
  await page.getByText('Fix the 2 rows marked in the preview; nothing was sent.').waitFor();
  assert.equal((await api('/bulk_jobs')).bulk_jobs.length, before, 'nothing was sent');

  await paste.fill('asin,link_name,marketplace\nB0D45KS7QM,rel-bulk-1,amazon.com\nB0NOSUCH01,rel-bulk-3,amazon.com\n');
  await page.getByText('2 rows ready to send.').waitFor();
  await page.getByRole('button', { name: 'Upload and create links' }).click();
  await page.getByText(/Done: 2 of 2 processed, 1 created, 1 failed/).waitFor({ timeout: 60_000 });
  const results = page.getByRole('region', { name: 'Bulk job results' });
  await results.locator('tbody tr').filter({ hasText: 'rel-bulk-1' }).getByText('Created').waitFor();
  await results.locator('tbody tr').filter({ hasText: 'rel-bulk-3' }).getByText('Failed').waitFor();
  await shot('46-bulk-results');

  // Leaving and coming back: the job is listed with its progress and opens again.
  await page.getByRole('link', { name: 'Catalog' }).click();
  await page.getByRole('link', { name: 'Bulk upload' }).click();
  const jobs = page.getByRole('region', { name: 'Your bulk jobs' });
  await jobs.locator('tbody tr').first().getByText('2 of 2').waitFor();
  await jobs.locator('tbody tr').first().getByRole('button', { name: /^Show job/ }).click();
  await page.getByRole('region', { name: 'Bulk job results' }).locator('tbody tr').filter({ hasText: 'rel-bulk-1' }).waitFor();
});

test('at phone width the profile, requests and bulk screens fit and are axe-clean', async () => {
  await newPage({ width: 390, height: 844 });
  await login(REL);
  const found = {};
  for (const route of ['profile', 'access', 'bulk', 'links']) {
    await page.goto(`${BASE}/app#/${route}`);
    await page.locator('.page-title').waitFor();
    await page.waitForLoadState('networkidle');
    await noHorizontalScroll();
    const v = await axeViolations();
    if (v.length) found[route] = v;
  }
  await page.goto(`${BASE}/app#/profile`);
  await page.getByLabel('Channel 1 address').waitFor();
  await shot('47-phone-profile', false);
  assert.deepEqual(found, {});
});

// Short links (issue #19) in a real headless Chromium: the creator copies a link's short
// URL, a phone opens it (the trip to Amazon is intercepted before leaving), and the live
// click counter on the link's Clicks screen moves; a chat app's preview fetch is shown as
// not counted.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  BASE, CREATOR, BRAND, browser, page, consoleErrors, launch, closeBrowser, newPage, shot, login, api, axeViolations,
} from '../support.mjs';

const IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1';

let shortUrl;
let linkId;

before(async () => {
  await launch();
  await newPage();
});

after(closeBrowser);

test('a new link shows its short URL with a copy button and a QR code of it', async () => {
  await login(CREATOR);
  await page.getByRole('link', { name: 'Catalog' }).click();
  await page.getByLabel('Search').fill('Trail Backpack');
  await page.getByLabel('Marketplace').selectOption('amazon.com');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  const card = page.locator('li.product').filter({ hasText: 'Northwind Trail Backpack 30L' }).filter({ hasText: ' · amazon.com' }).first();
  await card.getByRole('button', { name: /Create link/ }).click();
  const dialog = page.getByRole('dialog', { name: 'Create a link' });
  await dialog.getByLabel('Link name').fill('e2e-short-link');
  await dialog.getByRole('button', { name: 'Create link' }).click();
  const short = dialog.getByRole('textbox', { name: /Short URL/ });
  await short.waitFor();
  shortUrl = await short.inputValue();
  assert.match(shortUrl, new RegExp(`^${BASE}/r/[A-Za-z0-9]{8}$`));
  await dialog.getByRole('img', { name: /QR code for the short URL/ }).waitFor();
  await dialog.getByRole('button', { name: /^Copy short URL/ }).click();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), shortUrl);
  await shot('60-short-url');
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
});

test('a phone opens the short URL, the counter moves, and a preview fetch is not counted', async () => {
  // Open the link's Clicks screen from the list.
  await page.getByRole('link', { name: 'My links' }).click();
  await page.getByLabel('Name contains').fill('e2e-short-link');
  await page.getByRole('button', { name: 'Filter', exact: true }).click();
  const clicksLink = page.getByRole('link', { name: /^0 clicks$/ }).first();
  await clicksLink.click();
  await page.getByRole('heading', { name: 'Clicks', level: 1 }).waitFor();
  linkId = new URLSearchParams(page.url().split('?')[1]).get('link');
  assert.ok(linkId);
  await page.locator('#clicks-total', { hasText: '0' }).waitFor();

  // A phone-sized browser follows the short URL; the trip to Amazon is intercepted.
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, userAgent: IPHONE, isMobile: true, hasTouch: true });
  // Playwright does not route a redirect's target, so the short URL's own answer is taken
  // (the server counts it) and the hop to Amazon is answered here instead of leaving.
  let reachedAmazon = null;
  await phone.route(`${BASE}/r/**`, async (r) => {
    const answer = await r.fetch({ maxRedirects: 0 });
    assert.equal(answer.status(), 302);
    assert.equal(answer.headers()['cache-control'], 'private, no-store');
    reachedAmazon = answer.headers().location;
    return r.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>Amazon (intercepted)</title><h1>Amazon product page</h1>' });
  });
  const p = await phone.newPage();
  await p.goto(shortUrl);
  await p.getByRole('heading', { name: 'Amazon product page' }).waitFor();
  assert.match(reachedAmazon, /^https:\/\/www\.amazon\.com\/dp\/B0D45KS7QM\?maas=/);
  await phone.close();

  // A chat app unfurling the link: filtered as a preview, not counted.
  const preview = await fetch(shortUrl, { redirect: 'manual', headers: { 'user-agent': 'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)' } });
  assert.equal(preview.status, 302);

  // The open screen polls: within seconds it shows one click, from a mobile device.
  await page.locator('#clicks-total', { hasText: /^1$/ }).waitFor({ timeout: 20_000 });
  await page.getByRole('region', { name: 'Device' }).getByText('mobile').waitFor();
  await page.locator('[data-reason="preview"]', { hasText: /^1$/ }).waitFor({ timeout: 20_000 });
  await shot('61-link-clicks');
  assert.deepEqual(await axeViolations(), []);
});

test('the clicks screen works at phone width', async () => {
  const session = await page.evaluate(() => JSON.stringify({ ...sessionStorage }));
  const local = await page.evaluate(() => JSON.stringify({ ...localStorage }));
  await newPage({ width: 390, height: 844 });
  await page.goto(`${BASE}/app`);
  await page.evaluate(([s, l]) => {
    for (const [k, v] of Object.entries(JSON.parse(s))) sessionStorage.setItem(k, v);
    for (const [k, v] of Object.entries(JSON.parse(l))) localStorage.setItem(k, v);
  }, [session, local]);
  await page.goto(`${BASE}/app/#/clicks?link=${encodeURIComponent(linkId)}`);
  await page.reload();
  await page.locator('#clicks-total', { hasText: /^1$/ }).waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `the page is ${overflow}px wider than the phone`);
  await shot('62-link-clicks-phone');
});

test('the brand sees clicks by creator and source', async () => {
  await newPage();
  await login(BRAND);
  await page.getByRole('link', { name: 'Clicks' }).click();
  await page.getByRole('heading', { name: 'Clicks', level: 1 }).waitFor();
  await page.getByRole('region', { name: 'Creator' }).getByText('aff_demo_creator').waitFor();
  await page.getByRole('region', { name: 'Source' }).waitFor();
  await shot('63-brand-clicks');
  assert.deepEqual(await axeViolations(), []);
  assert.deepEqual(consoleErrors, []);
});

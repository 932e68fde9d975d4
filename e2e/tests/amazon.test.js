// #18 in Chromium: the second demo brand (no Amazon connection) connects its Amazon Ads
// account through the simulator's Login with Amazon consent page, picks a profile and an
// advertiser, and a creator's new link carries that advertiser's tag; revoking the grant in
// the simulator shows the brand the reconnect banner (and one e-mail) and gives creators a
// 409; reconnecting restores links; a denied consent says so; disconnecting asks first.
// Phone width and axe-core included.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { chromium } from 'playwright-core';

const BASE = process.env.QUIVER_URL;
const MAILBOX = process.env.QUIVER_E2E_MAILBOX;
const SHOTS = process.env.QUIVER_E2E_SCREENSHOTS || path.resolve('artifacts/screenshots');
const PASSWORD = 'quiver-demo';
const BRAND = 'brand2@example.com';
const CREATOR = 'creator@example.com';
const SIM_USER = 'Alice Example (Acme Outdoor)';
const NA = 'North America (NA)';
const EU = 'Europe (EU)';
const TIMEOUT = 15_000;
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

if (!BASE || !MAILBOX) throw new Error('QUIVER_URL or QUIVER_E2E_MAILBOX is not set: run the suite with e2e/run.sh');

let browser;
let context;
let page;
// Learnt on the way: the demo brand of brand2, the simulator's origin (from its consent
// page), the advertiser chosen, and an ASIN of the brand on amazon.com.
let brand;
let sim;
let advertiserId;
let asin;
let creatorToken;
let lastLink;

async function newPage(viewport = { width: 1280, height: 860 }) {
  if (context) await context.close();
  context = await browser.newContext({ viewport });
  context.setDefaultTimeout(TIMEOUT);
  await context.route('https://assets.quiver.example/**', (r) => r.abort());
  page = await context.newPage();
  return page;
}

async function shot(name, fullPage = true) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage });
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

/** Calls the API with the page's own (brand) session. */
function brandApi(method, p, json) {
  return page.evaluate(async ([m, url, body]) => {
    const s = JSON.parse(localStorage.getItem('quiver.session'));
    const headers = { Authorization: `Bearer ${s.access}` };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const r = await fetch(url, { method: m, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: r.status, body: r.status === 204 ? null : await r.json().catch(() => null) };
  }, [method, p, json]);
}

async function token(email) {
  const r = await fetch(`${BASE}/token`, { method: 'POST', body: new URLSearchParams({ username: email, password: PASSWORD }) });
  assert.equal(r.status, 200, await r.clone().text());
  return (await r.json()).access_token;
}

/** The creator makes a link for the brand's product over the API: {status, body}. */
async function creatorLink(name) {
  const r = await fetch(`${BASE}/generate_attribution_link`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${creatorToken}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ asin, marketplace: 'amazon.com', link_name: name }),
  });
  return { status: r.status, body: await r.json() };
}

async function axeViolations() {
  await page.evaluate(AXE);
  return page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => `${v.id} ×${v.nodes.length}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
  });
}

async function noHorizontalScroll() {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no horizontal scrolling (${overflow}px too wide)`);
}

/** The e-mails the brand owner got that speak of reconnecting. */
async function reconnectMails() {
  const all = await (await fetch(`${MAILBOX}/messages`)).json();
  return all.filter((m) => m.to.includes(BRAND) && /reconnect/i.test(m.data.replace(/=\r?\n/g, '')));
}

const region = (code) => page.locator(`.amazon-region[data-brand="${brand.brand_id}"][data-region="${code}"]`);
const badge = (code) => region(code).locator('h3 .badge');

/** On the simulator's consent page: signs in as `user` and approves (or denies). */
async function consent(decision) {
  await page.waitForURL(/\/ap\/oa\?/);
  const url = new URL(page.url());
  sim = url.origin;
  assert.notEqual(sim, new URL(BASE).origin, 'the consent page is the simulator’s, not Quiver’s');
  assert.equal(url.searchParams.get('response_type'), 'code');
  assert.equal(url.searchParams.get('scope'), 'advertising::campaign_management');
  assert.equal(url.searchParams.get('redirect_uri'), `${BASE}/sellers/amazon/callback`);
  assert.ok((url.searchParams.get('state') || '').length >= 16, 'a random state');
  await page.getByRole('heading', { name: 'Allow Quiver access?' }).waitFor();
  await page.getByLabel(SIM_USER).check();
  await page.getByRole('button', { name: decision }).click();
  await page.waitForURL((u) => u.origin === new URL(BASE).origin && u.pathname.startsWith('/app'));
}

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: process.env.QUIVER_E2E_CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  await newPage();
  creatorToken = await token(CREATOR);
});

after(async () => {
  if (browser) await browser.close();
});

test('a brand with no Amazon connection connects through the consent page, picks profile and advertiser, and new links carry its tag', async () => {
  await login(BRAND);
  const brands = await brandApi('GET', '/sellers/brands?limit=100');
  assert.equal(brands.status, 200);
  assert.equal(brands.body.brands.length, 1, 'the second demo seller owns one brand');
  [brand] = brands.body.brands;
  // Creators may promote it (a grant when the brand is in approval mode).
  if (brand.program_mode === 'approval') {
    const g = await brandApi('POST', `/sellers/brands/${encodeURIComponent(brand.brand_id)}/grants`, { email: CREATOR });
    assert.equal(g.status, 201, JSON.stringify(g.body));
  }
  const products = await (await fetch(`${BASE}/getproducts?brand_id=${encodeURIComponent(brand.brand_id)}&marketplace=amazon.com&product_available=either`, { headers: { Authorization: `Bearer ${creatorToken}` } })).json();
  asin = products.product_catalog[0]?.asin;
  assert.ok(asin, 'the brand has products on amazon.com');

  // Not connected yet: a creator cannot make a link, and says why.
  const early = await creatorLink('before-connect');
  assert.equal(early.status, 409, JSON.stringify(early.body));
  assert.equal(early.body.code, 'brand_not_connected');

  await page.getByRole('link', { name: 'Amazon', exact: true }).click();
  await page.getByRole('heading', { name: 'Amazon', exact: true }).waitFor();
  await page.getByRole('heading', { name: new RegExp(brand.brand_name) }).waitFor();
  for (const code of ['NA', 'EU', 'FE']) assert.equal(await badge(code).textContent(), 'Not connected', code);
  assert.equal(await page.locator('#alerts').isHidden(), true, 'no banner while nothing needs reconnecting');
  await shot('80-amazon-not-connected');

  await page.getByRole('button', { name: `Connect ${brand.brand_name} in ${NA}` }).click();
  await consent('Approve');

  await page.getByText(`Amazon account connected for ${brand.brand_name} in ${NA}`).waitFor();
  // The connection flags are not kept in the address: a reload does not repeat the message.
  assert.ok(!page.url().includes('connected=1'), page.url());
  const profile = page.getByLabel('Amazon Ads profile');
  const advertiser = page.getByLabel('Attribution advertiser');
  await profile.waitFor();
  // Alice's profiles in North America (US, CA): the last one, not the one preselected, to
  // show that the choice is the brand's.
  const options = await profile.locator('option').evaluateAll((os) => os.map((o) => [o.value, o.textContent]));
  const northAmerican = options.filter(([, text]) => /\((US|CA|MX),/.test(text));
  assert.ok(northAmerican.length >= 1, `North American profiles from the brand’s own authorisation: ${JSON.stringify(options)}`);
  const profileId = northAmerican[northAmerican.length - 1][0];
  await profile.selectOption(profileId);
  const adIds = await advertiser.locator('option').evaluateAll((os) => os.map((o) => o.value));
  assert.ok(adIds.length >= 1, 'advertisers of the chosen profile');
  advertiserId = adIds[adIds.length - 1];
  await advertiser.selectOption(advertiserId);
  assert.deepEqual(await axeViolations(), []);
  await shot('81-amazon-picker');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.waitForFunction((sel) => document.querySelector(sel)?.textContent === 'Connected', `.amazon-region[data-brand="${brand.brand_id}"][data-region="NA"] h3 .badge`);
  await region('NA').getByText(advertiserId, { exact: true }).waitFor();
  await region('NA').getByRole('button', { name: `Disconnect ${brand.brand_name} in ${NA}` }).waitFor();

  const status = await brandApi('GET', `/sellers/brands/${encodeURIComponent(brand.brand_id)}/amazon`);
  const na = status.body.regions.find((r) => r.region === 'NA');
  assert.equal(na.status, 'connected');
  assert.equal(na.via, 'brand');
  assert.equal(na.advertiser_id, advertiserId);
  assert.equal(na.profile_id, profileId);
  assert.ok(na.connected_at);

  // A creator's new link carries that advertiser's Attribution tag, and the simulator
  // attributes a click on it to that advertiser.
  const link = await creatorLink('after-connect');
  assert.equal(link.status, 201, JSON.stringify(link.body));
  assert.match(link.body.url, new RegExp(`[?&]maas=maas_adg_api_${advertiserId}_`), link.body.url);
  const visit = await fetch(`${sim}/_sim/visits`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ url: link.body.url, clicks: 3 }) });
  assert.ok(visit.ok, await visit.text());
  const day = (n) => { const d = new Date(); d.setUTCDate(d.getUTCDate() + n); return d.toISOString().slice(0, 10); };
  const truth = await (await fetch(`${sim}/_sim/truth?advertiserId=${advertiserId}&start=${day(-7)}&end=${day(7)}`)).json();
  const adGroup = new URL(link.body.url).searchParams.get('aa_adgroupid');
  const clicks = truth.rows.filter((r) => r.adGroupId === adGroup).reduce((n, r) => n + r.clicks, 0);
  assert.equal(clicks, 3, 'the simulator counts the clicks for that advertiser’s ad group');
  await shot('82-amazon-connected');

  // The overview says so too.
  await page.getByRole('link', { name: 'Overview' }).click();
  await page.locator('#brand-amazon tbody tr', { hasText: brand.brand_name }).getByText('Connected by the brand (NA)').waitFor();
  await page.getByRole('link', { name: 'Connect or manage your Amazon Ads accounts' }).click();
  await badge('NA').waitFor();
});

test('revoking the grant in the simulator: the brand sees the reconnect banner and one e-mail, creators a 409', async () => {
  const revoked = await fetch(`${sim}/_sim/users/alice/revoke`, { method: 'POST' });
  assert.ok(revoked.ok, await revoked.text());
  // The next use of the authorisation (here: listing the profiles) finds it revoked.
  await region('NA').getByRole('button', { name: `Change profile for ${brand.brand_name} in ${NA}` }).click();
  await region('NA').getByText(/Amazon no longer accepts Quiver’s access to .*: reconnect, then choose the profile\./).waitFor();
  await page.waitForFunction((sel) => document.querySelector(sel)?.textContent === 'Reconnect needed', `.amazon-region[data-brand="${brand.brand_id}"][data-region="NA"] h3 .badge`);
  const banner = page.getByRole('region', { name: 'Alerts' });
  await banner.getByText('Amazon Ads needs reconnecting.').waitFor();
  await banner.getByRole('button', { name: `Reconnect ${brand.brand_name} in ${NA}` }).waitFor();

  const refused = await creatorLink('after-revoke');
  assert.equal(refused.status, 409, JSON.stringify(refused.body));
  assert.equal(refused.body.code, 'brand_not_connected');
  assert.match(refused.body.detail, /reconnect/i);

  // The banner is on every brand screen, not only this one.
  await page.getByRole('link', { name: 'Grants' }).click();
  await page.getByRole('heading', { name: 'Grants' }).waitFor();
  await banner.getByText('Amazon Ads needs reconnecting.').waitFor();

  // One e-mail to the brand owner, however often the connection is used afterwards.
  let mails = [];
  for (let i = 0; i < 100 && !mails.length; i++) {
    mails = await reconnectMails();
    if (!mails.length) await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(mails.length, 1, 'one e-mail about reconnecting');
  assert.equal((await creatorLink('after-revoke-2')).status, 409);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal((await reconnectMails()).length, 1, 'still one e-mail');

  // On a phone: the banner and the Amazon screen fit, and pass axe.
  const session = await page.evaluate(() => localStorage.getItem('quiver.session'));
  await newPage({ width: 390, height: 844 });
  await page.goto(`${BASE}/app`);
  await page.evaluate((s) => localStorage.setItem('quiver.session', s), session);
  await page.goto(`${BASE}/app#/amazon`);
  await page.getByRole('heading', { name: 'Amazon', exact: true }).waitFor();
  await badge('NA').waitFor();
  await page.getByRole('region', { name: 'Alerts' }).getByText('Amazon Ads needs reconnecting.').waitFor();
  await noHorizontalScroll();
  assert.deepEqual(await axeViolations(), []);
  await shot('83-amazon-reconnect-phone');
  // At phone width the navigation sits behind the menu button.
  await page.getByRole('button', { name: /^Menu/ }).click();
  await page.getByRole('link', { name: 'Overview' }).click();
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  await noHorizontalScroll();
  await newPage();
  await page.goto(`${BASE}/app`);
  await page.evaluate((s) => localStorage.setItem('quiver.session', s), session);
  await page.goto(`${BASE}/app#/amazon`);
  await badge('NA').waitFor();
});

test('reconnecting from the banner keeps the chosen advertiser and makes links work again', async () => {
  await page.getByRole('region', { name: 'Alerts' }).getByRole('button', { name: `Reconnect ${brand.brand_name} in ${NA}` }).click();
  await consent('Approve');
  await page.getByText(`Amazon account connected for ${brand.brand_name} in ${NA}`).waitFor();
  await page.waitForFunction((sel) => document.querySelector(sel)?.textContent === 'Connected', `.amazon-region[data-brand="${brand.brand_id}"][data-region="NA"] h3 .badge`);
  assert.equal(await page.getByLabel('Attribution advertiser').inputValue(), advertiserId);
  await page.getByRole('region', { name: 'Alerts' }).waitFor({ state: 'hidden' });
  const link = await creatorLink('after-reconnect');
  assert.equal(link.status, 201, JSON.stringify(link.body));
  assert.match(link.body.url, new RegExp(`[?&]maas=maas_adg_api_${advertiserId}_`));
  lastLink = link.body;
});

test('a denied consent says so and connects nothing', async () => {
  // By keyboard.
  await page.getByRole('button', { name: `Connect ${brand.brand_name} in ${EU}` }).focus();
  await page.keyboard.press('Enter');
  await consent('Deny');
  const msg = page.getByText(/Connection refused: you chose Deny on Amazon's page/);
  await msg.waitFor();
  assert.match(await msg.textContent(), new RegExp(`${brand.brand_name} in ${EU.replace(/[()]/g, '\\$&')}`));
  assert.equal(await badge('EU').textContent(), 'Not connected');
  const status = await brandApi('GET', `/sellers/brands/${encodeURIComponent(brand.brand_id)}/amazon`);
  assert.equal(status.body.regions.find((r) => r.region === 'EU').status, 'not_connected');
  await shot('84-amazon-denied');
  assert.deepEqual(await axeViolations(), []);
});

test('disconnecting asks first; afterwards creators get a 409 and existing links keep redirecting', async () => {
  const off = region('NA').getByRole('button', { name: `Disconnect ${brand.brand_name} in ${NA}` });
  await off.click();
  const dialog = page.getByRole('dialog', { name: `Disconnect ${brand.brand_name} in ${NA}?` });
  // The safe choice has the focus; Escape cancels.
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Cancel');
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  assert.equal(await badge('NA').textContent(), 'Connected', 'cancelling changes nothing');
  await off.click();
  await dialog.getByRole('button', { name: 'Disconnect' }).click();
  await page.waitForFunction((sel) => document.querySelector(sel)?.textContent === 'Not connected', `.amazon-region[data-brand="${brand.brand_id}"][data-region="NA"] h3 .badge`);
  const refused = await creatorLink('after-disconnect');
  assert.equal(refused.status, 409, JSON.stringify(refused.body));
  assert.equal(refused.body.code, 'brand_not_connected');
  // A link made while connected still sends shoppers to Amazon with its tag.
  assert.ok(lastLink.short_url, 'links have a short URL');
  const hop = await fetch(lastLink.short_url, { redirect: 'manual' });
  assert.equal(hop.status, 302);
  assert.equal(hop.headers.get('location'), lastLink.url);
});

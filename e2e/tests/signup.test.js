// Joining in a real browser: sign up, read the e-mail from the run's SMTP sink, verify,
// create a link; a brand's invitation accepted with a new account that may then promote
// the brand's approval-mode product; an API key made in the app working and revoked.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  BASE, PASSWORD, BRAND, page, launch, closeBrowser, newPage, login, linkFor,
} from '../support.mjs';

const STRONG = 'lantern meadow quartz 77';

async function createLink(search, title, name) {
  await page.getByRole('link', { name: 'Catalog' }).click();
  await page.getByLabel('Search').fill(search);
  await page.getByLabel('Marketplace').selectOption('amazon.com');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  const card = page.locator('li.product').filter({ hasText: title }).filter({ hasText: ' · amazon.com' }).first();
  await card.getByRole('button', { name: /Create link/ }).click();
  const dialog = page.getByRole('dialog', { name: 'Create a link' });
  await dialog.getByLabel('Link name').fill(name);
  await dialog.getByRole('button', { name: 'Create link' }).click();
  return dialog;
}

before(async () => {
  await launch();
  await newPage();
});

after(closeBrowser);

test('a new creator signs up, confirms the e-mail and creates a link', async () => {
  const email = `joiner-${Date.now()}@example.com`;
  await page.goto(`${BASE}/app`);
  await page.getByRole('link', { name: 'Create an account' }).click();
  await page.getByLabel('Display name').fill('Joiner');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('password123');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByText(/The password is too easy to guess/).waitFor();
  await page.getByLabel('Password').fill(STRONG);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('heading', { name: 'Check your inbox' }).waitFor();

  // Before confirming, creating a link is refused with the reason.
  await login(email, STRONG);
  let dialog = await createLink('Trail Backpack', 'Northwind Trail Backpack 30L', 'before-verify');
  await dialog.getByText(/Verify your e-mail address/).waitFor();

  await page.goto(await linkFor(email, 'verify'));
  await page.getByText(`Thank you: ${email} is confirmed.`).waitFor();
  await login(email, STRONG);
  dialog = await createLink('Trail Backpack', 'Northwind Trail Backpack 30L', 'joiner-first-link');
  const url = dialog.getByRole('textbox', { name: /Link URL/ });
  await url.waitFor();
  assert.match(await url.inputValue(), /^https:\/\/www\.amazon\.com\/dp\/B0D45KS7QM\?maas=/);
});

test('a brand invites a creator who accepts and promotes an approval-mode product', async () => {
  const email = `invited-${Date.now()}@example.net`;
  await newPage();
  await login(BRAND, PASSWORD);
  await page.getByRole('link', { name: 'Invitations' }).click();
  await page.getByLabel('Brand').selectOption('lumen-home');
  await page.getByLabel("Creator's email").fill(email);
  await page.getByLabel(/Commission for this creator/).fill('14');
  await page.getByRole('button', { name: 'Send invitation' }).click();
  await page.getByText(`Invitation sent to ${email}.`).waitFor();
  await page.getByRole('cell', { name: email, exact: true }).waitFor();

  await newPage();
  await page.goto(await linkFor(email, 'invitation'));
  await page.getByRole('heading', { name: 'Join Lumen Home' }).waitFor();
  await page.getByLabel('Display name').fill('Invited Creator');
  await page.getByLabel('Password').fill(STRONG);
  await page.getByRole('button', { name: 'Create account and accept' }).click();
  await page.getByText("You may now promote Lumen Home's products.").waitFor();
  await page.getByRole('link', { name: /Go to the catalog|Log in to start/ }).click();
  const dialog = await createLink('Smart Desk Lamp', 'Lumen Smart Desk Lamp', 'invited-lamp');
  await dialog.getByRole('textbox', { name: /Link URL/ }).waitFor();
});

test('an API key made in the app works with a plain HTTP client until it is revoked', async () => {
  await newPage();
  await login('creator@example.com', PASSWORD);
  await page.getByRole('link', { name: 'Account' }).click();
  await page.getByLabel('Key name').fill('e2e script');
  await page.getByRole('button', { name: 'Create key' }).click();
  const shown = page.getByRole('textbox', { name: 'New API key' });
  await shown.waitFor();
  const key = await shown.inputValue();
  assert.match(key, /^qk_/);
  const get = () => fetch(`${BASE}/get_all_links`, { headers: { Authorization: `Bearer ${key}` } });
  assert.equal((await get()).status, 200);
  page.once('dialog', (d) => d.accept());
  await page.getByRole('button', { name: 'Revoke key e2e script' }).click();
  await page.getByText('No API keys yet.').waitFor();
  assert.equal((await get()).status, 401);
});

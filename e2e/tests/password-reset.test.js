// A forgotten password reset in a real browser (issue 17's "done when"): the link read
// from the run's SMTP sink, the new password set on the reset screen, and every old
// session (another browser's and a script's token) refused afterwards.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  BASE, launch, closeBrowser, openPage, login, linkFor,
} from '../support.mjs';

const FIRST = 'lantern meadow quartz 77';
const SECOND = 'copper willow signal 58';

async function token(email, password) {
  const r = await fetch(`${BASE}/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: email, password }),
  });
  return r.status === 200 ? (await r.json()).access_token : null;
}

before(async () => {
  await launch();
});

after(closeBrowser);

test('a forgotten password is reset from the e-mail and every old session stops working', async () => {
  const email = `forgetful-${Date.now()}@example.com`;
  const r = await fetch(`${BASE}/signup`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email, password: FIRST, display_name: 'Forgetful' }),
  });
  assert.equal(r.status, 202);

  // Two old sessions: another browser and a script.
  const other = await openPage();
  await login(email, FIRST, other);
  await other.getByRole('button', { name: 'Log out' }).waitFor();
  const script = await token(email, FIRST);
  const asScript = () => fetch(`${BASE}/get_all_links`, { headers: { Authorization: `Bearer ${script}` } });
  assert.equal((await asScript()).status, 200);

  // On a phone: "Forgot your password?" → e-mail → reset screen.
  const page = await openPage({ width: 390, height: 860 });
  await page.goto(`${BASE}/app`);
  await page.getByRole('link', { name: 'Forgot your password?' }).click();
  await page.getByRole('button', { name: 'Send reset link' }).click();
  await page.getByText('Required').waitFor();
  await page.getByLabel('Email').fill(email);
  await page.getByRole('button', { name: 'Send reset link' }).click();
  await page.getByText(/a link to choose a new password is on its way/).waitFor();
  await page.goto(await linkFor(email, 'reset'));
  await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
  await page.getByLabel('New password').fill('password123');
  await page.getByRole('button', { name: 'Set password' }).click();
  await page.getByText(/too easy to guess|at least 10/).first().waitFor();
  await page.getByLabel('New password').fill(SECOND);
  await page.getByRole('button', { name: 'Set password' }).click();
  await page.getByText('Your new password is set, and every session was logged out.').waitFor();

  // The same link works once (the same address again: reloaded to open it afresh).
  await page.goto(await linkFor(email, 'reset'));
  await page.reload();
  await page.getByLabel('New password').fill('another fine phrase 91');
  await page.getByRole('button', { name: 'Set password' }).click();
  await page.getByText('This link was already used').first().waitFor();

  // Every old session is over; the old password is refused, the new one works.
  assert.equal((await asScript()).status, 401);
  await other.reload();
  await other.getByRole('button', { name: 'Log in' }).waitFor();
  assert.equal(await token(email, FIRST), null);
  await login(email, SECOND, page);
  await page.getByRole('button', { name: 'Log out' }).waitFor();
  await other.context().close();
  await page.context().close();
});

// Pure helpers of the web app (no browser needed): CSV in and out, and error wording.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCsv, toCsv, csvEscape, describe } from '../../crates/server/web/js/ui.js';

test('CSV cells with commas, quotes and newlines round-trip', () => {
  const rows = [{ a: 'plain', b: 'with, comma' }, { a: 'say "hi"', b: 'two\nlines' }];
  const csv = toCsv(rows, [['a', (r) => r.a], ['b', (r) => r.b]]);
  assert.equal(csv, 'a,b\r\nplain,"with, comma"\r\n"say ""hi""","two\nlines"\r\n');
  assert.deepEqual(parseCsv(csv), [['a', 'b'], ['plain', 'with, comma'], ['say "hi"', 'two\nlines']]);
  assert.equal(csvEscape(null), '');
  assert.equal(csvEscape(12.5), '12.5');
});

test('CSV cells a spreadsheet would run as formulas are defused and quoted (OWASP)', () => {
  const cells = ['=HYPERLINK("http://evil.example","x")', '\t=1+1', '+1+2', '-2+3', '@SUM(A1)', '\r=1'];
  const csv = toCsv(cells.map((c) => ({ c })), [['c', (r) => r.c]]);
  const parsed = parseCsv(csv).slice(1).map(([c]) => c);
  assert.deepEqual(parsed, cells.map((c) => `'${c}`));
  assert.equal(csvEscape('@SUM(A1)'), `"'@SUM(A1)"`);
  // Plain numbers, negative ones included, are not formulas and stay numbers.
  assert.equal(csvEscape(-12.5), '-12.5');
  assert.equal(csvEscape('-3.20'), '-3.20');
  assert.equal(csvEscape('+49 30 1234'), `"'+49 30 1234"`);
  assert.equal(csvEscape('plain'), 'plain');
});

test('CSV parsing skips blank lines and accepts LF, CRLF and a missing final newline', () => {
  assert.deepEqual(parseCsv('asin,link_name\n\nB0D45KS7QM,x\r\nB0NWBOTL03,y'), [
    ['asin', 'link_name'], ['B0D45KS7QM', 'x'], ['B0NWBOTL03', 'y'],
  ]);
  assert.deepEqual(parseCsv(''), []);
});

test('every documented error code reads as a sentence', () => {
  const err = (status, code, extra = {}) => ({ status, code, message: `detail of ${code}`, fields: [], retryAfter: null, ...extra });
  assert.match(describe(err(403, 'brand_access_denied')), /^Not allowed to promote this product/);
  assert.match(describe(err(503, 'amazon_unavailable')), /^Couldn't reach Amazon/);
  assert.equal(describe(err(401, 'bad_credentials')), 'Incorrect email or password.');
  assert.equal(describe(err(429, 'too_many_attempts', { retryAfter: 30 })), 'Too many failed logins. Try again in 30 s.');
  assert.equal(describe(err(404, 'product_not_found')), 'detail of product_not_found');
  assert.match(describe(err(409, 'access_request_pending')), /already asked/);
  assert.match(describe(err(500, 'internal')), /server had a problem/);
  const validation = err(422, 'validation', { fields: [{ loc: ['body', 'link_name'], msg: 'String should have at least 1 character', type: 'string_too_short' }] });
  assert.equal(describe(validation), 'Link name: String should have at least 1 character');
});

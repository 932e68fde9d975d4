// Bulk upload (creator): paste or pick a CSV, a preview that checks every row before
// anything is sent, progress and per-row results on screen, and the list of past jobs
// (a job goes on on the server when this page is left).

import { call } from './api.js';
import {
  h, clear, field, notice, describe, heading, busy, setFieldError, showFieldErrors, download,
  parseCsv, sleep, shortDate, uid, table, MARKETPLACES,
} from './ui.js';

export const BULK_MAX = 5000;
const SAMPLE = 'asin,link_name,marketplace\r\nB0D45KS7QM,backpack-newsletter,amazon.com\r\nB0D45KS7QM,rucksack-de,amazon.de\r\n';

/**
 * Reads CSV text with a header naming `asin` and optionally `link_name` and `marketplace`.
 * Returns { items, rows }: rows carry the line number and what is wrong with them, by the
 * same rules as the server (ASIN: 10 letters or digits; name: 1–200 characters; a supported
 * marketplace, amazon.com when empty). Throws for a file that cannot be read as a whole.
 */
export function bulkRows(text) {
  const all = parseCsv(text);
  if (!all.length) throw new Error('The CSV is empty.');
  const header = all[0].map((c) => c.trim().toLowerCase().replace(/\s+/g, '_'));
  const col = (n) => header.indexOf(n);
  if (col('asin') < 0) throw new Error('The first row must be a header naming the columns: asin, and optionally link_name and marketplace.');
  const cell = (r, n) => (col(n) >= 0 ? (r[col(n)] || '').trim() : '');
  const rows = all.slice(1).map((r, i) => {
    const item = { asin: cell(r, 'asin') };
    if (cell(r, 'link_name')) item.link_name = cell(r, 'link_name');
    if (cell(r, 'marketplace')) item.marketplace = cell(r, 'marketplace');
    const problems = [];
    if (!/^[A-Za-z0-9]{10}$/.test(item.asin)) problems.push(item.asin ? 'ASIN must be 10 letters or digits' : 'ASIN is missing');
    if (item.link_name && [...item.link_name].length > 200) problems.push('name is over 200 characters');
    if (item.marketplace && !MARKETPLACES.includes(item.marketplace.toLowerCase().replace(/^www\./, ''))) problems.push(`${item.marketplace} is not a supported marketplace`);
    return { line: i + 2, item, problems };
  });
  if (!rows.length) throw new Error('The CSV has a header but no rows.');
  if (rows.length > BULK_MAX) throw new Error(`At most ${BULK_MAX} rows per upload (this one has ${rows.length}).`);
  return { rows, items: rows.map((r) => r.item) };
}

const PREVIEW_ROWS = 200;

function previewTable(rows) {
  const bad = rows.filter((r) => r.problems.length);
  // Rows with problems first, so they are on screen whatever the file's size.
  const shown = [...bad, ...rows.filter((r) => !r.problems.length)].slice(0, PREVIEW_ROWS);
  return h('div', {},
    h('p', { class: bad.length ? 'field-error' : 'success-text', role: 'status' },
      bad.length
        ? `${bad.length} of ${rows.length} rows need fixing before anything is sent.`
        : `${rows.length} row${rows.length === 1 ? '' : 's'} ready to send.`),
    table('Rows to upload', shown, [
      ['Line', (r) => r.line, { num: true }],
      ['ASIN', (r) => r.item.asin || '–'],
      ['Link name', (r) => r.item.link_name || h('span', { class: 'muted' }, '(the ASIN)')],
      ['Marketplace', (r) => r.item.marketplace || 'amazon.com'],
      ['Check', (r) => (r.problems.length ? h('span', { class: 'field-error' }, r.problems.join('; ')) : h('span', { class: 'badge ok' }, 'OK'))],
    ]),
    rows.length > PREVIEW_ROWS ? h('p', { class: 'hint' }, `First ${PREVIEW_ROWS} rows shown (those with problems first).`) : null);
}

export async function bulk(main) {
  const file = h('input', { type: 'file', name: 'file', accept: '.csv,text/csv' });
  const paste = h('textarea', { name: 'csv', rows: 6, spellcheck: false, placeholder: 'asin,link_name,marketplace\nB0D45KS7QM,backpack-newsletter,amazon.com' });
  const msg = notice();
  const submit = h('button', { type: 'submit' }, 'Upload and create links');
  const preview = h('div', { class: 'bulk-preview', 'aria-live': 'polite' });
  const status = h('div', { class: 'bulk-status', 'aria-live': 'polite' });
  const jobsBody = h('div');
  const mailHint = h('p', { class: 'muted', hidden: true }, 'The results also go to your account’s e-mail address.');
  const sample = h('button', { type: 'button', class: 'link-button' }, 'Download a sample CSV');
  sample.addEventListener('click', () => download('quiver-bulk-sample.csv', SAMPLE));
  const form = h('form', { class: 'card', novalidate: true },
    field('CSV file', file),
    field('Or paste CSV', paste, 'Paste takes the place of a chosen file.'),
    mailHint, msg.el, preview,
    h('div', { class: 'actions' }, submit, sample));
  const help = h('details', { class: 'card help' }, h('summary', {}, 'The CSV format'),
    h('ul', {},
      h('li', {}, 'The first row names the columns: ', h('code', {}, 'asin'), ' (required), ', h('code', {}, 'link_name'), ' and ', h('code', {}, 'marketplace'), ' (optional), in any order.'),
      h('li', {}, 'asin: the product’s 10-letter or digit Amazon id, e.g. B0D45KS7QM.'),
      h('li', {}, 'link_name: up to 200 characters; the ASIN when empty.'),
      h('li', {}, `marketplace: one of ${MARKETPLACES.join(', ')}; amazon.com when empty.`),
      h('li', {}, `Up to ${BULK_MAX.toLocaleString()} rows. Values with commas go in double quotes.`),
      h('li', {}, 'Every row is checked before anything is sent; rows that Amazon refuses are reported one by one in the results.')));
  clear(main, heading('Bulk upload'), help, form, status, h('h2', {}, 'Your bulk jobs'), jobsBody);

  let parsed = null;
  async function source() {
    if (paste.value.trim()) return { text: paste.value, control: paste };
    if (file.files.length) return { text: await file.files[0].text(), control: file };
    return null;
  }
  /** Parses what is chosen or pasted and shows the preview; null when nothing is usable. */
  async function check() {
    setFieldError(file, '');
    setFieldError(paste, '');
    parsed = null;
    const src = await source();
    if (!src) { clear(preview); return null; }
    try {
      parsed = bulkRows(src.text);
      clear(preview, previewTable(parsed.rows));
    } catch (e) {
      clear(preview);
      setFieldError(src.control, e.message);
    }
    return src;
  }
  file.addEventListener('change', check);
  let typing;
  paste.addEventListener('input', () => { clearTimeout(typing); typing = setTimeout(check, 300); });

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    msg.hide();
    clearTimeout(typing);
    const src = await check();
    if (!src) {
      setFieldError(file, 'Choose a CSV file or paste CSV text.');
      file.focus();
      return;
    }
    if (!parsed) { src.control.focus(); return; }
    const bad = parsed.rows.filter((r) => r.problems.length).length;
    if (bad) {
      msg.show(`Fix the ${bad} row${bad === 1 ? '' : 's'} marked in the preview; nothing was sent.`);
      return;
    }
    try {
      const job = await busy(submit, () => call('POST', '/bulk_generate_attribution_links', { json: { links: parsed.items } }));
      clear(preview);
      paste.value = '';
      file.value = '';
      listJobs();
      await followJob(job.job_id, job.queued_count, status, listJobs);
    } catch (e) {
      if (e.code === 'validation') {
        const rest = showFieldErrors(e, form);
        if (rest.length) msg.show(describe({ ...e, fields: rest }));
      } else if (e.code === 'unsupported_marketplace') {
        setFieldError(src.control, `${describe(e)} Nothing was queued.`);
      } else msg.show(describe(e));
    }
  });

  async function listJobs() {
    try {
      const r = await call('GET', '/bulk_jobs', { query: { limit: 20 } });
      // The server's e-mail setting shows in its jobs: "none" means it sends no e-mail.
      mailHint.hidden = !r.bulk_jobs.length || r.bulk_jobs[0].email_status === 'none';
      clear(jobsBody, table('Your bulk jobs', r.bulk_jobs, [
        ['Submitted', (j) => shortDate(j.created_at)],
        ['Status', (j) => h('span', { class: `badge ${j.status === 'done' ? 'ok' : 'pending'}` }, j.status)],
        ['Progress', (j) => `${j.processed} of ${j.total}`, { num: true }],
        ['Created', (j) => j.succeeded, { num: true }],
        ['Failed', (j) => j.failed, { num: true }],
        ['', (j) => {
          const b = h('button', { type: 'button', class: 'small secondary', 'aria-label': `Show job of ${shortDate(j.created_at)} (${j.total} rows)` }, 'Show');
          b.addEventListener('click', () => followJob(j.job_id, j.total, status, listJobs));
          return b;
        }],
      ], { empty: 'No bulk jobs yet.' }));
    } catch (e) {
      // An error never leaves an old list looking current.
      clear(jobsBody, h('p', { class: 'field-error' }, describe(e)));
    }
  }
  await listJobs();
}

/** The finished rows of a job, read from its results CSV. */
async function jobResults(jobId) {
  const csv = await call('GET', `/bulk_jobs/${encodeURIComponent(jobId)}/results.csv`, { text: true });
  const [, ...rows] = parseCsv(csv);
  return { csv, rows: rows.map(([asin, marketplace, name, url, state, error]) => ({ asin, marketplace, name, url, state, error })) };
}

async function followJob(jobId, total, status, onDone) {
  const progress = h('progress', { max: total, value: 0, id: uid('progress') });
  const text = h('p', {}, `Queued ${total} links…`);
  const waiting = h('p', { class: 'hint', hidden: true });
  const msg = notice();
  const actions = h('div', { class: 'actions' });
  const results = h('div');
  const mine = (followJob.current = (followJob.current || 0) + 1);
  clear(status, h('div', { class: 'card' },
    h('h2', {}, 'Progress'), h('label', { for: progress.id, class: 'sr-only' }, 'Bulk job progress'), progress, text, waiting, msg.el, actions, results));
  // Polls while this job is the one shown; leaving the page stops polling (the job goes on).
  while (status.isConnected && followJob.current === mine) {
    let job;
    try {
      job = await call('GET', `/bulk_jobs/${encodeURIComponent(jobId)}`);
    } catch (e) {
      msg.show(`${describe(e)} Still trying…`, 'warning');
      await sleep(3000);
      continue;
    }
    msg.hide();
    progress.max = job.total;
    progress.value = job.processed;
    text.textContent = `${job.status === 'done' ? 'Done' : 'Working'}: ${job.processed} of ${job.total} processed, ${job.succeeded} created, ${job.failed} failed.`;
    waiting.hidden = job.status === 'done';
    waiting.textContent = 'Links are made one by one with Amazon; an item Amazon cannot take right now waits and is retried by itself. You can leave this page: the job goes on, and it is listed under “Your bulk jobs”.';
    if (job.status === 'done') {
      let res;
      try {
        res = await jobResults(jobId);
      } catch (e) {
        msg.show(describe(e));
        return;
      }
      const dl = h('button', { type: 'button' }, 'Download results CSV');
      dl.addEventListener('click', () => download(`quiver-bulk-${jobId}.csv`, res.csv));
      clear(actions, dl);
      if (job.email_status && job.email_status !== 'none') actions.append(h('span', { class: 'muted' }, ` E-mail to ${job.email}: ${job.email_status}.`));
      clear(results, h('h3', {}, 'Results'), table('Bulk job results', res.rows, [
        ['ASIN', (r) => [r.asin, h('br'), h('span', { class: 'muted' }, r.marketplace)]],
        ['Link name', (r) => r.name],
        ['Result', (r) => (r.state === 'ok'
          ? h('span', { class: 'badge ok' }, 'Created')
          : h('span', { class: 'badge gated' }, 'Failed'))],
        ['Link or error', (r) => (r.url ? h('code', { class: 'url full-url' }, r.url) : r.error)],
      ], { empty: 'No rows.' }));
      if (onDone) onDone();
      return;
    }
    await sleep(1000);
  }
}

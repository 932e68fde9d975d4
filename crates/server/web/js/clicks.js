// Short links and Quiver's own click counts (issue #19): a link's live clicks (counter,
// hourly chart, breakdowns by referrer, device, country), the creator's clicks per link
// and source, and the brand's clicks by creator and source. The screens poll while open.

import { qrPanel } from './qr.js';
import { call } from './api.js';
import { h, clear, notice, describe, heading, copyButton, table, num, isoDay, daysAgo } from './ui.js';

// How often an open screen asks again: counts are written about once a second.
const POLL_MS = 3000;

/** The URL to share: the short URL when the link has one. */
export function shareUrl(link) {
  return link.short_url || link.url;
}

/** The short URL with its copy button and a QR code that encodes it. */
export function shortUrlBlock(link) {
  const url = shareUrl(link);
  const input = h('input', { type: 'text', readonly: true, value: url, class: 'url', 'aria-label': `Short URL for ${link.link_name}` });
  input.addEventListener('focus', () => input.select());
  return h('div', { class: 'short-url' },
    h('div', { class: 'url-row' }, input, copyButton(url, input, 'Copy short URL')),
    qrPanel(url, `the short URL of ${link.link_name}`));
}

/** Runs `tick` now and every POLL_MS while `root` is on the page. */
function poll(root, tick) {
  let timer = null;
  const run = async () => {
    if (!root.isConnected) return;
    await tick();
    if (root.isConnected) timer = setTimeout(run, POLL_MS);
  };
  window.addEventListener('hashchange', () => clearTimeout(timer), { once: true });
  return run();
}

const REASONS = [
  ['bot', 'Bots and crawlers'],
  ['preview', 'Link previews (chat apps, social sites)'],
  ['prefetch', 'Browser prefetches'],
  ['head', 'HEAD requests'],
  ['repeat', 'Repeats within 30 s'],
];

function filteredTable(filtered) {
  return table('Requests not counted', REASONS.map(([k, label]) => ({ label, n: filtered[k] || 0, k })), [
    ['Not counted, because', (r) => r.label],
    ['Requests', (r) => h('span', { 'data-reason': r.k }, num(r.n)), { num: true }],
  ]);
}

function breakdown(caption, rows) {
  return h('section', { class: 'card' }, h('h2', {}, caption),
    table(caption, rows, [[caption, (r) => r.key || '(none)'], ['Clicks', (r) => num(r.clicks), { num: true }]],
      { empty: 'No clicks yet.' }));
}

function hourlyChart(canvas, rows, old) {
  if (typeof window.Chart !== 'function') return null;
  const labels = rows.map((r) => r.key.slice(11, 16));
  const data = rows.map((r) => r.clicks);
  if (old) {
    old.data.labels = labels;
    old.data.datasets[0].data = data;
    old.update();
    return old;
  }
  return new window.Chart(canvas, {
    type: 'bar',
    data: { labels, datasets: [{ label: 'Clicks per hour (UTC)', data, backgroundColor: '#1d4ed8' }] },
    options: { responsive: true, maintainAspectRatio: false, animation: false, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
  });
}

/** #/clicks?link=ID: one link's live clicks; without a link, clicks per link and source. */
export async function linkClicks(main, params) {
  const id = params.get('link');
  if (!id) return allClicks(main);
  const msg = notice();
  const root = h('div', { class: 'clicks' });
  clear(main, heading('Clicks'), msg.el, root);
  let link;
  try {
    link = await call('GET', `/links/${encodeURIComponent(id)}`);
  } catch (e) {
    msg.show(describe(e));
    return;
  }
  const total = h('output', { class: 'big-number', id: 'clicks-total', 'aria-live': 'polite' }, num(link.clicks_total));
  const day = h('output', { class: 'big-number', id: 'clicks-24h' }, num(link.clicks_24h));
  const canvas = h('canvas', { 'aria-label': 'Clicks per hour, last 24 hours', role: 'img' });
  const parts = {
    device: h('div'), referrer: h('div'), country: h('div'), source: h('div'), filtered: h('div'),
  };
  clear(root,
    h('p', {}, h('strong', {}, link.link_name), ` · ${link.asin} · ${link.marketplace}`),
    shortUrlBlock(link),
    h('div', { class: 'stats' },
      h('div', { class: 'card' }, h('h2', {}, 'Clicks counted'), total),
      h('div', { class: 'card' }, h('h2', {}, 'Last 24 hours'), day)),
    h('div', { class: 'card' }, h('h2', {}, 'Per hour (UTC), today and yesterday'), h('div', { class: 'chart-box' }, canvas)),
    parts.device, parts.referrer, parts.country, parts.source,
    h('section', { class: 'card' }, h('h2', {}, 'Not counted'), parts.filtered),
    h('p', { class: 'hint' }, 'Quiver counts clicks on the short URL itself, a few seconds behind. Amazon’s own clicks appear in Reports a day or two later.'));
  let chart = null;
  const base = `/links/${encodeURIComponent(id)}/clicks`;
  const query = { start: daysAgo(1), end: isoDay(new Date()) };
  await poll(root, async () => {
    try {
      const [now, hourly, device, referrer, country] = await Promise.all([
        call('GET', `/links/${encodeURIComponent(id)}`),
        call('GET', base, { query: { ...query, group_by: 'hour' } }),
        call('GET', base, { query: { ...query, group_by: 'device' } }),
        call('GET', base, { query: { ...query, group_by: 'referrer' } }),
        call('GET', base, { query: { ...query, group_by: 'country' } }),
      ]);
      total.textContent = num(now.clicks_total);
      day.textContent = num(now.clicks_24h);
      chart = hourlyChart(canvas, hourly.rows, chart);
      clear(parts.device, breakdown('Device', device.rows));
      clear(parts.referrer, breakdown('Referrer', referrer.rows));
      clear(parts.country, breakdown('Country', country.rows));
      clear(parts.source, breakdown('Source', now.source ? [{ key: now.source, clicks: now.clicks_total }] : []));
      clear(parts.filtered, filteredTable(hourly.filtered));
      msg.hide();
    } catch (e) {
      msg.show(describe(e));
    }
  });
}

/** The creator's clicks over the last 7 days, per link and per source. */
async function allClicks(main) {
  const msg = notice();
  const root = h('div', { class: 'clicks' });
  clear(main, heading('Clicks'), msg.el, root);
  await poll(root, async () => {
    try {
      const [byLink, bySource, links] = await Promise.all([
        call('GET', '/clicks', { query: { group_by: 'link' } }),
        call('GET', '/clicks', { query: { group_by: 'source' } }),
        call('GET', '/get_all_links', { query: { marketplace: 'all', limit: 500 } }),
      ]);
      const names = new Map(links.all_links.map((l) => [l.id, l]));
      clear(root,
        h('p', {}, `Last 7 days: ${num(byLink.total)} clicks counted.`),
        h('section', { class: 'card' }, h('h2', {}, 'Per link'),
          table('Clicks per link', byLink.rows, [
            ['Link', (r) => h('a', { href: `#/clicks?link=${encodeURIComponent(r.key)}` }, names.get(r.key)?.link_name || r.key)],
            ['Clicks', (r) => num(r.clicks), { num: true }],
          ], { empty: 'No clicks yet. Share a link’s short URL to see them here.' })),
        breakdown('Source', bySource.rows),
        h('section', { class: 'card' }, h('h2', {}, 'Not counted'), filteredTable(byLink.filtered)));
      msg.hide();
    } catch (e) {
      msg.show(describe(e));
    }
  });
}

/** #/seller-clicks: the brand's clicks by creator, source and product. */
export async function brandClicks(main) {
  const msg = notice();
  const root = h('div', { class: 'clicks' });
  clear(main, heading('Clicks'), msg.el, root);
  await poll(root, async () => {
    try {
      const [byCreator, bySource, byProduct] = await Promise.all(['creator', 'source', 'product']
        .map((g) => call('GET', '/sellers/clicks', { query: { group_by: g } })));
      clear(root,
        h('p', {}, `Last 7 days: ${num(byCreator.total)} clicks on creators’ short URLs to your products.`),
        breakdown('Creator', byCreator.rows),
        breakdown('Source', bySource.rows),
        breakdown('Product', byProduct.rows),
        h('section', { class: 'card' }, h('h2', {}, 'Not counted'), filteredTable(byCreator.filtered)));
      msg.hide();
    } catch (e) {
      msg.show(describe(e));
    }
  });
}

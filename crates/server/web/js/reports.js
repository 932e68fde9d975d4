// Reports for both sides: a date range, a daily chart (Chart.js, vendored, global `Chart`),
// a breakdown table and a CSV of the rows, generated here from what the API returned.

import { allPages } from './api.js';
import {
  h, clear, field, marketplaceSelect, notice, describe, heading, busy, table, toCsv, download,
  money, num, daysAgo, setFieldError,
} from './ui.js';

// At most this many rows are fetched for one view (40 pages of 500).
const MAX_PAGES = 40;

const PUBLISHER = {
  title: 'Reports',
  endpoint: '/reports',
  purchases: (r) => r.purchases,
  commission: (r) => r.commissionEarned,
  commissionLabel: 'Commission earned',
  group: {
    caption: 'Per link',
    key: (r) => `${r.link.id}|${r.currency}`,
    columns: (g) => [
      ['Link', (x) => x.first.link.link_name],
      ['Product', (x) => x.first.link.product_name],
      ['Marketplace', (x) => x.first.link.marketplace],
    ],
  },
  csv: [
    ['date', (r) => r.date], ['link_id', (r) => r.link.id], ['link_name', (r) => r.link.link_name],
    ['link_asin', (r) => r.link.asin], ['asin', (r) => r.asin], ['product_name', (r) => r.product_name],
    ['brand_id', (r) => r.brand_id], ['marketplace', (r) => r.marketplace], ['currency', (r) => r.currency],
    ['clicks', (r) => r.clicks], ['detail_page_views', (r) => r.detailPageViews], ['add_to_carts', (r) => r.addToCarts],
    ['purchases', (r) => r.purchases], ['units_sold', (r) => r.unitsSold], ['sales', (r) => r.sales],
    ['commission_earned', (r) => r.commissionEarned], ['final', (r) => r.final],
  ],
};

const SELLER = {
  title: 'Brand report',
  endpoint: '/sellers/reports',
  purchases: (r) => r.conversions,
  commission: (r) => r.commissionPaid,
  commissionLabel: 'Commission paid',
  group: {
    caption: 'Per creator',
    key: (r) => `${r.creator}|${r.currency}`,
    columns: () => [['Creator', (x) => x.first.creator]],
    extra: [['Brand Referral Bonus', (x) => money(x.brb, x.first.currency), { num: true }]],
  },
  csv: [
    ['date', (r) => r.date], ['creator', (r) => r.creator], ['brand_id', (r) => r.brand_id], ['asin', (r) => r.asin],
    ['marketplace', (r) => r.marketplace], ['currency', (r) => r.currency], ['clicks', (r) => r.clicks],
    ['detail_page_views', (r) => r.detailPageViews], ['add_to_carts', (r) => r.addToCarts],
    ['conversions', (r) => r.conversions], ['units_sold', (r) => r.unitsSold], ['sales', (r) => r.sales],
    ['commission_paid', (r) => r.commissionPaid], ['brand_referral_bonus', (r) => r.brandReferralBonus], ['final', (r) => r.final],
  ],
};

export const creatorReport = (main, params) => report(main, params, PUBLISHER);
export const sellerReport = (main, params) => report(main, params, SELLER);

function days(start, end) {
  const out = [];
  const d = new Date(`${start}T00:00:00Z`);
  const last = new Date(`${end}T00:00:00Z`);
  while (d <= last && out.length < 367) {
    out.push(d.toISOString().slice(0, 10));
    d.setUTCDate(d.getUTCDate() + 1);
  }
  return out;
}

async function report(main, params, kind) {
  const start = h('input', { type: 'date', name: 'start', value: params.get('start') || daysAgo(29), required: true });
  const end = h('input', { type: 'date', name: 'end', value: params.get('end') || daysAgo(0), required: true });
  const market = marketplaceSelect('marketplace', params.get('marketplace') || 'all', { all: true });
  const run = h('button', { type: 'submit' }, 'Show report');
  const presets = h('div', { class: 'presets', role: 'group', 'aria-label': 'Quick ranges' },
    [7, 30, 90].map((n) => {
      const b = h('button', { type: 'button', class: 'secondary small' }, `Last ${n} days`);
      b.addEventListener('click', () => { start.value = daysAgo(n - 1); end.value = daysAgo(0); form.requestSubmit(); });
      return b;
    }));
  const form = h('form', { class: 'filters', novalidate: true },
    field('From', start), field('To', end), field('Marketplace', market), run);
  const msg = notice();
  const out = h('div', { class: 'report-body', 'aria-live': 'polite' });
  clear(main, heading(kind.title), form, presets, msg.el, out);
  let chart = null;
  // Only the latest request may render: an older one that answers late is dropped.
  let latest = 0;

  async function load() {
    const mine = ++latest;
    msg.hide();
    setFieldError(start, '');
    setFieldError(end, '');
    if (!start.value) { setFieldError(start, 'Choose a start date.'); start.focus(); return; }
    if (!end.value) { setFieldError(end, 'Choose an end date.'); end.focus(); return; }
    if (start.value > end.value) { setFieldError(end, 'The end date must be on or after the start date.'); end.focus(); return; }
    history.replaceState(null, '', `#/${location.hash.slice(2).split('?')[0]}?${new URLSearchParams({ start: start.value, end: end.value, marketplace: market.value })}`);
    let result;
    try {
      result = await busy(run, () => allPages(kind.endpoint, { start: start.value, end: end.value, marketplace: market.value, limit: 500 }, 'rows', MAX_PAGES));
    } catch (e) {
      if (mine !== latest) return;
      if (e.code === 'validation' && e.fields.length) {
        for (const f of e.fields) {
          const name = f.loc[f.loc.length - 1];
          if (name === 'start' || name === 'end') setFieldError(name === 'start' ? start : end, f.msg);
          else msg.show(describe(e));
        }
      } else msg.show(describe(e));
      return;
    }
    if (mine !== latest) return;
    if (chart) { chart.destroy(); chart = null; }
    chart = render(out, result, kind, start.value, end.value);
  }
  form.addEventListener('submit', (ev) => { ev.preventDefault(); load(); });
  await load();
}

function render(out, { rows, truncated }, kind, start, end) {
  const currencies = [...new Set(rows.map((r) => r.currency))];
  const mixed = currencies.length > 1;
  // Money is never converted: with several currencies the chart's money lines use the most
  // common one and say so.
  const counts = {};
  for (const r of rows) counts[r.currency] = (counts[r.currency] || 0) + 1;
  const chartCurrency = currencies.sort((a, b) => counts[b] - counts[a])[0] || 'USD';

  const labels = days(start, end);
  const index = new Map(labels.map((d, i) => [d, i]));
  const series = { clicks: labels.map(() => 0), purchases: labels.map(() => 0), sales: labels.map(() => 0), commission: labels.map(() => 0) };
  const totals = {};
  for (const r of rows) {
    const i = index.get(r.date);
    if (i !== undefined) {
      series.clicks[i] += r.clicks;
      series.purchases[i] += kind.purchases(r);
      if (r.currency === chartCurrency) {
        series.sales[i] += r.sales;
        series.commission[i] += kind.commission(r);
      }
    }
    const t = (totals[r.currency] ||= { clicks: 0, purchases: 0, sales: 0, commission: 0 });
    t.clicks += r.clicks;
    t.purchases += kind.purchases(r);
    t.sales += r.sales;
    t.commission += kind.commission(r);
  }
  for (const k of ['sales', 'commission']) series[k] = series[k].map((v) => Math.round(v * 100) / 100);

  const canvas = h('canvas', { role: 'img', 'aria-label': `Daily clicks, purchases, sales and ${kind.commissionLabel.toLowerCase()} from ${start} to ${end}` });
  const csvBtn = h('button', { type: 'button', class: 'secondary', disabled: !rows.length }, 'Download CSV');
  csvBtn.addEventListener('click', () => download(`quiver-${kind === SELLER ? 'brand-' : ''}report-${start}-to-${end}.csv`, toCsv(rows, kind.csv)));

  const summary = h('div', { class: 'totals' },
    Object.entries(totals).sort(([a], [b]) => a.localeCompare(b)).map(([cur, t]) => h('div', { class: 'card total' },
      h('h2', {}, cur),
      h('dl', {},
        h('dt', {}, 'Clicks'), h('dd', {}, num(t.clicks)),
        h('dt', {}, 'Purchases'), h('dd', {}, num(t.purchases)),
        h('dt', {}, 'Sales'), h('dd', {}, money(t.sales, cur)),
        h('dt', {}, kind.commissionLabel), h('dd', {}, money(t.commission, cur))))));

  const groups = new Map();
  for (const r of rows) {
    const k = kind.group.key(r);
    const g = groups.get(k) || { first: r, clicks: 0, purchases: 0, units: 0, sales: 0, commission: 0, brb: 0 };
    g.clicks += r.clicks;
    g.purchases += kind.purchases(r);
    g.units += r.unitsSold;
    g.sales += r.sales;
    g.commission += kind.commission(r);
    g.brb += r.brandReferralBonus || 0;
    groups.set(k, g);
  }
  const grouped = [...groups.values()].sort((a, b) => b.clicks - a.clicks);
  const breakdown = table(kind.group.caption, grouped, [
    ...kind.group.columns(),
    ['Currency', (x) => x.first.currency],
    ['Clicks', (x) => num(x.clicks), { num: true }],
    ['Purchases', (x) => num(x.purchases), { num: true }],
    ['Units', (x) => num(x.units), { num: true }],
    ['Sales', (x) => money(x.sales, x.first.currency), { num: true }],
    [kind.commissionLabel, (x) => money(x.commission, x.first.currency), { num: true }],
    ...(kind.group.extra || []),
  ], { empty: 'No activity in this range.' });

  clear(out,
    truncated ? h('p', { class: 'notice warning' }, `Showing the first ${rows.length} rows only; choose a shorter range for everything.`) : null,
    mixed ? h('p', { class: 'notice info' }, `Several currencies: the chart's sales and commission show ${chartCurrency} only (choose one marketplace to see another). Totals are per currency.`) : null,
    summary,
    h('div', { class: 'card' }, h('div', { class: 'chart-box' }, canvas)),
    h('div', { class: 'section-head' }, h('h2', {}, kind.group.caption), csvBtn),
    breakdown);

  if (typeof window.Chart !== 'function') {
    canvas.replaceWith(h('p', { class: 'notice error' }, 'The chart library did not load.'));
    return null;
  }
  return new window.Chart(canvas, {
    type: 'bar',
    data: {
      labels,
      datasets: [
        { type: 'bar', label: 'Clicks', data: series.clicks, yAxisID: 'count', backgroundColor: '#93c5fd', order: 3 },
        { type: 'bar', label: 'Purchases', data: series.purchases, yAxisID: 'count', backgroundColor: '#1d4ed8', order: 2 },
        { type: 'line', label: `Sales (${chartCurrency})`, data: series.sales, yAxisID: 'money', borderColor: '#059669', backgroundColor: '#059669', tension: 0.25, pointRadius: 0, order: 1 },
        { type: 'line', label: `${kind.commissionLabel} (${chartCurrency})`, data: series.commission, yAxisID: 'money', borderColor: '#d97706', backgroundColor: '#d97706', borderDash: [5, 3], tension: 0.25, pointRadius: 0, order: 0 },
      ],
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: 'index', intersect: false },
      scales: {
        count: { type: 'linear', position: 'left', beginAtZero: true, title: { display: true, text: 'Clicks / purchases' } },
        money: { type: 'linear', position: 'right', beginAtZero: true, grid: { drawOnChartArea: false }, title: { display: true, text: chartCurrency } },
        x: { ticks: { maxRotation: 0, autoSkipPadding: 12 } },
      },
      plugins: { legend: { position: 'bottom', labels: { sort: (a, b) => a.datasetIndex - b.datasetIndex } } },
    },
  });
}

// Reports for both sides. Every total and breakdown comes from the server's summary
// endpoints (`/reports/summary`, `/sellers/reports/summary`), computed in SQL in minor
// units; the browser only formats them. A daily chart (Chart.js, vendored, global `Chart`),
// KPI cards with the previous period, and a breakdown table with its CSV.

import { call, allPages } from './api.js';
import {
  h, clear, field, marketplaceSelect, select, notice, describe, heading, busy, table, toCsv, download,
  money, num, daysAgo, isoDay, setFieldError,
} from './ui.js';

const PUBLISHER = {
  title: 'Reports',
  endpoint: '/reports/summary',
  commissionLabel: 'Commission earned',
  groups: [['link', 'Link'], ['product', 'Product'], ['marketplace', 'Marketplace'], ['brand', 'Brand'], ['day', 'Day']],
  filters: ['link'],
};

const SELLER = {
  title: 'Brand report',
  endpoint: '/sellers/reports/summary',
  commissionLabel: 'Commission paid',
  groups: [['creator', 'Creator'], ['product', 'Product'], ['marketplace', 'Marketplace'], ['brand', 'Brand'], ['day', 'Day']],
  filters: ['brand', 'product'],
  brb: true,
};

export const creatorReport = (main, params) => report(main, params, PUBLISHER);
export const sellerReport = (main, params) => report(main, params, SELLER);

/** The date presets: [label, () => [start, end]]. */
export function presets(now = new Date()) {
  const last = (n) => () => [daysAgo(n - 1), daysAgo(0)];
  const y = now.getUTCFullYear();
  const m = now.getUTCMonth();
  return [
    ['Last 7 days', last(7)], ['Last 30 days', last(30)], ['Last 60 days', last(60)], ['Last 90 days', last(90)],
    ['This month', () => [isoDay(new Date(Date.UTC(y, m, 1))), daysAgo(0)]],
    ['Last month', () => [isoDay(new Date(Date.UTC(y, m - 1, 1))), isoDay(new Date(Date.UTC(y, m, 0)))]],
  ];
}

function days(start, end) {
  const out = [];
  const d = new Date(`${start}T00:00:00Z`);
  const last = new Date(`${end}T00:00:00Z`);
  while (d <= last && out.length < 367) {
    out.push(isoDay(d));
    d.setUTCDate(d.getUTCDate() + 1);
  }
  return out;
}

// Days are UTC calendar dates: format them in UTC so no time zone shifts them.
const dayLabel = (iso) => new Date(`${iso}T00:00:00Z`).toLocaleDateString(undefined, { timeZone: 'UTC', year: 'numeric', month: 'short', day: 'numeric' });
const pct = (v) => (v === null ? '–' : `${(v * 100).toFixed(v < 0.1 ? 2 : 1)}%`);
const ratio = (a, b) => (b ? a / b : null);

/** "+12.5% vs previous period", or nothing when there is nothing to compare with. */
function change(now, before) {
  if (!before) return now ? 'new this period' : 'no change';
  const d = (now - before) / before;
  if (Math.abs(d) < 0.0005) return 'no change';
  return `${d > 0 ? '+' : '−'}${Math.abs(d * 100).toFixed(1)}% vs previous period`;
}

function moneyOf(funnel, currency) {
  return funnel.money.find((m) => m.currency === currency) || { clicks: 0, purchases: 0, sales: 0, commission: 0, brand_referral_bonus: 0 };
}

async function report(main, params, kind) {
  const start = h('input', { type: 'date', name: 'start', value: params.get('start') || daysAgo(29), required: true });
  const end = h('input', { type: 'date', name: 'end', value: params.get('end') || daysAgo(0), required: true });
  const market = marketplaceSelect('marketplace', params.get('marketplace') || 'all', { all: true });
  const groupBy = select('group_by', kind.groups, params.get('group_by') || kind.groups[0][0]);
  const extra = [];
  let brand = null;
  let product = null;
  if (kind.filters.includes('brand')) {
    brand = select('brand_ids', [['', 'All brands']], '');
    extra.push(field('Brand', brand));
  }
  let link = null;
  if (kind.filters.includes('link')) {
    link = select('link_ids', [['', 'All links']], '');
    extra.push(field('Link', link));
  }
  if (kind.filters.includes('product')) {
    product = h('input', { type: 'text', name: 'asins', value: params.get('asins') || '', placeholder: 'ASIN', autocomplete: 'off', spellcheck: false });
    extra.push(field('Product (ASIN)', product));
  }
  const run = h('button', { type: 'submit' }, 'Show report');
  const form = h('form', { class: 'filters', novalidate: true },
    field('From', start), field('To', end), field('Marketplace', market), ...extra, field('Break down by', groupBy), run);
  const presetBar = h('div', { class: 'presets', role: 'group', 'aria-label': 'Quick ranges' },
    presets().map(([label, range]) => {
      const b = h('button', { type: 'button', class: 'secondary small' }, label);
      b.addEventListener('click', () => { [start.value, end.value] = range(); form.requestSubmit(); });
      return b;
    }));
  const filters = h('details', { class: 'filter-panel', open: true }, h('summary', {}, 'Filters'), form, presetBar);
  const msg = notice();
  const out = h('div', { class: 'report-body', 'aria-live': 'polite' });
  clear(main, heading(kind.title), filters, msg.el, out);
  // Phones show results first: the filters fold away once a report is on screen.
  const phone = window.matchMedia && window.matchMedia('(max-width: 759px)').matches;
  if (brand) {
    try {
      const { rows } = await allPages('/sellers/brands', { limit: 500 }, 'brands', 5);
      for (const b of rows) brand.append(h('option', { value: b.brand_id, selected: b.brand_id === params.get('brand_ids') }, b.name || b.brand_id));
    } catch {
      // The report works without the brand list; the select then offers "All brands" only.
    }
  }
  if (link) {
    // Filled while the report loads (not awaited: the form must work at once). A link id
    // from the address stays chosen until its name arrives.
    const wanted = params.get('link_ids');
    if (wanted) link.append(h('option', { value: wanted, selected: true }, wanted));
    // Archived links are left out of the picker (the default of /get_all_links); their
    // figures still count in "All links".
    allPages('/get_all_links', { marketplace: 'all', limit: 500 }, 'all_links', 4).then(({ rows }) => {
      const keep = link.value;
      link.replaceChildren(h('option', { value: '' }, 'All links'),
        ...rows.map((l) => h('option', { value: l.id }, `${l.link_name} (${l.marketplace})`)));
      link.value = keep;
    }).catch(() => {
      // The report works without the picker.
    });
  }
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
    const query = { start: start.value, end: end.value, marketplace: market.value, group_by: groupBy.value };
    // The heading names what was asked, even if the select changes while this loads.
    const groupLabel = groupBy.selectedOptions[0].textContent;
    if (brand && brand.value) query.brand_ids = brand.value;
    if (product && product.value.trim()) query.asins = product.value.trim();
    if (link && link.value) query.link_ids = link.value;
    history.replaceState(null, '', `#/${location.hash.slice(2).split('?')[0]}?${new URLSearchParams(query)}`);
    let summary;
    let daily;
    try {
      [summary, daily] = await busy(run, () => Promise.all([
        call('GET', kind.endpoint, { query }),
        query.group_by === 'day' ? null : call('GET', kind.endpoint, { query: { ...query, group_by: 'day' } }),
      ]));
    } catch (e) {
      if (mine !== latest) return;
      // Never leave the previous results under an error as if they were current.
      if (chart) { chart.destroy(); chart = null; }
      clear(out);
      const fieldErrors = e.code === 'validation' ? e.fields : [];
      let shown = false;
      for (const f of fieldErrors) {
        const name = f.loc[f.loc.length - 1];
        if (name === 'start' || name === 'end') { setFieldError(name === 'start' ? start : end, f.msg); shown = true; }
      }
      if (!shown || fieldErrors.length > 1) msg.show(describe(e));
      return;
    }
    if (mine !== latest) return;
    if (chart) { chart.destroy(); chart = null; }
    chart = render(out, summary, daily || summary, kind, groupLabel);
    if (phone) filters.open = false;
  }
  if (phone && params.get('start')) filters.open = false;
  form.addEventListener('submit', (ev) => { ev.preventDefault(); load(); });
  for (const c of [start, end]) c.addEventListener('input', () => setFieldError(c, ''));
  await load();
}

function kpi(label, value, cmp, testid) {
  return h('div', { class: 'kpi', dataset: { kpi: testid } },
    h('dt', {}, label), h('dd', {}, h('span', { class: 'kpi-value' }, value), cmp ? h('span', { class: 'kpi-change muted' }, cmp) : null));
}

function render(out, summary, daily, kind, groupLabel) {
  const t = summary.totals;
  const p = summary.previous.totals;
  const currencies = t.money.map((m) => m.currency);
  const prevText = `${dayLabel(summary.previous.start)} – ${dayLabel(summary.previous.end)}`;

  const funnel = h('dl', { class: 'kpis', 'aria-label': 'Funnel' },
    kpi('Clicks', num(t.clicks), change(t.clicks, p.clicks), 'clicks'),
    kpi('Detail page views', num(t.detail_page_views), change(t.detail_page_views, p.detail_page_views), 'dpv'),
    kpi('Add to carts', num(t.add_to_carts), change(t.add_to_carts, p.add_to_carts), 'atc'),
    kpi('Purchases', num(t.purchases), change(t.purchases, p.purchases), 'purchases'),
    kpi('Units', num(t.units_sold), change(t.units_sold, p.units_sold), 'units'),
    kpi('Conversion rate', pct(ratio(t.purchases, t.clicks)), `previous ${pct(ratio(p.purchases, p.clicks))}`, 'conversion'));
  const perCurrency = h('div', { class: 'totals' }, currencies.map((cur) => {
    const m = moneyOf(t, cur);
    const pm = moneyOf(p, cur);
    return h('div', { class: 'card total', dataset: { currency: cur } },
      h('h2', {}, cur),
      h('dl', { class: 'kpis' },
        kpi('Sales', money(m.sales, cur), change(m.sales, pm.sales), 'sales'),
        kpi(kind.commissionLabel, money(m.commission, cur), change(m.commission, pm.commission), 'commission'),
        kpi('Earnings per click', m.clicks ? money(m.commission / m.clicks, cur) : '–', pm.clicks ? `previous ${money(pm.commission / pm.clicks, cur)}` : null, 'epc'),
        kind.brb ? kpi('Brand Referral Bonus', money(m.brand_referral_bonus, cur), null, 'brb') : null));
  }));

  const asOf = summary.data_as_of ? `Data as of ${new Date(summary.data_as_of).toLocaleString()}.` : 'No report data has been received from Amazon yet.';
  const provisional = summary.provisional_from
    ? ` Figures from ${dayLabel(summary.provisional_from)} on may still change: Amazon restates the last 28 days.`
    : ' Every day in this range is final.';
  const status = h('p', { class: 'muted data-as-of' }, asOf, provisional, ` Compared with ${prevText}.`);

  // The chart: counts on the left axis, money of one currency on the right.
  const counts = {};
  for (const m of t.money) counts[m.currency] = m.clicks;
  const chartCurrency = [...currencies].sort((a, b) => counts[b] - counts[a])[0] || 'USD';
  const labels = days(summary.start, summary.end);
  const index = new Map(labels.map((d, i) => [d, i]));
  const series = { clicks: labels.map(() => 0), purchases: labels.map(() => 0), sales: labels.map(() => 0), commission: labels.map(() => 0) };
  for (const r of daily.rows) {
    const i = index.get(r.key);
    if (i === undefined) continue;
    series.clicks[i] = r.clicks;
    series.purchases[i] = r.purchases;
    const m = moneyOf(r, chartCurrency);
    series.sales[i] = m.sales;
    series.commission[i] = m.commission;
  }
  const canvas = h('canvas', { role: 'img', 'aria-label': `Daily clicks, purchases, sales and ${kind.commissionLabel.toLowerCase()} from ${summary.start} to ${summary.end}` });

  const rows = summary.rows.slice().sort((a, b) => b.clicks - a.clicks || a.key.localeCompare(b.key));
  const name = (r) => {
    if (summary.group_by === 'day') return dayLabel(r.key);
    if (summary.group_by === 'creator') return r.label ? `${r.label} (${r.key})` : r.key;
    return r.label || r.key;
  };
  const moneyCell = (r, key) => h('ul', { class: 'money-list' }, r.money.map((m) => h('li', {}, money(m[key], m.currency))));
  const breakdown = table(`Per ${groupLabel.toLowerCase()}`, rows, [
    [groupLabel, name],
    ...(summary.group_by === 'link' ? [['Full link', (r) => h('code', { class: 'url' }, r.url || '')]] : []),
    ['Clicks', (r) => num(r.clicks), { num: true }],
    ['Purchases', (r) => num(r.purchases), { num: true }],
    ['Conversion', (r) => pct(ratio(r.purchases, r.clicks)), { num: true }],
    ['Units', (r) => num(r.units_sold), { num: true }],
    ['Sales', (r) => moneyCell(r, 'sales'), { num: true }],
    [kind.commissionLabel, (r) => moneyCell(r, 'commission'), { num: true }],
    ...(kind.brb ? [['Brand Referral Bonus', (r) => moneyCell(r, 'brand_referral_bonus'), { num: true }]] : []),
  ], { empty: 'No activity in this range.' });

  const csvRows = rows.flatMap((r) => (r.money.length ? r.money : [{ currency: '', sales: 0, commission: 0 }]).map((m) => ({ r, m })));
  const csvBtn = h('button', { type: 'button', class: 'secondary', disabled: !rows.length }, 'Download CSV');
  csvBtn.addEventListener('click', () => download(`quiver-${kind === SELLER ? 'brand-' : ''}report-by-${summary.group_by}-${summary.start}-to-${summary.end}.csv`, toCsv(csvRows, [
    [summary.group_by, (x) => x.r.key], ['name', (x) => x.r.label], ['currency', (x) => x.m.currency],
    ['clicks', (x) => x.m.clicks], ['purchases', (x) => x.m.purchases], ['sales', (x) => x.m.sales.toFixed(2)],
    ['commission', (x) => x.m.commission.toFixed(2)],
    ...(kind.brb ? [['brand_referral_bonus', (x) => (x.m.brand_referral_bonus || 0).toFixed(2)]] : []),
  ])));

  clear(out,
    status,
    currencies.length > 1 ? h('p', { class: 'notice info' }, `Several currencies: money is never converted. The chart's sales and commission show ${chartCurrency}; choose one marketplace to see another.`) : null,
    h('div', { class: 'card' }, funnel),
    perCurrency,
    h('div', { class: 'card' }, h('div', { class: 'chart-box' }, canvas)),
    h('div', { class: 'section-head' }, h('h2', {}, `Per ${groupLabel.toLowerCase()}`), csvBtn),
    breakdown);

  if (typeof window.Chart !== 'function') {
    canvas.replaceWith(h('p', { class: 'notice error' }, 'The chart library did not load.'));
    return null;
  }
  const isMoney = (ds) => ds.yAxisID === 'money';
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
        count: { type: 'linear', position: 'left', beginAtZero: true, title: { display: true, text: 'Clicks / purchases' }, ticks: { callback: (v) => num(v) } },
        money: { type: 'linear', position: 'right', beginAtZero: true, grid: { drawOnChartArea: false }, title: { display: true, text: chartCurrency }, ticks: { callback: (v) => money(v, chartCurrency) } },
        x: { ticks: { maxRotation: 0, autoSkipPadding: 12 } },
      },
      plugins: {
        legend: { position: 'bottom', labels: { sort: (a, b) => a.datasetIndex - b.datasetIndex } },
        tooltip: {
          callbacks: {
            title: (items) => (items.length ? dayLabel(items[0].label) : ''),
            label: (ctx) => `${ctx.dataset.label}: ${isMoney(ctx.dataset) ? money(ctx.parsed.y, chartCurrency) : num(ctx.parsed.y)}`,
          },
        },
      },
    },
  });
}

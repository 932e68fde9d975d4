// The brand's home screen: the period's KPIs, requests waiting for a decision, top creators
// and products, the audit log and the commission history; and the pending-requests badge in
// the navigation. #brand-amazon shows each brand's Amazon connection as it exists today
// (accounts configured by the operator) and its last report ingestion.

import { call, allPages } from './api.js';
import {
  h, clear, field, select, notice, describe, heading, table, money, num, daysAgo, shortDate, busy,
} from './ui.js';

const PERIODS = [['7', 'Last 7 days'], ['30', 'Last 30 days'], ['90', 'Last 90 days']];
const TOP = 5;

const ratio = (a, b) => (b ? a / b : null);
const pct = (x) => (x === null ? '–' : `${(x * 100).toFixed(1)}%`);

/** Adds (or updates) the count of pending requests on the "Access requests" link. */
export async function pendingBadge(nav) {
  const link = nav.querySelector('a[href="#/requests"]');
  if (!link) return;
  let n = 0;
  try {
    n = (await call('GET', '/sellers/access_requests', { query: { status: 'pending', limit: 1 } })).total_count;
  } catch {
    return; // The badge is a hint; the screen itself reports errors.
  }
  link.querySelector('.nav-badge')?.remove();
  if (n > 0) link.append(' ', h('span', { class: 'badge pending nav-badge' }, String(n), h('span', { class: 'sr-only' }, ' pending')));
}

function kpi(label, value, testid) {
  return h('div', { class: 'kpi', dataset: { kpi: testid } }, h('dt', {}, label), h('dd', {}, h('span', { class: 'kpi-value' }, value)));
}

const moneyCell = (r, key) => h('ul', { class: 'money-list' }, r.money.map((m) => h('li', {}, money(m[key], m.currency))));

/** A short sentence for one audit entry. */
export function describeAudit(e) {
  const b = e.before || {};
  const a = e.after || {};
  const target = e.target.replace(/^[a-z_]+:/, '');
  switch (e.action) {
    case 'brand.update': {
      const parts = [];
      if (b.program_mode !== a.program_mode) parts.push(`program ${b.program_mode} → ${a.program_mode}`);
      if (b.default_commission !== a.default_commission) parts.push(`default commission ${b.default_commission}% → ${a.default_commission}%`);
      return `Brand settings: ${parts.join(', ') || 'saved unchanged'}`;
    }
    case 'product.commission':
      return `Commission of ${target}: ${b.commission}% → ${a.commission}%${a.commission_override === null ? ' (brand default)' : ''}`;
    case 'grant.create': return `Granted access to ${target}`;
    case 'grant.revoke': return `Revoked access of ${target}`;
    case 'access_request.approve': return `Approved the request of ${a.creator || target}`;
    case 'access_request.decline': return `Declined the request of ${a.creator || target}`;
    default: return `${e.action} ${target}`;
  }
}

/**
 * A brand the operator did not configure may have connected its own Amazon Ads account
 * (#18): the cell says which regions, filled in once the connection status arrives.
 */
function ownConnection(brandId) {
  const cell = h('span', {}, 'Not connected: no report data arrives');
  call('GET', `/sellers/brands/${encodeURIComponent(brandId)}/amazon`).then((c) => {
    const own = c.regions.filter((r) => r.via === 'brand');
    if (!own.length) return;
    const ok = own.filter((r) => r.status === 'connected').map((r) => r.region);
    const broken = own.filter((r) => r.status === 'reconnect_needed').map((r) => r.region);
    cell.textContent = [ok.length ? `Connected by the brand (${ok.join(', ')})` : null,
      broken.length ? `Reconnect needed (${broken.join(', ')})` : null].filter(Boolean).join('; ');
  }, () => {});
  return cell;
}

const isCommission = (e) => e.action === 'product.commission'
  || (e.action === 'brand.update' && (e.before || {}).default_commission !== (e.after || {}).default_commission);

export async function overview(main, params) {
  const period = select('period', PERIODS, params.get('period') || '30');
  const form = h('form', { class: 'filters' }, field('Period', period));
  const msg = notice();
  const kpis = h('div', { 'aria-live': 'polite' });
  const tops = h('div', { class: 'overview-grid' });
  const pending = h('div');
  const amazonBody = h('div');
  const auditMsg = notice();
  const audit = h('div');
  const historyBody = h('div');
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Load more');
  clear(main, heading('Overview'), form, msg.el, kpis,
    h('div', { class: 'overview-section' }, h('h2', { id: 'ov-pending' }, 'Requests waiting for you'), pending),
    tops,
    // Filled by the Amazon connection screens: each brand's connection and last ingestion.
    h('section', { id: 'brand-amazon', class: 'overview-section', 'aria-labelledby': 'ov-amazon' },
      h('h2', { id: 'ov-amazon' }, 'Amazon connection and data'), amazonBody,
      h('p', { class: 'hint' }, h('a', { href: '#/amazon' }, 'Connect or manage your Amazon Ads accounts'))),
    h('div', { class: 'overview-section' }, h('h2', { id: 'ov-history' }, 'Commission history'),
      h('p', { class: 'muted' }, 'A change shows in the catalog at once and counts in reports from the next day (UTC).'), historyBody),
    h('div', { class: 'overview-section' }, h('h2', { id: 'ov-audit' }, 'Audit log'), auditMsg.el, audit, more));

  let latest = 0;
  async function loadFigures() {
    const mine = ++latest;
    msg.hide();
    const days = Number(period.value);
    const query = { start: daysAgo(days - 1), end: daysAgo(0) };
    window.history.replaceState(null, '', `#/overview?period=${period.value}`);
    try {
      const [creators, products] = await Promise.all([
        call('GET', '/sellers/reports/summary', { query: { ...query, group_by: 'creator' } }),
        call('GET', '/sellers/reports/summary', { query: { ...query, group_by: 'product' } }),
      ]);
      if (mine !== latest) return;
      const t = creators.totals;
      clear(kpis,
        h('dl', { class: 'kpis', 'aria-label': `Totals, ${period.selectedOptions[0].textContent.toLowerCase()}` },
          kpi('Clicks', num(t.clicks), 'clicks'),
          kpi('Purchases', num(t.purchases), 'purchases'),
          kpi('Conversion rate', pct(ratio(t.purchases, t.clicks)), 'conversion'),
          kpi('Units', num(t.units_sold), 'units'),
          t.money.map((m) => [
            kpi(`Sales (${m.currency})`, money(m.sales, m.currency), `sales-${m.currency}`),
            kpi(`Commission (${m.currency})`, money(m.commission, m.currency), `commission-${m.currency}`)])),
        h('p', { class: 'muted data-as-of' }, creators.data_as_of ? `Data as of ${new Date(creators.data_as_of).toLocaleString()}.` : 'No report data has been received from Amazon yet.',
          ' ', h('a', { href: '#/seller-report' }, 'Full report')));
      clear(amazonBody, table('Amazon connection per brand', creators.brands || [], [
        ['Brand', (b) => b.brand_name],
        ['Amazon', (b) => (b.amazon === 'platform'
          ? `Configured by the platform operator (${b.amazon_accounts} account${b.amazon_accounts === 1 ? '' : 's'})`
          : ownConnection(b.brand_id))],
        ['Data as of', (b) => (b.data_as_of ? new Date(b.data_as_of).toLocaleString() : 'No report received yet')],
      ], { empty: 'You have no brands yet.' }));
      const top = (rows) => rows.slice().sort((a, b) => b.clicks - a.clicks || a.key.localeCompare(b.key)).slice(0, TOP);
      clear(tops,
        h('div', { class: 'overview-section' }, h('h2', { id: 'ov-creators' }, 'Top creators'),
          table('Top creators', top(creators.rows), [
            ['Creator', (r) => [h('strong', {}, r.label || r.key), h('br'), h('span', { class: 'muted' }, r.key)]],
            ['Clicks', (r) => num(r.clicks), { num: true }],
            ['Purchases', (r) => num(r.purchases), { num: true }],
            ['Sales', (r) => moneyCell(r, 'sales'), { num: true }],
          ], { empty: 'No creator activity in this period.' })),
        h('div', { class: 'overview-section' }, h('h2', { id: 'ov-products' }, 'Top products'),
          table('Top products', top(products.rows), [
            ['Product', (r) => [r.label || r.key, h('br'), h('span', { class: 'muted' }, r.key)]],
            ['Clicks', (r) => num(r.clicks), { num: true }],
            ['Purchases', (r) => num(r.purchases), { num: true }],
            ['Sales', (r) => moneyCell(r, 'sales'), { num: true }],
          ], { empty: 'No product activity in this period.' })));
    } catch (e) {
      if (mine !== latest) return;
      // An error never leaves the previous period's figures looking current.
      clear(kpis);
      clear(tops);
      clear(amazonBody);
      msg.show(describe(e));
    }
  }

  async function loadPending() {
    try {
      const r = await call('GET', '/sellers/access_requests', { query: { status: 'pending', limit: 5 } });
      clear(pending, r.total_count
        ? [h('p', {}, h('strong', {}, `${r.total_count} request${r.total_count === 1 ? '' : 's'}`), ' waiting for a decision. ', h('a', { href: '#/requests' }, 'Decide them')),
          h('ul', { class: 'plain-list' }, r.access_requests.map((a) => h('li', {}, `${a.creator_name} (${a.creator}) for ${a.brand_name}, ${shortDate(a.created_at)}`)))]
        : h('p', { class: 'empty' }, 'No requests are waiting for you.'));
    } catch (e) {
      clear(pending, h('p', { class: 'field-error' }, describe(e)));
    }
  }

  let cursor = null;
  let entries = [];
  async function loadAudit(reset) {
    auditMsg.hide();
    if (reset) { cursor = null; entries = []; }
    try {
      const r = await call('GET', '/sellers/audit', { query: { limit: 20, cursor } });
      entries.push(...r.entries);
      cursor = r.next_cursor;
      more.hidden = !cursor;
      clear(audit, table('Audit log', entries, [
        ['When', (e) => new Date(e.at).toLocaleString()],
        ['Brand', (e) => e.brand_id],
        ['What', (e) => describeAudit(e)],
        ['By', (e) => e.actor],
      ], { empty: 'Nothing recorded yet.' }));
    } catch (e) {
      entries = [];
      clear(audit);
      more.hidden = true;
      auditMsg.show(describe(e));
    }
  }

  async function loadHistory() {
    try {
      // Commission changes among the latest 500 recorded actions.
      const { rows } = await allPages('/sellers/audit', { limit: 100 }, 'entries', 5);
      clear(historyBody, table('Commission history', rows.filter(isCommission), [
        ['Changed', (e) => new Date(e.at).toLocaleString()],
        ['Brand', (e) => e.brand_id],
        ['Change', (e) => describeAudit(e)],
        ['Counts from', (e) => { const d = new Date(e.at); d.setUTCDate(d.getUTCDate() + 1); return d.toISOString().slice(0, 10); }],
      ], { empty: 'No commission has been changed yet.' }));
    } catch (e) {
      clear(historyBody, h('p', { class: 'field-error' }, describe(e)));
    }
  }

  period.addEventListener('change', loadFigures);
  form.addEventListener('submit', (ev) => { ev.preventDefault(); loadFigures(); });
  more.addEventListener('click', () => busy(more, () => loadAudit(false)));
  await Promise.all([loadFigures(), loadPending(), loadAudit(true), loadHistory()]);
}

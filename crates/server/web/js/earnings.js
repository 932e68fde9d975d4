// Creator earnings (issue #20): per month, brand and currency what is pending (open),
// final, approved and paid; a statement's lines, adjustments and history; its CSV; and
// where to be paid. Every amount comes from the server; the browser only formats it.

import { call } from './api.js';
import { h, clear, field, select, notice, describe, heading, busy, table, download, money, shortDate, collapsible } from './ui.js';

function monthsAgo(n) {
  const d = new Date();
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() - n);
  return d.toISOString().slice(0, 7);
}

export async function earnings(main, params) {
  if (params.get('id')) return statement(main, params.get('id'));
  const start = h('input', { type: 'month', name: 'start_month', value: params.get('start_month') || monthsAgo(5) });
  const end = h('input', { type: 'month', name: 'end_month', value: params.get('end_month') || monthsAgo(0) });
  const msg = notice();
  const out = h('div', { id: 'earnings-out' });
  const show = h('button', { type: 'submit' }, 'Show');
  const form = h('form', { class: 'filters' }, field('From month', start), field('To month', end), show);
  const details = h('section', { 'aria-labelledby': 'payout-h' });
  clear(main, heading('Earnings'), collapsible(form), msg.el, out, details);
  async function load() {
    msg.hide();
    try {
      const q = { start_month: start.value, end_month: end.value };
      const [e, s] = await Promise.all([call('GET', '/earnings', { query: q }), call('GET', '/statements', { query: q })]);
      clear(out,
        table('Earnings per month', e.rows, [
          ['Month', (r) => r.month], ['Brand', (r) => r.brand_name || r.brand_id],
          ['Pending', (r) => money(r.pending, r.currency), { num: true }],
          ['Final', (r) => money(r.final, r.currency), { num: true }],
          ['Approved', (r) => money(r.approved, r.currency), { num: true }],
          ['Paid', (r) => money(r.paid, r.currency), { num: true }],
        ], { empty: 'No earnings in these months yet.' }),
        h('h2', {}, 'Statements'),
        table('Statements', s.statements, [
          ['Month', (r) => r.month], ['Brand', (r) => r.brand_name || r.brand_id],
          ['State', (r) => h('span', { class: `state state-${r.state}` }, r.state)],
          ['Total', (r) => money(r.total, r.currency), { num: true }],
          ['', (r) => h('a', { href: `#/earnings?id=${encodeURIComponent(r.id)}` }, `Open ${r.month} ${r.brand_id} statement`)],
        ], { empty: 'No statements yet.' }));
    } catch (err) {
      msg.show(describe(err));
    }
  }
  form.addEventListener('submit', (ev) => { ev.preventDefault(); busy(show, load); });
  await Promise.all([load(), payoutDetails(details)]);
}

async function payoutDetails(section) {
  const method = select('method', [['paypal', 'PayPal'], ['other', 'Other']], 'paypal');
  const email = h('input', { type: 'email', name: 'paypal_email', autocomplete: 'email' });
  const reference = h('input', { type: 'text', name: 'reference', maxlength: 200 });
  const save = h('button', { type: 'submit' }, 'Save payout details');
  const msg = notice();
  const form = h('form', {}, field('Payout method', method), field('PayPal e-mail', email), field('Other payout reference', reference, 'Account or IBAN for method Other'), save, msg.el);
  clear(section, h('h2', { id: 'payout-h' }, 'Payout details'), form);
  try {
    const d = await call('GET', '/account/payout_details');
    method.value = d.method;
    email.value = d.paypal_email || '';
    reference.value = d.reference || '';
  } catch (err) {
    if (err.code !== 'payout_details_missing') msg.show(describe(err));
    else msg.show('Brands cannot pay you until you say where: add your payout details.', 'info');
  }
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(save, async () => {
      try {
        await call('PUT', '/account/payout_details', { json: { method: method.value, paypal_email: email.value, reference: reference.value } });
        msg.show('Payout details saved.', 'success');
      } catch (err) {
        msg.show(describe(err));
      }
    });
  });
}

/** One statement: totals, lines, adjustments, history, CSV. Used by both sides. */
export function statementView(s, csv) {
  const dl = csv ? h('button', { type: 'button', onclick: csv }, 'Download CSV') : null;
  return [
    h('dl', { class: 'kv' },
      h('dt', {}, 'State'), h('dd', { id: 'statement-state' }, s.state),
      h('dt', {}, 'Commission'), h('dd', {}, money(s.commission, s.currency)),
      h('dt', {}, 'Adjustments'), h('dd', {}, money(s.adjustments_total, s.currency)),
      h('dt', {}, 'Total'), h('dd', { id: 'statement-total' }, money(s.total, s.currency)),
      s.payment ? [h('dt', {}, 'Paid'), h('dd', {}, `${shortDate(s.payment.paid_at)} · ${s.payment.method} · ${s.payment.reference}`)] : null),
    dl,
    h('h2', {}, 'Adjustments'),
    table('Adjustments', s.adjustments, [['Amount', (a) => money(a.amount, s.currency), { num: true }], ['Reason', (a) => a.reason], ['When', (a) => shortDate(a.at)]], { empty: 'No adjustments.' }),
    h('h2', {}, 'Lines'),
    table('Statement lines', s.lines, [
      ['Date', (l) => l.date], ['Link', (l) => l.link_name || l.link_id], ['Product', (l) => `${l.asin}${l.halo ? ' (halo)' : ''}`],
      ['Units', (l) => l.units, { num: true }], ['Sales', (l) => money(l.sales, s.currency), { num: true }],
      ['Commission', (l) => money(l.commission, s.currency), { num: true }],
    ], { empty: 'No sales this month.' }),
    h('h2', {}, 'History'),
    table('History', s.history, [['State', (e) => e.state], ['By', (e) => e.by], ['Note', (e) => e.note || ''], ['When', (e) => shortDate(e.at)]]),
  ];
}

async function statement(main, id) {
  const msg = notice();
  clear(main, heading('Statement'), h('p', {}, h('a', { href: '#/earnings' }, 'Back to earnings')), msg.el);
  try {
    const s = await call('GET', `/statements/${encodeURIComponent(id)}`);
    const csv = async () => {
      try {
        download(`quiver-statement-${s.month}-${s.id}.csv`, await call('GET', `/statements/${encodeURIComponent(id)}.csv`, { text: true }));
      } catch (err) {
        msg.show(describe(err));
      }
    };
    main.append(h('p', {}, `${s.brand_name || s.brand_id} · ${s.month} · ${s.currency}`), ...statementView(s, csv));
  } catch (err) {
    msg.show(describe(err));
  }
}

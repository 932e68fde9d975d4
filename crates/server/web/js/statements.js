// Brand statements (issue #20): by month and creator with their states; adjust, approve,
// void; select approved ones and record their payment; download the PayPal or generic
// payout file. The Brand Referral Bonus is shown as Amazon's estimate for the brand.

import { call } from './api.js';
import { h, clear, field, select, notice, describe, heading, busy, table, download, money, collapsible } from './ui.js';
import { statementView } from './earnings.js';

function lastMonth() {
  const d = new Date();
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() - 2);
  return d.toISOString().slice(0, 7);
}

export async function statements(main, params) {
  if (params.get('id')) return detail(main, params.get('id'));
  const month = h('input', { type: 'month', name: 'month', value: params.get('month') || lastMonth() });
  const state = select('state', [['', 'Any state'], ['open', 'Open'], ['final', 'Final'], ['approved', 'Approved'], ['paid', 'Paid'], ['void', 'Void']], params.get('state') || '');
  const show = h('button', { type: 'submit' }, 'Show');
  const form = h('form', { class: 'filters' }, field('Month', month), field('State', state), show);
  const msg = notice();
  const out = h('div', { id: 'statements-out' });
  // Outside `out`, so the recorded payment and its file buttons survive the reload.
  const payMsg = notice();
  clear(main, heading('Statements'), collapsible(form), msg.el, out, payMsg.el);
  async function load() {
    msg.hide();
    try {
      const r = await call('GET', '/sellers/statements', { query: { month: month.value, state: state.value } });
      render(r);
    } catch (err) {
      msg.show(describe(err));
    }
  }
  function render(r) {
    const picked = new Set();
    const rows = r.statements;
    const payBox = (s) => (s.state === 'approved'
      ? h('input', { type: 'checkbox', 'aria-label': `Select ${s.creator} ${s.currency} statement for payment`, onchange: (ev) => (ev.target.checked ? picked.add(s.id) : picked.delete(s.id)) })
      : '');
    const method = h('input', { type: 'text', name: 'method', value: 'paypal', required: true });
    const reference = h('input', { type: 'text', name: 'reference', required: true, maxlength: 200 });
    const paidAt = h('input', { type: 'date', name: 'paid_at', value: new Date().toISOString().slice(0, 10), required: true });
    const pay = h('button', { type: 'submit' }, 'Mark selected paid');
    const payForm = h('form', { 'aria-label': 'Record a payment' }, field('Paid on', paidAt), field('Method', method), field('Payment reference', reference), pay);
    payForm.addEventListener('submit', (ev) => {
      ev.preventDefault();
      busy(pay, async () => {
        try {
          payMsg.hide();
          const p = await call('POST', '/sellers/payouts', { json: { statement_ids: [...picked], paid_at: `${paidAt.value}T12:00:00Z`, method: method.value, reference: reference.value } });
          const file = async (format) => {
            try {
              download(`quiver-payout-${p.id}-${format}.csv`, await call('GET', `/sellers/payouts/${p.id}/export`, { query: { format }, text: true }));
            } catch (err) {
              payMsg.show(describe(err));
            }
          };
          const flagged = p.statements.filter((s) => s.payout_details_missing).length;
          payMsg.show(`Payment of ${money(p.total, p.currency)} recorded.${flagged ? ` ${flagged} statement(s) have no payout details and are left out of the file.` : ''}`, 'success',
            h('button', { type: 'button', onclick: () => file('paypal') }, 'Download PayPal file'),
            h('button', { type: 'button', onclick: () => file('generic') }, 'Download CSV'));
          await load();
        } catch (err) {
          payMsg.show(describe(err));
        }
      });
    });
    clear(out,
      table('Brand Referral Bonus estimates', r.brand_referral_bonus, [
        ['Month', (b) => b.month], ['Brand', (b) => b.brand_id], ['Estimated bonus from Amazon', (b) => money(b.estimate, b.currency), { num: true }],
      ], { empty: 'No Brand Referral Bonus this month.' }),
      table('Statements', rows, [
        ['Pay', payBox], ['Creator', (s) => s.creator], ['Brand', (s) => s.brand_name || s.brand_id], ['Month', (s) => s.month],
        ['State', (s) => h('span', { class: `state state-${s.state}` }, s.state)],
        ['Total', (s) => money(s.total, s.currency), { num: true }],
        ['Payout details', (s) => (s.payout_details_missing ? 'Missing' : 'Yes')],
        ['', (s) => h('a', { href: `#/statements?id=${encodeURIComponent(s.id)}` }, `Open ${s.creator} ${s.currency} statement`)],
      ], { empty: 'No statements for this month.' }),
      rows.some((s) => s.state === 'approved') ? payForm : null);
  }
  form.addEventListener('submit', (ev) => { ev.preventDefault(); busy(show, load); });
  await load();
}

async function detail(main, id) {
  const msg = notice();
  const body = h('div', {});
  clear(main, heading('Statement'), h('p', {}, h('a', { href: '#/statements' }, 'Back to statements')), msg.el, body);
  const path = `/sellers/statements/${encodeURIComponent(id)}`;
  async function act(button, fn) {
    await busy(button, async () => {
      try {
        draw(await fn());
        msg.hide();
      } catch (err) {
        msg.show(describe(err));
      }
    });
  }
  function draw(s) {
    const amount = h('input', { type: 'number', name: 'amount', step: '0.01', required: true });
    const reason = h('input', { type: 'text', name: 'reason', required: true, maxlength: 200 });
    const add = h('button', { type: 'submit' }, 'Add adjustment');
    const adjust = h('form', { 'aria-label': 'Add an adjustment' }, field('Amount (negative to deduct)', amount), field('Reason', reason), add);
    adjust.addEventListener('submit', (ev) => {
      ev.preventDefault();
      act(add, () => call('POST', `${path}/adjustments`, { json: { amount_minor: Math.round(Number(amount.value) * 100), reason: reason.value } }));
    });
    const approve = h('button', { type: 'button', onclick: () => act(approve, () => call('POST', `${path}/approve`)) }, 'Approve');
    const voidReason = h('input', { type: 'text', name: 'void_reason', maxlength: 200 });
    const voidBtn = h('button', { type: 'button', class: 'danger', onclick: () => act(voidBtn, () => call('POST', `${path}/void`, { json: { reason: voidReason.value } })) }, 'Void');
    clear(body,
      h('p', {}, `${s.creator} · ${s.brand_name || s.brand_id} · ${s.month} · ${s.currency}${s.payout_details_missing ? ' · no payout details yet' : ''}`),
      s.state === 'final' ? [adjust, approve] : null,
      ['open', 'final', 'approved'].includes(s.state) ? h('div', {}, field('Void reason', voidReason), voidBtn) : null,
      ...statementView(s, null));
  }
  try {
    draw(await call('GET', path));
  } catch (err) {
    msg.show(describe(err));
  }
}

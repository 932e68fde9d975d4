// Brand (seller) screens: brands and products with commissions, access requests, grants.

import { call, allPages } from './api.js';
import {
  h, clear, field, select, marketplaceSelect, notice, describe, heading, busy, table, toast, shortDate, uid,
} from './ui.js';

function commissionInput(value, label) {
  return h('input', { type: 'number', min: 0, max: 100, step: 0.01, value: value ?? '', inputmode: 'decimal', class: 'narrow', 'aria-label': label });
}

/** Reads a percent from an input: a number 0–100 with at most 2 decimals, or an error text. */
function percent(input) {
  const v = input.value.trim();
  if (v === '') return { error: 'Enter a percentage.' };
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n > 100) return { error: 'Between 0 and 100.' };
  if (Math.round(n * 100) !== n * 100) return { error: 'At most 2 decimals.' };
  return { value: n };
}

/** An error shown beside the control that caused it (a table cell has no room for a field). */
function cellError() {
  const el = h('span', { class: 'cell-error', role: 'alert', id: uid('err') });
  return {
    el,
    set(control, text) {
      el.textContent = text || '';
      if (text) { control.setAttribute('aria-invalid', 'true'); control.setAttribute('aria-describedby', el.id); } else { control.removeAttribute('aria-invalid'); control.removeAttribute('aria-describedby'); }
    },
  };
}

export async function brands(main, params) {
  const msg = notice();
  const brandBody = h('div');
  const brandFilter = select('brand_ids', [['', 'All my brands']], params.get('brand_ids') || '');
  const market = marketplaceSelect('marketplace', params.get('marketplace') || 'amazon.com', { all: true });
  const productForm = h('form', { class: 'filters' }, field('Brand', brandFilter), field('Marketplace', market), h('button', { type: 'submit' }, 'Show products'));
  const productMsg = notice();
  const productBody = h('div', { 'aria-live': 'polite' });
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Load more');
  clear(main, heading('Brands & products'), msg.el, brandBody,
    h('h2', {}, 'Products'), h('p', { class: 'muted' }, 'A product commission overrides its brand’s default. Changes show in the catalog at once and count in reports from tomorrow (UTC).'),
    productForm, productMsg.el, productBody, more);

  let brandRows = [];
  async function loadBrands() {
    try {
      brandRows = (await allPages('/sellers/brands', { limit: 500 }, 'brands', 5)).rows;
    } catch (e) {
      msg.show(describe(e));
      return;
    }
    clear(brandBody, table('Your brands', brandRows, [
      ['Brand', (b) => [h('strong', {}, b.brand_name), h('br'), h('span', { class: 'muted' }, b.brand_id)]],
      ['Program', (b) => brandRowControls(b).mode],
      ['Default commission (%)', (b) => brandRowControls(b).rate],
      ['', (b) => brandRowControls(b).save],
    ], { empty: 'You have no brands yet.' }));
    for (const b of brandRows) {
      brandFilter.append(h('option', { value: b.brand_id, selected: b.brand_id === params.get('brand_ids') }, b.brand_name));
    }
  }

  const controls = new Map();
  function brandRowControls(b) {
    if (controls.has(b.brand_id)) return controls.get(b.brand_id);
    const mode = select('program_mode', [['open', 'Open: any creator'], ['approval', 'Approval: granted creators']], b.program_mode);
    mode.setAttribute('aria-label', `Program mode for ${b.brand_name}`);
    const rate = commissionInput(b.default_commission, `Default commission for ${b.brand_name}, percent`);
    const err = cellError();
    const save = h('button', { type: 'button', class: 'small' }, 'Save');
    save.setAttribute('aria-label', `Save ${b.brand_name}`);
    save.addEventListener('click', async () => {
      err.set(rate, '');
      const p = percent(rate);
      if (p.error) { err.set(rate, p.error); rate.focus(); return; }
      try {
        const updated = await busy(save, () => call('PATCH', `/sellers/brands/${encodeURIComponent(b.brand_id)}`, { json: { program_mode: mode.value, default_commission: p.value } }));
        Object.assign(b, updated);
        toast(`Saved ${b.brand_name}: ${updated.program_mode}, ${updated.default_commission}%`);
      } catch (e) {
        err.set(rate, describe(e));
      }
    });
    const c = { mode, rate: [rate, err.el], save };
    controls.set(b.brand_id, c);
    return c;
  }

  let cursor = null;
  async function loadProducts(reset) {
    productMsg.hide();
    if (reset) { cursor = null; clear(productBody); }
    try {
      const r = await call('GET', '/sellers/products', { query: { brand_ids: brandFilter.value, marketplace: market.value, limit: 50, cursor } });
      const t = table('Your products', r.products, [
        ['Product', (p) => [p.title, h('br'), h('span', { class: 'muted' }, `${p.asin} · ${p.brand_name}`)]],
        ['Marketplace', (p) => p.marketplace],
        ['Price', (p) => new Intl.NumberFormat(undefined, { style: 'currency', currency: p.currency }).format(p.price), { num: true }],
        ['Commission (%)', (p) => productCommission(p)],
      ], { empty: 'No products.' });
      if (reset || !productBody.querySelector('tbody')) clear(productBody, t);
      else if (t.querySelector) productBody.querySelector('tbody').append(...t.querySelectorAll('tbody tr'));
      cursor = r.next_cursor;
      more.hidden = !cursor;
    } catch (e) {
      productMsg.show(describe(e));
    }
  }
  productForm.addEventListener('submit', (ev) => { ev.preventDefault(); loadProducts(true); });
  more.addEventListener('click', () => busy(more, () => loadProducts(false)));
  await loadBrands();
  await loadProducts(true);
}

function productCommission(p) {
  const label = `${p.title} on ${p.marketplace}`;
  const rate = commissionInput(p.commission, `Commission for ${label}, percent`);
  const err = cellError();
  const state = h('span', { class: 'muted small-text' }, p.commission_override === null ? 'brand default' : 'own rate');
  const save = h('button', { type: 'button', class: 'small', 'aria-label': `Save commission for ${label}` }, 'Save');
  const reset = h('button', { type: 'button', class: 'small secondary', 'aria-label': `Use default for ${label}` }, 'Use default');
  async function send(value) {
    err.set(rate, '');
    try {
      const updated = await call('PATCH', `/sellers/products/${encodeURIComponent(p.marketplace)}/${encodeURIComponent(p.asin)}`, { json: { commission: value } });
      rate.value = updated.commission;
      state.textContent = updated.commission_override === null ? 'brand default' : 'own rate';
      toast(`Commission for ${p.asin} (${p.marketplace}): ${updated.commission}%`);
    } catch (e) {
      err.set(rate, describe(e));
    }
  }
  save.addEventListener('click', () => {
    const v = percent(rate);
    if (v.error) { err.set(rate, v.error); rate.focus(); return; }
    busy(save, () => send(v.value));
  });
  reset.addEventListener('click', () => busy(reset, () => send(null)));
  return h('div', { class: 'inline-edit' }, rate, save, reset, state, err.el);
}

export async function requests(main, params) {
  const status = select('status', [['pending', 'Pending'], ['approved', 'Approved'], ['declined', 'Declined'], ['all', 'All']], params.get('status') || 'pending');
  const form = h('form', { class: 'filters' }, field('Status', status), h('button', { type: 'submit' }, 'Show'));
  const msg = notice();
  const body = h('div', { 'aria-live': 'polite' });
  clear(main, heading('Access requests'), h('p', { class: 'muted' }, 'Creators asking to promote your approval-mode brands. Approving grants access at once.'), form, msg.el, body);

  async function load() {
    msg.hide();
    try {
      const r = await call('GET', '/sellers/access_requests', { query: { status: status.value, limit: 100 } });
      clear(body, table('Access requests', r.access_requests, [
        ['Creator', (a) => [h('strong', {}, a.creator_name), h('br'), h('span', { class: 'muted' }, a.creator)]],
        ['Brand', (a) => a.brand_name],
        ['Message', (a) => a.message || h('span', { class: 'muted' }, '(none)')],
        ['Asked', (a) => shortDate(a.created_at)],
        ['Status', (a) => h('span', { class: `badge ${a.status === 'approved' ? 'ok' : a.status === 'declined' ? 'gated' : 'pending'}` }, a.status)],
        ['', (a) => (a.status === 'pending' ? decide(a) : shortDate(a.decided_at))],
      ], { empty: status.value === 'pending' ? 'No requests are waiting for you.' : 'No requests.' }));
    } catch (e) {
      msg.show(describe(e));
    }
  }
  function decide(a) {
    const err = h('span', { class: 'cell-error', role: 'alert' });
    const make = (verb, label, cls) => {
      const b = h('button', { type: 'button', class: `small ${cls}`, 'aria-label': `${label} ${a.creator_name} for ${a.brand_name}` }, label);
      b.addEventListener('click', async () => {
        try {
          await busy(b, () => call('POST', `/sellers/access_requests/${encodeURIComponent(a.id)}/${verb}`));
          toast(`${label === 'Approve' ? 'Approved' : 'Declined'} ${a.creator_name} for ${a.brand_name}`);
          await load();
        } catch (e) {
          err.textContent = e.status === 409 ? 'Already decided; refresh to see it.' : describe(e);
        }
      });
      return b;
    };
    return h('div', { class: 'inline-edit' }, make('approve', 'Approve', ''), make('decline', 'Decline', 'secondary'), err);
  }
  form.addEventListener('submit', (ev) => { ev.preventDefault(); load(); });
  await load();
}

export async function grants(main, params) {
  const msg = notice();
  const brand = select('brand', [], '');
  const active = select('active', [['true', 'Active'], ['false', 'Revoked']], params.get('active') || 'true');
  const form = h('form', { class: 'filters' }, field('Brand', brand), field('Show', active), h('button', { type: 'submit' }, 'Show'));
  const creator = h('input', { type: 'text', name: 'creator', placeholder: 'aff_…', autocomplete: 'off' });
  const grantMsg = notice();
  const grantBtn = h('button', { type: 'submit' }, 'Grant access');
  const grantForm = h('form', { class: 'filters', novalidate: true }, field('Creator affiliate id', creator), grantBtn);
  const body = h('div', { 'aria-live': 'polite' });
  clear(main, heading('Grants'), h('p', { class: 'muted' }, 'Creators allowed to promote a brand in approval mode. Revoking keeps their existing links working but refuses new ones.'),
    msg.el, form, body, h('h2', {}, 'Grant a creator'), grantForm, grantMsg.el);
  try {
    const r = await allPages('/sellers/brands', { limit: 500 }, 'brands', 5);
    const sorted = [...r.rows].sort((a, b) => (a.program_mode === b.program_mode ? 0 : a.program_mode === 'approval' ? -1 : 1));
    for (const b of sorted) brand.append(h('option', { value: b.brand_id, selected: b.brand_id === params.get('brand') }, `${b.brand_name} (${b.program_mode})`));
  } catch (e) {
    msg.show(describe(e));
    return;
  }
  async function load() {
    msg.hide();
    if (!brand.value) { clear(body, h('p', { class: 'empty' }, 'You have no brands yet.')); return; }
    try {
      const r = await call('GET', `/sellers/brands/${encodeURIComponent(brand.value)}/grants`, { query: { active: active.value, limit: 100 } });
      clear(body, table('Grants', r.grants, [
        ['Creator', (g) => [h('strong', {}, g.creator_name), h('br'), h('span', { class: 'muted' }, g.creator)]],
        ['Granted', (g) => shortDate(g.granted_at)],
        ['Revoked', (g) => shortDate(g.revoked_at)],
        ['', (g) => (g.active ? revokeButton(g) : '')],
      ], { empty: active.value === 'true' ? 'No creator has a grant for this brand.' : 'No revoked grants.' }));
    } catch (e) {
      msg.show(describe(e));
    }
  }
  function revokeButton(g) {
    const b = h('button', { type: 'button', class: 'small danger', 'aria-label': `Revoke ${g.creator_name}` }, 'Revoke');
    b.addEventListener('click', async () => {
      if (!window.confirm(`Revoke ${g.creator_name}'s access to ${g.brand_id}? Their existing links keep working.`)) return;
      try {
        await busy(b, () => call('DELETE', `/sellers/brands/${encodeURIComponent(g.brand_id)}/grants/${encodeURIComponent(g.creator)}`));
        toast(`Revoked ${g.creator_name}`);
        await load();
      } catch (e) {
        msg.show(describe(e));
      }
    });
    return b;
  }
  form.addEventListener('submit', (ev) => { ev.preventDefault(); load(); });
  brand.addEventListener('change', load);
  grantForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    grantMsg.hide();
    if (!creator.value.trim()) { grantMsg.show('Enter the creator’s affiliate id.'); creator.focus(); return; }
    try {
      await busy(grantBtn, () => call('PUT', `/sellers/brands/${encodeURIComponent(brand.value)}/grants/${encodeURIComponent(creator.value.trim())}`));
      grantMsg.show(`Granted ${creator.value.trim()} access to ${brand.value}.`, 'success');
      creator.value = '';
      await load();
    } catch (e) {
      grantMsg.show(e.status === 404 ? `No creator or brand found: ${describe(e)}` : describe(e));
    }
  });
  await load();
}

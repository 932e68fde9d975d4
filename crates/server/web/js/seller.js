// Brand (seller) screens: brands and products with commissions. A switch to approval mode is
// confirmed first, and leaving with an unsaved commission edit asks first. Requests and grants
// are in brand-access.js, the overview in overview.js.

import { call, allPages } from './api.js';
import {
  h, clear, field, select, marketplaceSelect, notice, describe, heading, busy, table, toast, uid, guardUnsaved, collapsible,
} from './ui.js';

/** Controls that may hold an edit not saved yet, each with how to read its saved value. */
const edits = new Map();
const asText = (v) => (v === null || v === undefined ? '' : String(v));
function tracked(control, saved) {
  edits.set(control, () => asText(saved()));
  const mark = () => control.classList.toggle('unsaved', control.value !== asText(saved()));
  control.addEventListener('input', mark);
  control.addEventListener('change', mark);
  return control;
}
/** A sentence when some edit on screen is not saved, else null (for the leave guard). */
function unsaved() {
  let n = 0;
  for (const [control, saved] of edits) {
    if (!control.isConnected) edits.delete(control);
    else if (control.value !== saved()) n += 1;
  }
  return n ? `You have ${n} unsaved commission or program edit${n === 1 ? '' : 's'}.` : null;
}

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
    collapsible(productForm), productMsg.el, productBody, more);

  guardUnsaved(unsaved);
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
    const rate = tracked(commissionInput(b.default_commission, `Default commission for ${b.brand_name}, percent`), () => b.default_commission);
    tracked(mode, () => b.program_mode);
    const err = cellError();
    const save = h('button', { type: 'button', class: 'small' }, 'Save');
    save.setAttribute('aria-label', `Save ${b.brand_name}`);
    save.addEventListener('click', async () => {
      err.set(rate, '');
      const p = percent(rate);
      if (p.error) { err.set(rate, p.error); rate.focus(); return; }
      if (b.program_mode !== 'approval' && mode.value === 'approval' && !window.confirm(
        `Switch ${b.brand_name} to approval mode? From now on it refuses new links from every creator without a grant, at once. Links already made keep working. Creators can ask you for access.`)) {
        mode.value = b.program_mode;
        mode.focus();
        return;
      }
      try {
        const updated = await busy(save, () => call('PATCH', `/sellers/brands/${encodeURIComponent(b.brand_id)}`, { json: { program_mode: mode.value, default_commission: p.value } }));
        Object.assign(b, updated);
        rate.classList.remove('unsaved');
        mode.classList.remove('unsaved');
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
      // An error never leaves the previous products looking current.
      clear(productBody);
      cursor = null;
      more.hidden = true;
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
  const rate = tracked(commissionInput(p.commission, `Commission for ${label}, percent`), () => p.commission);
  const err = cellError();
  const state = h('span', { class: 'muted small-text' }, p.commission_override === null ? 'brand default' : 'own rate');
  const save = h('button', { type: 'button', class: 'small', 'aria-label': `Save commission for ${label}` }, 'Save');
  const reset = h('button', { type: 'button', class: 'small secondary', 'aria-label': `Use default for ${label}` }, 'Use default');
  async function send(value) {
    err.set(rate, '');
    try {
      const updated = await call('PATCH', `/sellers/products/${encodeURIComponent(p.marketplace)}/${encodeURIComponent(p.asin)}`, { json: { commission: value } });
      p.commission = updated.commission;
      rate.value = updated.commission;
      rate.classList.remove('unsaved');
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

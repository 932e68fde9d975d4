// Creator (publisher) screens: catalog, link creation and links. Bulk upload is in bulk.js,
// access requests and the profile in access.js, QR codes in qr.js.

import { qrPanel } from './qr.js';
import { call, ApiError } from './api.js';
import {
  h, clear, field, select, marketplaceSelect, notice, describe, heading, busy, copyButton, table,
  setFieldError, showFieldErrors, toast, download, sleep, initials,
  money, num, daysAgo, toCsv, collapsible,
} from './ui.js';
import { shortUrlBlock, shareUrl } from './clicks.js';

const PAGE = 24;
// Retries of a 503 amazon_unavailable before giving up; each waits Retry-After.
const AMAZON_RETRIES = 4;

/** The link, a one-click copy and its QR code. */
export function linkResult(link) {
  const input = h('input', { type: 'text', readonly: true, value: link.url, class: 'url', 'aria-label': `Link URL for ${link.link_name}` });
  input.addEventListener('focus', () => input.select());
  return h('div', { class: 'link-result' },
    h('p', { class: 'success-text' }, `Link “${link.link_name}” created for ${link.marketplace}.`),
    h('div', { class: 'url-row' }, input, copyButton(link.url, input)),
    link.short_url ? h('div', {}, h('p', {}, 'Short URL (counts clicks):'), shortUrlBlock(link)) : qrPanel(link.url, link.link_name));
}

/** Ask a brand for access; shows the outcome in `msg`. */
async function requestAccess(brandId, brandName, msg, button, message) {
  try {
    await busy(button, () => call('POST', '/access_requests', { json: { brand_id: brandId, message: message || undefined } }));
    msg.show(`Access requested from ${brandName}. You can create the link once the brand approves.`, 'success');
    button.remove();
    return true;
  } catch (e) {
    msg.show(describe(e), e.code === 'access_request_pending' || e.code === 'already_allowed' ? 'info' : 'error');
    if (e.code === 'access_request_pending') button.remove();
    return e.code === 'access_request_pending';
  }
}

/** A dialog asking a gated brand for access, with the creator's own message. */
function openRequestDialog(product, onRequested) {
  const note = h('textarea', { name: 'message', rows: 4, maxlength: 1000 });
  const msg = notice();
  const submit = h('button', { type: 'submit' }, 'Send request');
  const closeBtn = h('button', { type: 'button', class: 'secondary' }, 'Close');
  const form = h('form', { novalidate: true },
    field('Your message to the brand (optional)', note, 'Who you are and where you will promote it; up to 1,000 characters.'),
    msg.el, h('div', { class: 'actions' }, submit, closeBtn));
  const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': 'request-title' },
    h('h2', { id: 'request-title' }, `Request access to ${product.company_name}`),
    h('p', { class: 'muted' }, `${product.company_name} approves creators before they can link its products.`),
    form);
  closeBtn.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => dialog.remove());
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    msg.hide();
    if (await requestAccess(product.brand_id, product.company_name, msg, submit, note.value.trim())) {
      note.readOnly = true;
      onRequested();
    }
  });
  document.body.append(dialog);
  dialog.showModal();
  note.focus();
}

/**
 * POST /generate_attribution_link, retrying while Amazon is unavailable: each retry waits
 * the server's Retry-After and reuses the Idempotency-Key, so a retry cannot make two links.
 */
const newKey = () => (crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`);

async function createLinkWithRetry(body, onWait, key = newKey()) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call('POST', '/generate_attribution_link', { json: body, headers: { 'Idempotency-Key': key } });
    } catch (e) {
      if (!(e instanceof ApiError) || e.code !== 'amazon_unavailable' || attempt >= AMAZON_RETRIES) throw e;
      const wait = Math.min(Math.max(e.retryAfter ?? 2, 1), 30);
      for (let left = wait; left > 0; left--) {
        onWait(left, attempt + 1);
        await sleep(1000);
      }
    }
  }
}

/** The "create a link" dialog for one product (native <dialog>: focus trap, Esc closes). */
function openCreateDialog(product, marketplaces = [product.marketplace]) {
  const name = h('input', { type: 'text', name: 'link_name', maxlength: 200, value: product.asin, autocomplete: 'off' });
  const market = marketplaces.length > 1 ? select('marketplace', marketplaces.map((m) => [m, m]), product.marketplace) : marketplaceSelect('marketplace', product.marketplace);
  const msg = notice();
  const submit = h('button', { type: 'submit' }, 'Create link');
  const result = h('div', { 'aria-live': 'polite' });
  const closeBtn = h('button', { type: 'button', class: 'secondary' }, 'Close');
  const form = h('form', { novalidate: true },
    field('Link name', name, 'Shown in your links and reports; defaults to the ASIN.'),
    field('Marketplace', market),
    msg.el,
    h('div', { class: 'actions' }, submit, closeBtn));
  const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': 'create-title' },
    h('h2', { id: 'create-title' }, 'Create a link'),
    h('p', { class: 'muted' }, `${product.title} · ${product.asin} · ${product.company_name}`),
    form, result);
  closeBtn.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => dialog.remove());
  // One key per dialog and request body: a double click, a retry or a second submit of the
  // same form replays the first creation instead of making a second link.
  let key = newKey();
  let sent = null;
  let inFlight = false;
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (inFlight || submit.disabled) return;
    msg.hide();
    setFieldError(name, '');
    setFieldError(market, '');
    if (!name.value.trim()) {
      setFieldError(name, 'Enter a name (1–200 characters).');
      name.focus();
      return;
    }
    clear(result);
    const body = { asin: product.asin, link_name: name.value.trim(), marketplace: market.value };
    if (sent !== null && sent !== JSON.stringify(body)) key = newKey();
    sent = JSON.stringify(body);
    inFlight = true;
    try {
      const link = await busy(submit, () => createLinkWithRetry(
        body,
        (left, n) => msg.show(`Couldn't reach Amazon, retrying in ${left} s (attempt ${n + 1} of ${AMAZON_RETRIES + 1})…`, 'warning'),
        key,
      ));
      msg.hide();
      // Created: the form is done; making another link means opening the dialog again.
      submit.disabled = true;
      submit.textContent = 'Created';
      name.readOnly = true;
      market.disabled = true;
      clear(result, linkResult(link));
      result.querySelector('button').focus();
    } catch (e) {
      if (e.code === 'brand_access_denied') {
        const ask = h('button', { type: 'button', class: 'small' }, 'Request access');
        ask.addEventListener('click', () => requestAccess(product.brand_id, product.company_name, msg, ask));
        msg.show(`Not allowed to promote this product. ${product.company_name} approves creators before they can link its products.`, 'error', ' ', ask);
        ask.focus();
      } else if (e.code === 'amazon_unavailable') {
        msg.show("Couldn't reach Amazon after several tries. Nothing was created; please try again in a minute.");
      } else if (e.code === 'unsupported_marketplace' || e.code === 'product_not_found') {
        setFieldError(market, describe(e));
        market.focus();
      } else if (e.code === 'validation') {
        const rest = showFieldErrors(e, form);
        if (rest.length) msg.show(describe({ ...e, fields: rest }));
      } else {
        msg.show(describe(e));
      }
    } finally {
      inFlight = false;
    }
  });
  document.body.append(dialog);
  dialog.showModal();
  name.select();
}

const SORT_OPTIONS = [['', 'Brand and ASIN'], ['commission', 'Highest commission'], ['rating', 'Best rated'], ['price', 'Lowest price'], ['price_desc', 'Highest price']];

/** The product's picture where the catalog has one, its initials when it has none or it fails. */
function thumb(p) {
  const fallback = () => h('div', { class: 'thumb', 'aria-hidden': 'true' }, initials(p.title));
  if (!p.image) return fallback();
  const img = h('img', { class: 'thumb', src: p.image, alt: '', loading: 'lazy', width: 64, height: 64, referrerpolicy: 'no-referrer' });
  img.addEventListener('error', () => img.replaceWith(fallback()));
  return img;
}

/**
 * One card per product: its marketplaces as chips (each a link to that Amazon page) and one
 * action that fits the creator's access: "Create link", "Request access" or "Pending".
 */
function productCard(group, pending) {
  const p = group.offers[0];
  const markets = () => group.offers.map((o) => o.marketplace);
  const actions = h('div', { class: 'card-actions' });
  const chips = h('ul', { class: 'chips', 'aria-label': `Where ${p.title} is sold` });
  const info = h('p', {});
  const meta = h('p', { class: 'muted' });
  const el = h('li', { class: 'product card', dataset: { asin: p.asin } },
    thumb(p),
    h('div', { class: 'product-body' }, h('h2', { class: 'product-title' }, p.title), meta, info, chips, actions));
  function render() {
    const price = p.pricing ? money(p.pricing.price, p.pricing.currency) : '';
    // Several marketplaces show as the chips below; one is named here too.
    clear(meta, `${p.company_name} · ${p.asin}${group.offers.length === 1 ? ` · ${p.marketplace}` : ''}`);
    clear(info, h('strong', {}, price), ` · ${p.commission}% commission`, p.rating ? ` · ${p.rating.toFixed(1)}★ (${num(p.ratings_total)})` : '', p.inStock ? '' : ' · out of stock');
    clear(chips, group.offers.map((o) => h('li', {}, h('a', {
      class: 'chip', href: o.product_url, target: '_blank', rel: 'noopener noreferrer',
      'aria-label': `${p.title} on ${o.marketplace} (Amazon page, opens in a new tab)`,
    }, o.marketplace))));
    if (p.can_promote) {
      const create = h('button', { type: 'button', class: 'small', 'aria-label': `Create link for ${p.title}` }, 'Create link');
      create.addEventListener('click', () => openCreateDialog(p, markets()));
      clear(actions, h('span', { class: 'badge ok' }, 'Can promote'), create);
    } else if (pending.has(p.brand_id)) {
      clear(actions, h('span', { class: 'badge pending' }, 'Pending'), h('span', { class: 'muted small-text' }, `${p.company_name} has your request`));
    } else {
      const ask = h('button', { type: 'button', class: 'small secondary', 'aria-label': `Request access to ${p.company_name} for ${p.title}` }, 'Request access');
      ask.addEventListener('click', () => openRequestDialog(p, () => { pending.add(p.brand_id); group.refreshBrand(p.brand_id); }));
      clear(actions, h('span', { class: 'badge gated' }, 'Needs approval'), ask);
    }
  }
  group.render = render;
  render();
  return el;
}

export async function catalog(main, params) {
  const search = h('input', { type: 'search', name: 'search', value: params.get('search') || '', placeholder: 'Title, brand or ASIN' });
  const market = marketplaceSelect('marketplace', params.get('marketplace') || 'amazon.com', { all: true });
  const brand = select('brand_id', [['', 'All brands']], params.get('brand_id') || '');
  const promotable = select('promotable', [['', 'All products'], ['true', 'Only ones I can promote']], params.get('promotable') || '');
  const sort = select('sort', SORT_OPTIONS, params.get('sort') || '');
  const form = h('form', { class: 'filters', role: 'search' },
    field('Search', search), field('Marketplace', market), field('Brand', brand), field('Show', promotable), field('Sort by', sort),
    h('button', { type: 'submit' }, 'Search'));
  const msg = notice();
  const count = h('p', { class: 'muted', 'aria-live': 'polite' });
  const list = h('ul', { class: 'products' });
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Load more');
  clear(main, heading('Catalog'), collapsible(form), msg.el, count, list, more);

  call('GET', '/brands', { query: { limit: 500 } }).then((r) => {
    for (const b of r.brands) {
      brand.append(h('option', { value: b.brand_id, selected: b.brand_id === params.get('brand_id') },
        `${b.brand_name}${b.can_promote ? '' : ' (approval)'}`));
    }
  }).catch((e) => msg.show(describe(e)));
  // Brands already asked: their products say "Pending" instead of offering a request.
  const pending = new Set();
  const pendingLoaded = call('GET', '/access_requests', { query: { status: 'pending', limit: 100 } })
    .then((r) => { for (const a of r.access_requests) pending.add(a.brand_id); })
    .catch(() => {});

  let cursor = null;
  let groups = new Map();
  let latest = 0;
  const refreshBrand = (brandId) => { for (const g of groups.values()) if (g.offers[0].brand_id === brandId) g.render(); };
  async function load(reset) {
    const mine = ++latest;
    msg.hide();
    if (reset) { cursor = null; groups = new Map(); }
    try {
      const [r] = await Promise.all([call('GET', '/getproducts', {
        query: {
          search: search.value.trim(), marketplace: market.value, brand_id: brand.value, limit: PAGE, cursor,
          product_available: 'either', promotable: promotable.value, sort: sort.value,
        },
      }), pendingLoaded]);
      if (mine !== latest) return;
      if (reset) list.replaceChildren();
      for (const p of r.product_catalog) {
        // "All marketplaces": one card per product, its other marketplaces as chips.
        const g = groups.get(p.asin);
        if (g) { g.offers.push(p); g.render(); continue; }
        const group = { offers: [p], refreshBrand };
        groups.set(p.asin, group);
        list.append(productCard(group, pending));
      }
      cursor = r.next_cursor;
      more.hidden = !cursor;
      const what = market.value === 'all' ? 'listing' : 'product';
      count.textContent = r.total_count
        ? `${num(r.total_count)} ${what}${r.total_count === 1 ? '' : 's'}${market.value === 'all' ? ` (${groups.size}${cursor ? '+' : ''} product${groups.size === 1 && !cursor ? '' : 's'}, one card each)` : ''}${promotable.value === 'true' ? ' you can promote' : ''}`
        : 'No products match.';
    } catch (e) {
      if (mine !== latest) return;
      // An error never leaves the previous results looking current.
      list.replaceChildren();
      groups = new Map();
      more.hidden = true;
      count.textContent = '';
      msg.show(describe(e));
    }
  }
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams();
    for (const el of [search, market, brand, promotable, sort]) if (el.value) q.set(el.name, el.value.trim());
    history.replaceState(null, '', `#/catalog?${q}`);
    load(true);
  });
  more.addEventListener('click', () => busy(more, () => load(false)));
  await load(true);
}

// Links fetched for the list at most (pages of 100): sorting by figures needs them all.
const MAX_LINK_PAGES = 50;
const PERIODS = [['7', 'Last 7 days'], ['30', 'Last 30 days'], ['90', 'Last 90 days']];
const SORTS = [
  ['created', 'Newest first'], ['name', 'Name'], ['clicks', 'Clicks'], ['purchases', 'Purchases'],
  ['sales', 'Sales'], ['commission', 'Commission'],
];

/** Money of a link's figures, one line per currency (never converted). */
function moneyLines(f, key) {
  if (!f || !f.money.length) return '–';
  return h('ul', { class: 'money-list' }, f.money.map((m) => h('li', {}, money(m[key], m.currency))));
}
const moneyTotal = (f, key) => (f ? f.money.reduce((a, m) => a + m[key], 0) : 0);

export async function links(main, params) {
  const name = h('input', { type: 'search', name: 'link_name', value: params.get('link_name') || '' });
  const asin = h('input', { type: 'text', name: 'asin', value: params.get('asin') || '', maxlength: 10, autocomplete: 'off' });
  const market = marketplaceSelect('marketplace', params.get('marketplace') || 'all', { all: true });
  const active = select('active', [['', 'Active and paused'], ['true', 'Active'], ['false', 'Paused']], params.get('active') || '');
  const archived = select('archived', [['false', 'In use'], ['true', 'Archived'], ['all', 'In use and archived']], params.get('archived') || 'false');
  const period = select('period', PERIODS, params.get('period') || '30');
  const sort = select('sort', SORTS, params.get('sort') || 'created');
  const form = h('form', { class: 'filters', role: 'search' },
    field('Name contains', name), field('ASIN', asin), field('Marketplace', market), field('Status', active),
    field('Archive', archived), field('Figures for', period), field('Sort by', sort),
    h('button', { type: 'submit' }, 'Filter'));
  const msg = notice();
  const body = h('div', { 'aria-live': 'polite' });
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages' });
  const csvBtn = h('button', { type: 'button', class: 'secondary', disabled: true }, 'Export CSV');
  clear(main, heading('My links'), collapsible(form), msg.el, h('div', { class: 'section-head' }, h('p', { class: 'muted' }, 'Figures come from Amazon’s reports for the chosen period.'), csvBtn), body, pager);
  let page = Number(params.get('page')) || 1;
  let rows = [];
  let latest = 0;

  function sorted() {
    const key = sort.value;
    const by = {
      created: (a, b) => (b.created_date_time || '').localeCompare(a.created_date_time || ''),
      name: (a, b) => a.link_name.localeCompare(b.link_name),
      clicks: (a, b) => (b.figures?.clicks || 0) - (a.figures?.clicks || 0),
      purchases: (a, b) => (b.figures?.purchases || 0) - (a.figures?.purchases || 0),
      sales: (a, b) => moneyTotal(b.figures, 'sales') - moneyTotal(a.figures, 'sales'),
      commission: (a, b) => moneyTotal(b.figures, 'commission') - moneyTotal(a.figures, 'commission'),
    }[key];
    return rows.slice().sort((a, b) => by(a, b) || a.id.localeCompare(b.id));
  }

  function show() {
    const all = sorted();
    const pages = Math.max(1, Math.ceil(all.length / 20));
    page = Math.min(Math.max(page, 1), pages);
    const slice = all.slice((page - 1) * 20, page * 20);
    clear(body, table('Your links', slice, [
      ['Name', (l) => nameCell(l, load, msg)],
      ['Product', (l) => [l.product_name, h('br'), h('span', { class: 'muted' }, `${l.asin} · ${l.marketplace}`)]],
      ['Status', (l) => [h('span', { class: `badge ${l.active ? 'ok' : 'paused'}` }, l.active ? 'Active' : 'Paused'),
        l.archived ? [' ', h('span', { class: 'badge archived' }, 'Archived')] : null]],
      ['Clicks', (l) => num(l.figures?.clicks), { num: true }],
      ['Purchases', (l) => num(l.figures?.purchases), { num: true }],
      ['Sales', (l) => moneyLines(l.figures, 'sales'), { num: true }],
      ['Commission', (l) => moneyLines(l.figures, 'commission'), { num: true }],
      ['Link', (l) => linkCell(l)],
      ['', (l) => h('div', { class: 'row-actions' }, toggleButton(l, load, msg), archiveButton(l, load, msg))],
    ], { empty: 'No links match. Create one from the catalog.' }));
    const prev = h('button', { type: 'button', class: 'secondary small', disabled: page <= 1 }, 'Previous');
    const next = h('button', { type: 'button', class: 'secondary small', disabled: page >= pages }, 'Next');
    prev.addEventListener('click', () => { page -= 1; show(); });
    next.addEventListener('click', () => { page += 1; show(); });
    clear(pager, prev, h('span', {}, all.length ? `${(page - 1) * 20 + 1}–${(page - 1) * 20 + slice.length} of ${all.length}` : ''), next);
    csvBtn.disabled = !all.length;
  }

  async function load() {
    const mine = ++latest;
    msg.hide();
    setFieldError(asin, '');
    const days = Number(period.value);
    const query = { link_name: name.value.trim(), asin: asin.value.trim(), marketplace: market.value, active: active.value, archived: archived.value };
    history.replaceState(null, '', `#/links?${new URLSearchParams({ ...query, period: period.value, sort: sort.value })}`);
    try {
      const [list, summary] = await Promise.all([
        (async () => {
          const out = [];
          for (let p = 1; p <= MAX_LINK_PAGES; p++) {
            const r = await call('GET', '/get_all_links', { query: { ...query, page: p, limit: 100 } });
            out.push(...r.all_links);
            if (p >= r.pagination_info.total_pages) break;
          }
          return out;
        })(),
        call('GET', '/reports/summary', { query: { start: daysAgo(days - 1), end: daysAgo(0), group_by: 'link' } }),
      ]);
      if (mine !== latest) return;
      const figures = new Map(summary.rows.map((r) => [r.key, r]));
      rows = list.map((l) => ({ ...l, figures: figures.get(l.id) || null }));
      show();
    } catch (e) {
      if (mine !== latest) return;
      // An error never leaves the previous list looking current.
      rows = [];
      clear(body);
      clear(pager);
      csvBtn.disabled = true;
      if (e.code === 'invalid_asin' || (e.code === 'validation' && e.fields.some((f) => f.loc.includes('asin')))) {
        setFieldError(asin, describe(e));
      } else msg.show(describe(e));
    }
  }
  csvBtn.addEventListener('click', () => download(`quiver-links-last-${period.value}-days.csv`, toCsv(sorted(), [
    ['id', (l) => l.id], ['link_name', (l) => l.link_name], ['asin', (l) => l.asin], ['marketplace', (l) => l.marketplace],
    ['status', (l) => (l.active ? 'active' : 'paused')], ['archived', (l) => (l.archived ? 'yes' : 'no')], ['url', (l) => l.url], ['created', (l) => l.created_date_time],
    ['clicks', (l) => l.figures?.clicks || 0], ['purchases', (l) => l.figures?.purchases || 0],
    ['currency', (l) => (l.figures?.money || []).map((m) => m.currency).join(' ')],
    ['sales', (l) => (l.figures?.money || []).map((m) => m.sales.toFixed(2)).join(' ')],
    ['commission', (l) => (l.figures?.money || []).map((m) => m.commission.toFixed(2)).join(' ')],
  ])));
  sort.addEventListener('change', () => { page = 1; show(); });
  asin.addEventListener('input', () => setFieldError(asin, ''));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    page = 1;
    load();
  });
  await load();
}

/** The link's name with an in-place rename (PATCH /links/{id} {link_name}). */
function nameCell(l, reload, msg) {
  const cell = h('div', { class: 'name-cell' });
  const showName = () => {
    const rename = h('button', { type: 'button', class: 'small secondary', 'aria-label': `Rename ${l.link_name}` }, 'Rename');
    rename.addEventListener('click', edit);
    clear(cell, h('span', { class: 'link-name' }, l.link_name), ' ', rename);
  };
  const edit = () => {
    const input = h('input', { type: 'text', name: 'new_link_name', value: l.link_name, maxlength: 200, 'aria-label': `New name for ${l.link_name}` });
    const save = h('button', { type: 'submit', class: 'small' }, 'Save');
    const cancel = h('button', { type: 'button', class: 'small secondary' }, 'Cancel');
    const f = h('form', { class: 'rename' }, input, save, cancel);
    cancel.addEventListener('click', showName);
    input.addEventListener('keydown', (ev) => { if (ev.key === 'Escape') { ev.stopPropagation(); showName(); } });
    f.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const value = input.value.trim();
      if (!value) { input.setAttribute('aria-invalid', 'true'); input.focus(); return; }
      try {
        await busy(save, () => call('PATCH', `/links/${encodeURIComponent(l.id)}`, { json: { link_name: value } }));
        toast(`Renamed to ${value}`);
        await reload();
      } catch (e) {
        msg.show(`${l.link_name}: ${describe(e)}`);
      }
    });
    clear(cell, f);
    input.select();
  };
  showName();
  return cell;
}

function linkCell(l) {
  const qrBtn = h('button', { type: 'button', class: 'secondary small', 'aria-label': `QR code for ${l.link_name}` }, 'QR code');
  const holder = h('div');
  qrBtn.addEventListener('click', () => {
    if (holder.firstChild) { holder.replaceChildren(); qrBtn.setAttribute('aria-expanded', 'false'); return; }
    holder.append(qrPanel(shareUrl(l), l.link_name));
    qrBtn.setAttribute('aria-expanded', 'true');
  });
  const short = l.short_url
    ? h('div', { class: 'short-row' }, h('code', { class: 'url short' }, l.short_url), ' ', copyButton(l.short_url, null, 'Copy short URL'), ' ',
      h('a', { href: `#/clicks?link=${encodeURIComponent(l.id)}`, class: 'small' }, `${l.clicks_total} clicks`))
    : null;
  return h('div', { class: 'link-cell' }, h('code', { class: 'url full-url' }, l.url), h('div', {}, copyButton(l.url, null), ' ', qrBtn), short, holder);
}

/** Archive (hide from the list and the report's picker) or restore, with undo. */
function archiveButton(link, reload, msg) {
  const label = link.archived ? 'Restore' : 'Archive';
  const b = h('button', { type: 'button', class: 'small secondary', 'aria-label': `${label} ${link.link_name}` }, label);
  const set = (value) => call('PATCH', `/links/${encodeURIComponent(link.id)}`, { json: { archived: value } });
  b.addEventListener('click', async () => {
    try {
      await busy(b, () => set(!link.archived));
      await reload();
      if (link.archived) {
        toast(`Restored ${link.link_name}`);
        return;
      }
      const undo = h('button', { type: 'button', class: 'small secondary' }, 'Undo');
      undo.addEventListener('click', async () => {
        try {
          await busy(undo, () => set(false));
          await reload();
          msg.show(`Restored ${link.link_name}.`, 'success');
        } catch (e) {
          msg.show(`${link.link_name}: ${describe(e)}`);
        }
      });
      msg.show(`Archived ${link.link_name}. It still works and keeps earning; it is only hidden from this list and the report's link picker (choose “Archived” to see it).`, 'info', ' ', undo);
    } catch (e) {
      msg.show(`${link.link_name}: ${describe(e)}`);
    }
  });
  return b;
}

function toggleButton(link, reload, msg) {
  const label = link.active ? 'Pause' : 'Resume';
  const b = h('button', { type: 'button', class: 'small secondary', 'aria-label': `${label} ${link.link_name}` }, label);
  const set = (value) => call('PATCH', `/links/${encodeURIComponent(link.id)}`, { json: { active: value } });
  b.addEventListener('click', async () => {
    try {
      await busy(b, () => set(!link.active));
      await reload();
      if (link.active) {
        const undo = h('button', { type: 'button', class: 'small secondary' }, 'Undo');
        undo.addEventListener('click', async () => {
          try {
            await busy(undo, () => set(true));
            await reload();
            msg.show(`Resumed ${link.link_name}.`, 'success');
          } catch (e) {
            msg.show(`${link.link_name}: ${describe(e)}`);
          }
        });
        msg.show(`Paused ${link.link_name}. Shoppers who use it still reach Amazon, but it stops earning commission after today (UTC).`, 'info', ' ', undo);
      } else {
        toast(`Resumed ${link.link_name}`);
      }
    } catch (e) {
      msg.show(`${link.link_name}: ${describe(e)}`);
    }
  });
  return b;
}

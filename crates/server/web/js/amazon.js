// The brand's Amazon Ads connection (#18): per brand and region (NA, EU, FE) its status,
// Connect / Reconnect / Disconnect, and after consent on Login with Amazon the choice of
// profile and Attribution advertiser. Also the banner on every brand screen while some
// connection needs reconnecting.
//
// Connect asks the server for the authorisation URL (JSON) and then leaves the app for
// Amazon's page; the server's callback brings the browser back to
// #/amazon?brand_id=..&region=..&connected=1 (or &error=access_denied).

import { call, allPages } from './api.js';
import {
  h, clear, field, notice, describe, heading, busy, toast, shortDate, setFieldError, showFieldErrors,
} from './ui.js';

export const REGIONS = [['NA', 'North America'], ['EU', 'Europe'], ['FE', 'Far East']];
const regionName = (r) => `${(REGIONS.find(([k]) => k === r) || [r, r])[1]} (${r})`;
const changed = () => window.dispatchEvent(new CustomEvent('quiver:amazon-changed'));

const when = (iso) => (iso ? new Date(iso).toLocaleString() : null);

/** Every brand of the seller with its connection per region. */
async function connections() {
  const { rows } = await allPages('/sellers/brands', { limit: 500 }, 'brands', 5);
  const all = await Promise.all(rows.map(async (b) => {
    const c = await call('GET', `/sellers/brands/${encodeURIComponent(b.brand_id)}/amazon`);
    return { brand: b, regions: c.regions };
  }));
  return all;
}

/** What a region's connection is, in words, with the badge class it shows as. */
export function statusText(r) {
  if (r.status === 'reconnect_needed') return ['Reconnect needed', 'gated'];
  if (r.status === 'connected' && r.via === 'platform') return ['Connected via platform', 'ok'];
  if (r.status === 'connected' && !r.advertiser_id) return ['Connected: choose a profile', 'pending'];
  if (r.status === 'connected') return ['Connected', 'ok'];
  return ['Not connected', 'paused'];
}

// --- The banner on every brand screen ------------------------------------------------------

let bannerRun = 0;
/** Hides the banner; one still loading stays hidden (logged out, a creator's screen). */
export function hideReconnectBanner(el) {
  bannerRun += 1;
  el.hidden = true;
  el.replaceChildren();
}

/**
 * Fills `el` with a warning and a Reconnect button per region needing reconnection, or hides
 * it. A hint only: an error fetching the statuses leaves it hidden (the Amazon screen says).
 */
export async function reconnectBanner(el) {
  const mine = ++bannerRun;
  let list;
  try {
    list = await connections();
  } catch {
    return;
  }
  if (mine !== bannerRun) return;
  const broken = [];
  for (const { brand, regions } of list) {
    for (const r of regions) if (r.status === 'reconnect_needed') broken.push({ brand, r });
  }
  if (!broken.length) {
    el.hidden = true;
    el.replaceChildren();
    return;
  }
  const msg = notice();
  clear(el, h('div', { class: 'notice warning reconnect-banner' },
    h('p', {}, h('strong', {}, 'Amazon Ads needs reconnecting. '),
      broken.length === 1
        ? `Amazon no longer accepts Quiver's access to ${broken[0].brand.brand_name} in ${regionName(broken[0].r.region)}. Creators cannot make new links for it until you reconnect.`
        : `Amazon no longer accepts Quiver's access for ${broken.length} brand regions. Creators cannot make new links for them until you reconnect.`),
    h('div', { class: 'row-actions' }, broken.map(({ brand, r }) => connectButton(brand, r.region, msg, {
      label: 'Reconnect',
      aria: `Reconnect ${brand.brand_name} in ${regionName(r.region)}`,
    })), h('a', { href: '#/amazon', class: 'banner-link' }, 'Amazon connections')),
    msg.el));
  el.hidden = false;
}

// --- Connect, disconnect, pick -------------------------------------------------------------

/** A button that starts the consent flow for `brand` in `region`. */
function connectButton(brand, region, msg, { label = 'Connect', aria, kind = '' } = {}) {
  const b = h('button', { type: 'button', class: `small ${kind}`.trim(), 'aria-label': aria || `${label} ${brand.brand_name} in ${regionName(region)}` }, label);
  b.addEventListener('click', async () => {
    msg.hide();
    try {
      const r = await busy(b, () => call('GET', '/sellers/amazon/connect', { query: { brand_id: brand.brand_id, region } }));
      b.disabled = true;
      b.textContent = 'Opening Amazon…';
      window.location.assign(r.authorize_url);
    } catch (e) {
      msg.show(`Could not start connecting ${brand.brand_name} in ${regionName(region)}: ${describe(e)}`);
    }
  });
  return b;
}

/** Asks before disconnecting; resolves true to go ahead. */
function confirmDisconnect(brand, region) {
  return new Promise((resolve) => {
    const titleId = `dlg-${Math.random().toString(36).slice(2)}`;
    const yes = h('button', { type: 'button', class: 'danger' }, 'Disconnect');
    const no = h('button', { type: 'button', class: 'secondary' }, 'Cancel');
    const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': titleId },
      h('h2', { id: titleId }, `Disconnect ${brand.brand_name} in ${regionName(region)}?`),
      h('p', {}, 'Quiver deletes its access to your Amazon Ads account for this region. Existing links keep sending shoppers to Amazon, but creators cannot make new links and no new report data arrives until you connect again.'),
      h('div', { class: 'actions' }, yes, no));
    let answer = false;
    yes.addEventListener('click', () => { answer = true; dialog.close(); });
    no.addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => { dialog.remove(); resolve(answer); });
    document.body.append(dialog);
    dialog.showModal();
    no.focus();
  });
}

function profileLabel(p) {
  const bits = [p.country_code, p.currency_code].filter(Boolean).join(', ');
  return `${p.name || p.profile_id}${bits ? ` (${bits})` : ''} · ${p.profile_id}`;
}

/**
 * The profile and advertiser picker for one region: labelled selects filled from what the
 * brand's authorisation can see. `onSaved(region object)` runs after a successful save.
 */
async function picker(brand, r, onSaved, onStale) {
  const where = `${brand.brand_name} in ${regionName(r.region)}`;
  const msg = notice();
  const profile = h('select', { name: 'profile_id' });
  const advertiser = h('select', { name: 'advertiser_id' });
  const save = h('button', { type: 'submit' }, 'Save');
  const form = h('form', { class: 'card amazon-picker', novalidate: true, 'aria-label': `Profile and advertiser for ${where}` },
    h('h4', {}, `Choose the profile and advertiser for ${where}`),
    h('p', { class: 'hint' }, 'The advertiser’s Amazon Attribution tags go into every new creator link for this brand in this region, and its reports come back to Quiver.'),
    h('div', { class: 'filters' },
      field('Amazon Ads profile', profile),
      field('Attribution advertiser', advertiser)),
    msg.el,
    h('div', { class: 'actions' }, save));
  const body = h('div', { 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'Loading your Amazon Ads profiles…'));
  let profiles = [];
  try {
    profiles = (await call('GET', `/sellers/brands/${encodeURIComponent(brand.brand_id)}/amazon/${r.region}/profiles`)).profiles;
  } catch (e) {
    // Asking Amazon is what finds a revoked grant: the status on screen may be stale now.
    changed();
    if (e.code === 'brand_not_connected') {
      onStale(`Amazon no longer accepts Quiver’s access to ${where}: reconnect, then choose the profile.`);
      return body;
    }
    clear(body, h('p', { class: 'notice error', role: 'alert' }, `Could not load the Amazon Ads profiles of ${where}: ${describe(e)}`));
    return body;
  }
  if (!profiles.length) {
    clear(body, h('p', { class: 'notice warning', role: 'alert' }, `The Amazon account you approved has no Amazon Ads profile in ${regionName(r.region)}. Connect again and sign in with the account that runs this brand’s advertising.`));
    return body;
  }
  for (const p of profiles) profile.append(h('option', { value: p.profile_id, selected: p.profile_id === r.profile_id }, profileLabel(p)));
  function fillAdvertisers() {
    const p = profiles.find((x) => x.profile_id === profile.value);
    const ads = p ? p.advertisers : [];
    clear(advertiser, ads.map((a) => h('option', { value: a.advertiser_id, selected: a.advertiser_id === r.advertiser_id }, `${a.name || a.advertiser_id} · ${a.advertiser_id}`)));
    advertiser.disabled = !ads.length;
    save.disabled = !ads.length;
    setFieldError(profile, '');
    setFieldError(advertiser, ads.length ? '' : 'This profile has no Amazon Attribution advertiser. Choose another profile, or set up Attribution for it on Amazon first.');
  }
  // Preselect the first profile that has an advertiser, unless one is already chosen.
  if (!r.profile_id) {
    const first = profiles.find((p) => p.advertisers.length);
    if (first) profile.value = first.profile_id;
  }
  fillAdvertisers();
  profile.addEventListener('change', fillAdvertisers);
  advertiser.addEventListener('change', () => setFieldError(advertiser, ''));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    msg.hide();
    setFieldError(profile, '');
    setFieldError(advertiser, '');
    if (!advertiser.value) { setFieldError(advertiser, 'Choose an advertiser.'); advertiser.focus(); return; }
    try {
      const saved = await busy(save, () => call('PUT', `/sellers/brands/${encodeURIComponent(brand.brand_id)}/amazon/${r.region}`, { json: { profile_id: profile.value, advertiser_id: advertiser.value } }));
      toast(`${where}: connected`);
      changed();
      onSaved(saved);
    } catch (e) {
      if (e.code === 'validation') {
        const rest = showFieldErrors(e, form);
        if (rest.length) msg.show(describe({ ...e, fields: rest }));
      } else if (e.code === 'brand_not_connected') {
        changed();
        onStale(`Amazon no longer accepts Quiver’s access to ${where}: reconnect, then choose the profile.`);
      } else {
        msg.show(describe(e));
      }
    }
  });
  clear(body, form);
  return body;
}

// --- The screen ----------------------------------------------------------------------------

function details(r) {
  const rows = [];
  const add = (term, value) => { if (value) rows.push(h('dt', {}, term), h('dd', {}, value)); };
  add('Profile', r.profile_id && h('code', {}, r.profile_id));
  add('Advertiser', r.advertiser_id && h('code', {}, r.advertiser_id));
  add('Connected', when(r.connected_at));
  add('Last worked', when(r.last_ok_at));
  add('Last error', r.last_error);
  return rows.length ? h('dl', { class: 'profile amazon-details' }, rows) : null;
}

function explain(r) {
  if (r.status === 'reconnect_needed') return 'Amazon no longer accepts Quiver’s access (it was revoked or has expired). Creators cannot make new links for this region until you reconnect.';
  if (r.status === 'connected' && r.via === 'platform') return 'Set up by the platform operator with the platform’s own Amazon account. Connect your own Amazon Ads account to use it instead.';
  if (r.status === 'connected' && !r.advertiser_id) return 'Choose the profile and advertiser to use; until then creators cannot make links for this region.';
  if (r.status === 'connected') return 'Links and reports use your own Amazon Ads account.';
  return 'Connect your Amazon Ads account so creators can link to your products in this region.';
}

export async function amazon(main, params) {
  const msg = notice();
  const body = h('div', { 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'Loading…'));
  clear(main, heading('Amazon'),
    h('p', { class: 'muted' }, 'Each brand connects its Amazon Ads account per region through Login with Amazon, then chooses the profile and Attribution advertiser whose tags its creators’ links carry.'),
    msg.el, body);

  const focusBrand = params.get('brand_id');
  const focusRegion = params.get('region');
  const back = params.get('connected') === '1';
  const error = params.get('error');
  // Shown once: a reload or a later visit does not repeat it.
  if (back || error) {
    const keep = new URLSearchParams();
    if (focusBrand) keep.set('brand_id', focusBrand);
    if (focusRegion) keep.set('region', focusRegion);
    history.replaceState(null, '', `#/amazon${keep.toString() ? `?${keep}` : ''}`);
  }

  let list;
  try {
    list = await connections();
  } catch (e) {
    clear(body);
    msg.show(describe(e));
    return;
  }
  const target = list.find((x) => x.brand.brand_id === focusBrand);
  const where = target && REGIONS.some(([k]) => k === focusRegion) ? `${target.brand.brand_name} in ${regionName(focusRegion)}` : 'the brand';
  if (error === 'access_denied') {
    msg.show(`Connection refused: you chose Deny on Amazon's page, so Quiver has no access to ${where}. Nothing was changed. Connect again when you are ready.`, 'error');
  } else if (error) {
    msg.show(`Amazon did not connect ${where} (${error}). Nothing was changed. Try connecting again.`, 'error');
  } else if (back && target) {
    const r = target.regions.find((x) => x.region === focusRegion);
    msg.show(r && r.advertiser_id
      ? `Amazon account connected for ${where}. It keeps the profile and advertiser chosen before; change them below if you need to.`
      : `Amazon account connected for ${where}. Now choose the profile and advertiser below.`, 'success');
  }

  if (!list.length) {
    clear(body, h('p', { class: 'empty' }, 'You have no brands yet.'));
    return;
  }

  function regionCard(brand, r, message) {
    const [text, badge] = statusText(r);
    const cellMsg = notice();
    if (message) cellMsg.show(message);
    const pick = h('div');
    const actions = h('div', { class: 'row-actions' });
    const where2 = `${brand.brand_name} in ${regionName(r.region)}`;
    if (r.status === 'reconnect_needed') {
      actions.append(connectButton(brand, r.region, cellMsg, { label: 'Reconnect' }));
    } else if (r.status === 'connected' && r.via === 'brand') {
      const verb = r.advertiser_id ? 'Change profile' : 'Choose profile';
      const choose = h('button', { type: 'button', class: 'small secondary', 'aria-label': `${verb} for ${where2}` }, verb);
      choose.addEventListener('click', () => busy(choose, async () => {
        clear(pick, await picker(brand, r, (saved) => refresh(brand, saved), (why) => stale(brand, r, why)));
        pick.querySelector('select')?.focus();
      }));
      actions.append(choose, connectButton(brand, r.region, cellMsg, { label: 'Reconnect', kind: 'secondary' }));
    } else {
      actions.append(connectButton(brand, r.region, cellMsg, { label: 'Connect' }));
    }
    if (r.via === 'brand' || r.status === 'reconnect_needed') {
      const off = h('button', { type: 'button', class: 'small danger', 'aria-label': `Disconnect ${where2}` }, 'Disconnect');
      off.addEventListener('click', async () => {
        if (!(await confirmDisconnect(brand, r.region))) { off.focus(); return; }
        try {
          await busy(off, () => call('DELETE', `/sellers/brands/${encodeURIComponent(brand.brand_id)}/amazon/${r.region}`));
          toast(`${where2}: disconnected`);
          changed();
          const fresh = await call('GET', `/sellers/brands/${encodeURIComponent(brand.brand_id)}/amazon`);
          refresh(brand, fresh.regions.find((x) => x.region === r.region) || { ...r, status: 'not_connected', via: null });
        } catch (e) {
          cellMsg.show(describe(e));
        }
      });
      actions.append(off);
    }
    const card = h('li', { class: 'amazon-region', dataset: { brand: brand.brand_id, region: r.region } },
      h('h3', {}, regionName(r.region), ' ', h('span', { class: `badge ${badge}`, dataset: { status: r.status } }, text)),
      h('p', { class: 'hint' }, explain(r)),
      details(r),
      actions, cellMsg.el, pick);
    return { card, pick };
  }

  const cards = new Map();
  function refresh(brand, r, message) {
    const key = `${brand.brand_id}/${r.region}`;
    const old = cards.get(key);
    const { card } = regionCard(brand, r, message);
    cards.set(key, card);
    old.replaceWith(card);
    card.querySelector('h3')?.setAttribute('tabindex', '-1');
    card.querySelector('h3')?.focus();
  }

  /** Shows `r`'s region afresh from the server, with `why` under it. */
  async function stale(brand, r, why) {
    let fresh = r;
    try {
      const c = await call('GET', `/sellers/brands/${encodeURIComponent(brand.brand_id)}/amazon`);
      fresh = c.regions.find((x) => x.region === r.region) || r;
    } catch {
      // The message still says what happened; the status shows on the next visit.
    }
    refresh(brand, fresh, why);
  }

  let openPicker = null;
  clear(body, list.map(({ brand, regions }) => h('section', { class: 'card amazon-brand', 'aria-labelledby': `amz-${brand.brand_id}` },
    h('h2', { id: `amz-${brand.brand_id}` }, brand.brand_name, ' ', h('span', { class: 'muted small-text' }, brand.brand_id)),
    h('ul', { class: 'amazon-regions' }, regions.map((r) => {
      const { card, pick } = regionCard(brand, r);
      cards.set(`${brand.brand_id}/${r.region}`, card);
      if (back && target && brand.brand_id === focusBrand && r.region === focusRegion && r.status === 'connected' && r.via === 'brand') {
        openPicker = { brand, r, pick };
      }
      return card;
    })))));
  if (openPicker) {
    const { brand, r, pick } = openPicker;
    clear(pick, await picker(brand, r, (saved) => refresh(brand, saved), (why) => stale(brand, r, why)));
    pick.scrollIntoView({ block: 'nearest' });
  }
}

// Creator side of the relationship with brands: asking for access (only brands the
// creator may not promote yet and has not already asked), the brands' decisions with their
// reasons, and the public profile brands see on requests.

import { call } from './api.js';
import {
  h, clear, field, select, notice, describe, heading, busy, table, setFieldError, showFieldErrors,
  shortDate, toast,
} from './ui.js';

export function statusBadge(status) {
  return h('span', { class: `badge ${status === 'approved' ? 'ok' : status === 'declined' ? 'gated' : 'pending'}` }, status);
}

/** What the brand decided, with its reason when it gave one. */
function decision(a) {
  if (a.status === 'pending') return h('span', { class: 'muted' }, 'Waiting for the brand');
  const when = shortDate(a.decided_at);
  if (a.status === 'approved') return `You can create links for ${a.brand_name} (since ${when}).`;
  return [`Declined ${when}.`, a.decision_reason ? [h('br'), h('q', { class: 'reason' }, a.decision_reason)] : [h('br'), h('span', { class: 'muted' }, 'No reason given.')]];
}

export async function accessRequests(main) {
  const msg = notice();
  const body = h('div', { 'aria-live': 'polite' });
  const brand = select('brand_id', [['', 'Choose a brand']], '');
  const note = h('textarea', { name: 'message', rows: 3, maxlength: 1000 });
  const askMsg = notice();
  const ask = h('button', { type: 'submit' }, 'Request access');
  const form = h('form', { class: 'card', novalidate: true },
    h('h2', {}, 'Ask a brand for access'),
    field('Brand', brand, 'Brands that approve creators first, except those you may already promote or have asked.'),
    field('Message to the brand (optional)', note, 'Up to 1,000 characters: who you are, where you will promote it.'),
    askMsg.el, h('div', { class: 'actions' }, ask));
  clear(main, heading('Access requests'),
    h('p', { class: 'muted' }, 'Brands in approval mode decide who may promote them. They see your ', h('a', { href: '#/profile' }, 'public profile'), ' with your request.'),
    form, h('h2', {}, 'Your requests'), msg.el, body);

  let requests = [];
  let brands = [];
  function fillPicker() {
    const pending = new Set(requests.filter((a) => a.status === 'pending').map((a) => a.brand_id));
    const keep = brand.value;
    const open = brands.filter((b) => b.program_mode === 'approval' && !b.can_promote && !pending.has(b.brand_id));
    clear(brand, h('option', { value: '' }, open.length ? 'Choose a brand' : 'No brand left to ask'),
      open.map((b) => h('option', { value: b.brand_id, selected: b.brand_id === keep }, b.brand_name)));
  }
  async function load() {
    msg.hide();
    try {
      const r = await call('GET', '/access_requests', { query: { status: 'all', limit: 100 } });
      requests = r.access_requests;
      clear(body, table('Your access requests', requests, [
        ['Brand', (a) => a.brand_name],
        ['Message', (a) => a.message || h('span', { class: 'muted' }, '(none)')],
        ['Asked', (a) => shortDate(a.created_at)],
        ['Status', (a) => statusBadge(a.status)],
        ['Decision', (a) => decision(a)],
      ], { empty: 'You have not asked any brand for access yet.' }));
    } catch (e) {
      // An error never leaves the previous list looking current.
      requests = [];
      clear(body);
      msg.show(describe(e));
    }
    fillPicker();
  }
  const brandsLoaded = call('GET', '/brands', { query: { limit: 500 } }).then((r) => { brands = r.brands; })
    .catch((e) => askMsg.show(describe(e)));
  brand.addEventListener('change', () => setFieldError(brand, ''));
  note.addEventListener('input', () => setFieldError(note, ''));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    askMsg.hide();
    setFieldError(brand, '');
    setFieldError(note, '');
    if (!brand.value) { setFieldError(brand, 'Choose a brand.'); brand.focus(); return; }
    const name = brand.selectedOptions[0].textContent;
    try {
      await busy(ask, () => call('POST', '/access_requests', { json: { brand_id: brand.value, message: note.value.trim() || undefined } }));
      askMsg.show(`Access requested from ${name}. The brand will decide.`, 'success');
      note.value = '';
      await load();
    } catch (e) {
      if (e.code === 'validation') {
        const rest = showFieldErrors(e, form);
        if (rest.length) askMsg.show(describe({ ...e, fields: rest }));
      } else {
        setFieldError(brand, describe(e));
        brand.focus();
      }
    }
  });
  await brandsLoaded;
  await load();
}

const MAX_CHANNELS = 10;

/** The creator's public profile: display name, pitch and channels, as brands see it. */
export async function profile(main) {
  const msg = notice();
  const name = h('input', { type: 'text', name: 'display_name', maxlength: 100, autocomplete: 'nickname' });
  const pitch = h('textarea', { name: 'pitch', rows: 4, maxlength: 1000 });
  const list = h('div', { class: 'channels' });
  const add = h('button', { type: 'button', class: 'small secondary' }, 'Add a channel');
  const save = h('button', { type: 'submit' }, 'Save profile');
  const id = h('p', { class: 'muted' });
  const form = h('form', { class: 'card', novalidate: true },
    id,
    field('Display name', name, 'How brands see you; 1–100 characters.'),
    field('Pitch to brands', pitch, 'Up to 1,000 characters: your audience, what you review, where.'),
    h('fieldset', { class: 'channel-set' }, h('legend', {}, 'Channels'), list, add),
    msg.el, h('div', { class: 'actions' }, save));
  clear(main, heading('My profile'), h('p', { class: 'muted' }, 'Brands see this when you ask them for access and on their list of creators.'), form);

  let rows = [];
  function channelRow(c = { name: '', url: '' }) {
    const n = rows.length + 1;
    const cname = h('input', { type: 'text', name: `channel_name_${n}`, value: c.name, maxlength: 100, placeholder: 'YouTube' });
    const curl = h('input', { type: 'url', name: `channel_url_${n}`, value: c.url, maxlength: 2000, placeholder: 'https://' });
    const remove = h('button', { type: 'button', class: 'small secondary', 'aria-label': `Remove channel ${n}` }, 'Remove');
    const el = h('div', { class: 'channel-row' }, field(`Channel ${n} name`, cname), field(`Channel ${n} address`, curl), remove);
    const row = { el, cname, curl };
    remove.addEventListener('click', () => { rows = rows.filter((r) => r !== row); el.remove(); add.disabled = false; });
    for (const i of [cname, curl]) i.addEventListener('input', () => setFieldError(i, ''));
    rows.push(row);
    list.append(el);
    add.disabled = rows.length >= MAX_CHANNELS;
    return row;
  }
  add.addEventListener('click', () => channelRow().cname.focus());
  name.addEventListener('input', () => setFieldError(name, ''));
  pitch.addEventListener('input', () => setFieldError(pitch, ''));

  function show(p) {
    id.textContent = `Affiliate id: ${p.creator}${p.updated_at ? ` · saved ${shortDate(p.updated_at)}` : ' · not saved yet'}`;
    name.value = p.display_name;
    pitch.value = p.pitch;
    rows = [];
    list.replaceChildren();
    for (const c of p.channels) channelRow(c);
    add.disabled = rows.length >= MAX_CHANNELS;
  }
  try {
    show(await call('GET', '/account/profile'));
  } catch (e) {
    form.replaceChildren(msg.el);
    msg.show(describe(e));
    return;
  }
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    msg.hide();
    for (const el of [name, pitch, ...rows.flatMap((r) => [r.cname, r.curl])]) setFieldError(el, '');
    if (!name.value.trim()) { setFieldError(name, 'Enter a display name.'); name.focus(); return; }
    const channels = rows.filter((r) => r.cname.value.trim() || r.curl.value.trim())
      .map((r) => ({ name: r.cname.value.trim(), url: r.curl.value.trim() }));
    try {
      const p = await busy(save, () => call('PUT', '/account/profile', { json: { display_name: name.value.trim(), pitch: pitch.value.trim(), channels } }));
      show(p);
      toast('Profile saved');
      msg.show('Saved. Brands now see this profile.', 'success');
    } catch (e) {
      if (e.code === 'validation') {
        // ["body", "channels", i, "name"|"url"] points at one row's control.
        const filled = rows.filter((r) => r.cname.value.trim() || r.curl.value.trim());
        const rest = [];
        for (const f of e.fields) {
          const [, what, i, part] = f.loc;
          const control = what === 'channels' && filled[i] ? (part === 'url' ? filled[i].curl : filled[i].cname)
            : what === 'display_name' ? name : what === 'pitch' ? pitch : null;
          if (control) setFieldError(control, f.msg); else rest.push(f);
        }
        if (rest.length) msg.show(describe({ ...e, fields: rest }));
      } else msg.show(describe(e));
    }
  });
}

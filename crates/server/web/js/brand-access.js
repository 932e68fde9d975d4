// Brand side of the relationship with creators: access requests (approve, or decline with an
// optional reason after confirming), grants by e-mail or affiliate id, and the creator's
// public profile, opened from either list.

import { call, allPages } from './api.js';
import {
  h, clear, field, select, notice, describe, heading, busy, table, toast, shortDate, setFieldError, collapsible,
} from './ui.js';

const requestsChanged = () => window.dispatchEvent(new CustomEvent('quiver:requests-changed'));

function statusBadge(status) {
  return h('span', { class: `badge ${status === 'approved' ? 'ok' : status === 'declined' ? 'gated' : 'pending'}` }, status);
}

/** A modal <dialog> (focus kept inside, Esc closes); removed from the page when closed. */
function modal(title, ...content) {
  const titleId = `dlg-${Math.random().toString(36).slice(2)}`;
  const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': titleId }, h('h2', { id: titleId }, title), ...content);
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}

/** The creator's public profile, as a dialog. */
export async function openProfile(creator, name) {
  const body = h('div', { 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'Loading…'));
  const close = h('button', { type: 'button', class: 'secondary' }, 'Close');
  const dialog = modal(`Profile of ${name || creator}`, body, h('div', { class: 'actions' }, close));
  close.addEventListener('click', () => dialog.close());
  close.focus();
  try {
    const p = await call('GET', `/sellers/creators/${encodeURIComponent(creator)}`);
    clear(body,
      h('dl', { class: 'profile' },
        h('dt', {}, 'Display name'), h('dd', {}, p.display_name),
        h('dt', {}, 'Affiliate id'), h('dd', {}, h('code', {}, p.creator)),
        h('dt', {}, 'Pitch'), h('dd', {}, p.pitch || h('span', { class: 'muted' }, 'No pitch yet.')),
        h('dt', {}, 'Channels'), h('dd', {}, p.channels.length
          ? h('ul', { class: 'plain-list' }, p.channels.map((c) => h('li', {}, h('a', { href: c.url, target: '_blank', rel: 'noopener noreferrer nofollow' }, c.name), ' ', h('span', { class: 'muted small-text' }, c.url))))
          : h('span', { class: 'muted' }, 'None listed.'))),
      p.updated_at ? null : h('p', { class: 'hint' }, 'This creator has not filled in a profile yet.'),
      h('h3', { id: `${dialog.getAttribute('aria-labelledby')}-history` }, 'History with your brands'),
      p.history.length
        ? h('ol', { class: 'plain-list history', 'aria-labelledby': `${dialog.getAttribute('aria-labelledby')}-history` },
          p.history.map((e) => h('li', {}, h('span', { class: 'muted small-text' }, shortDate(e.at)), ' ', historyText(e))))
        : h('p', { class: 'muted' }, 'No requests, grants or commission changes with your brands yet.'));
  } catch (e) {
    clear(body, h('p', { class: 'field-error' }, describe(e)));
  }
}

const pct = (x) => `${x}%`;

/** One step of the creator's history with the brand's brands, as a sentence. */
function historyText(e) {
  const b = e.brand_name;
  const said = (text, none) => (text ? [' ', h('q', { class: 'reason' }, text)] : none ? [' ', h('span', { class: 'muted' }, none)] : null);
  switch (e.event) {
    case 'requested': return [`Asked to promote ${b}.`, said(e.message, '(no message)')];
    case 'approved': return `${b} approved the request.`;
    case 'declined': return [`${b} declined the request.`, said(e.message, 'No reason given.')];
    case 'granted': return `Granted access to ${b}.`;
    case 'revoked': return `Access to ${b} revoked.`;
    case 'commission': return e.product
      ? `Commission of ${e.product} (${b}): ${pct(e.commission_before)} → ${pct(e.commission_after)}.`
      : `${b}'s default commission: ${pct(e.commission_before)} → ${pct(e.commission_after)}.`;
    case 'creator_commission': return `Own commission with ${b}: ${e.commission_before === null ? 'brand rates' : pct(e.commission_before)} → ${e.commission_after === null ? 'brand rates' : pct(e.commission_after)}, from ${e.effective_day}.`;
    default: return `${e.event} (${b})`;
  }
}

function profileButton(creator, name) {
  const b = h('button', { type: 'button', class: 'small secondary', 'aria-label': `Profile of ${name}` }, 'Profile');
  b.addEventListener('click', () => openProfile(creator, name));
  return b;
}

/** Asks to confirm a decline, with an optional reason the creator will see. */
function confirmDecline(a) {
  return new Promise((resolve) => {
    const reason = h('textarea', { name: 'reason', rows: 3, maxlength: 1000 });
    const msg = h('p', { class: 'field-error', role: 'alert', hidden: true });
    const yes = h('button', { type: 'submit', class: 'danger' }, 'Decline request');
    const no = h('button', { type: 'button', class: 'secondary' }, 'Cancel');
    const form = h('form', { novalidate: true },
      h('p', {}, `${a.creator_name} will see that ${a.brand_name} declined, with your reason if you give one. They may ask again later.`),
      field('Reason (optional)', reason, 'Up to 1,000 characters.'), msg, h('div', { class: 'actions' }, yes, no));
    const dialog = modal(`Decline ${a.creator_name}’s request?`, form);
    let answered = false;
    no.addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => { if (!answered) resolve(null); });
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      answered = true;
      resolve({ reason: reason.value.trim(), dialog, yes, msg });
    });
    reason.focus();
  });
}

export async function requests(main, params) {
  const status = select('status', [['pending', 'Pending'], ['approved', 'Approved'], ['declined', 'Declined'], ['all', 'All']], params.get('status') || 'pending');
  const form = h('form', { class: 'filters' }, field('Status', status), h('button', { type: 'submit' }, 'Show'));
  const msg = notice();
  const body = h('div', { 'aria-live': 'polite' });
  clear(main, heading('Access requests'), h('p', { class: 'muted' }, 'Creators asking to promote your approval-mode brands. Open a creator’s profile before deciding; approving grants access at once.'), collapsible(form), msg.el, body);

  let latest = 0;
  async function load() {
    const mine = ++latest;
    msg.hide();
    history.replaceState(null, '', `#/requests?status=${status.value}`);
    try {
      const r = await call('GET', '/sellers/access_requests', { query: { status: status.value, limit: 100 } });
      if (mine !== latest) return;
      clear(body, table('Access requests', r.access_requests, [
        ['Creator', (a) => [h('strong', {}, a.creator_name), h('br'), h('span', { class: 'muted' }, a.creator), h('br'), profileButton(a.creator, a.creator_name)]],
        ['Brand', (a) => a.brand_name],
        ['Message', (a) => a.message || h('span', { class: 'muted' }, '(none)')],
        ['Asked', (a) => shortDate(a.created_at)],
        ['Status', (a) => [statusBadge(a.status), a.decision_reason ? [h('br'), h('q', { class: 'reason' }, a.decision_reason)] : null]],
        ['', (a) => (a.status === 'pending' ? decide(a) : shortDate(a.decided_at))],
      ], { empty: status.value === 'pending' ? 'No requests are waiting for you.' : 'No requests.' }));
    } catch (e) {
      if (mine !== latest) return;
      // An error never leaves the previous list looking current.
      clear(body);
      msg.show(describe(e));
    }
  }
  function decide(a) {
    const err = h('span', { class: 'cell-error', role: 'alert' });
    const failed = (e) => { err.textContent = e.status === 409 ? 'Already decided; refresh to see it.' : describe(e); };
    const approve = h('button', { type: 'button', class: 'small', 'aria-label': `Approve ${a.creator_name} for ${a.brand_name}` }, 'Approve');
    approve.addEventListener('click', async () => {
      try {
        await busy(approve, () => call('POST', `/sellers/access_requests/${encodeURIComponent(a.id)}/approve`));
        toast(`Approved ${a.creator_name} for ${a.brand_name}`);
        requestsChanged();
        await load();
      } catch (e) { failed(e); }
    });
    const decline = h('button', { type: 'button', class: 'small secondary', 'aria-label': `Decline ${a.creator_name} for ${a.brand_name}` }, 'Decline');
    decline.addEventListener('click', async () => {
      const answer = await confirmDecline(a);
      if (!answer) { decline.focus(); return; }
      try {
        await busy(answer.yes, () => call('POST', `/sellers/access_requests/${encodeURIComponent(a.id)}/decline`, { json: answer.reason ? { reason: answer.reason } : {} }));
        answer.dialog.close();
        toast(`Declined ${a.creator_name} for ${a.brand_name}`);
        requestsChanged();
        await load();
      } catch (e) {
        answer.dialog.close();
        failed(e);
      }
    });
    return h('div', { class: 'inline-edit' }, approve, decline, err);
  }
  form.addEventListener('submit', (ev) => { ev.preventDefault(); load(); });
  await load();
}

export async function grants(main, params) {
  const msg = notice();
  const brand = select('brand', [], '');
  const active = select('active', [['true', 'Active'], ['false', 'Revoked']], params.get('active') || 'true');
  const form = h('form', { class: 'filters' }, field('Brand', brand), field('Show', active), h('button', { type: 'submit' }, 'Show'));
  const by = select('grant_by', [['email', 'E-mail address'], ['creator', 'Affiliate id']], 'email');
  const who = h('input', { type: 'text', name: 'creator', autocomplete: 'off', placeholder: 'creator@example.com' });
  const grantMsg = notice();
  const grantBtn = h('button', { type: 'submit' }, 'Grant access');
  const grantForm = h('form', { class: 'filters', novalidate: true }, field('Find the creator by', by), field('Creator', who, 'Their login e-mail, or their affiliate id (aff_…).'), grantBtn);
  const body = h('div', { 'aria-live': 'polite' });
  clear(main, heading('Grants'), h('p', { class: 'muted' }, 'Creators allowed to promote a brand in approval mode. Revoking keeps their existing links working but refuses new ones.'),
    msg.el, collapsible(form), body, h('h2', {}, 'Grant a creator'), grantForm, grantMsg.el);
  by.addEventListener('change', () => { who.placeholder = by.value === 'email' ? 'creator@example.com' : 'aff_…'; setFieldError(who, ''); });
  who.addEventListener('input', () => setFieldError(who, ''));
  try {
    const r = await allPages('/sellers/brands', { limit: 500 }, 'brands', 5);
    const sorted = [...r.rows].sort((a, b) => (a.program_mode === b.program_mode ? 0 : a.program_mode === 'approval' ? -1 : 1));
    for (const b of sorted) brand.append(h('option', { value: b.brand_id, selected: b.brand_id === params.get('brand') }, `${b.brand_name} (${b.program_mode})`));
  } catch (e) {
    msg.show(describe(e));
    return;
  }
  let latest = 0;
  async function load() {
    const mine = ++latest;
    msg.hide();
    if (!brand.value) { clear(body, h('p', { class: 'empty' }, 'You have no brands yet.')); return; }
    history.replaceState(null, '', `#/grants?brand=${encodeURIComponent(brand.value)}&active=${active.value}`);
    try {
      const r = await call('GET', `/sellers/brands/${encodeURIComponent(brand.value)}/grants`, { query: { active: active.value, limit: 100 } });
      if (mine !== latest) return;
      clear(body, table('Grants', r.grants, [
        ['Creator', (g) => [h('strong', {}, g.creator_name), h('br'), h('span', { class: 'muted' }, g.creator)]],
        ['Granted', (g) => shortDate(g.granted_at)],
        ['Revoked', (g) => shortDate(g.revoked_at)],
        ['', (g) => h('div', { class: 'row-actions' }, profileButton(g.creator, g.creator_name), g.active ? revokeButton(g) : null)],
      ], { empty: active.value === 'true' ? 'No creator has a grant for this brand.' : 'No revoked grants.' }));
    } catch (e) {
      if (mine !== latest) return;
      clear(body);
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
    setFieldError(who, '');
    const value = who.value.trim();
    if (!value) { setFieldError(who, by.value === 'email' ? 'Enter the creator’s e-mail address.' : 'Enter the creator’s affiliate id.'); who.focus(); return; }
    if (by.value === 'email' && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(value)) { setFieldError(who, 'Enter a whole e-mail address, like name@example.com.'); who.focus(); return; }
    try {
      const g = await busy(grantBtn, () => call('POST', `/sellers/brands/${encodeURIComponent(brand.value)}/grants`, { json: { [by.value === 'email' ? 'email' : 'creator']: value } }));
      grantMsg.show(`${g.creator_name} (${g.creator}) may now promote ${brand.selectedOptions[0].textContent.replace(/ \(.*\)$/, '')}.`, 'success');
      who.value = '';
      await load();
    } catch (e) {
      if (e.code === 'creator_not_found') setFieldError(who, by.value === 'email' ? `No creator account uses ${value}. They can sign up, or you can invite them.` : `No creator has the affiliate id ${value}.`);
      else if (e.code === 'validation') setFieldError(who, describe(e));
      else grantMsg.show(describe(e));
      who.focus();
    }
  });
  await load();
}

// The JSON API, called from the same origin.
//
// Sessions: the access and refresh tokens live in localStorage, so a session survives a
// new tab and a browser restart for as long as the refresh token lives. Only the app's own
// scripts can read them: the Content-Security-Policy runs no inline or foreign script, and
// the app inserts API text as text, never as HTML (README, "Web app sessions"). An expired
// access token is renewed with the refresh token (which rotates); tabs take turns through a
// Web Lock, since a rotated refresh token presented twice ends the session. When renewal
// fails, or another tab logs out, the app says so and returns to the login screen.
//
// CSRF: every authenticated call carries `Authorization: Bearer ...`, which only this
// script can add. A browser never attaches it to a request another site makes, and Quiver
// sets no cookies, so a cross-site request can never act as the user.

const KEY = 'quiver.session';
// Renew a little before the server would refuse the token.
const EARLY_MS = 30_000;

export class ApiError extends Error {
  constructor(status, body, retryAfter) {
    const detail = body && body.detail;
    super(typeof detail === 'string' ? detail : `HTTP ${status}`);
    this.status = status;
    this.code = (body && body.code) || (status === 422 ? 'validation' : `http_${status}`);
    // FastAPI-style 422: [{loc, msg, type}].
    this.fields = Array.isArray(detail) ? detail : [];
    this.retryAfter = retryAfter;
  }
}

/** A network failure (server down, connection refused). */
export class NetworkError extends Error {
  constructor() {
    super("Can't reach the Quiver server. Check your connection and try again.");
    this.code = 'network';
    this.status = 0;
  }
}

export const SESSION_KEY = KEY;

export function session() {
  try {
    return JSON.parse(localStorage.getItem(KEY));
  } catch {
    return null;
  }
}

function save(s) {
  if (s) localStorage.setItem(KEY, JSON.stringify(s));
  else localStorage.removeItem(KEY);
}

function fromTokenResponse(body, extra) {
  return {
    ...extra,
    access: body.access_token,
    refresh: body.refresh_token,
    expiresAt: Date.now() + body.expires_in * 1000,
  };
}

async function postForm(path, fields) {
  let res;
  try {
    res = await fetch(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: new URLSearchParams(fields),
    });
  } catch {
    throw new NetworkError();
  }
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, body, retryAfter(res));
  return body;
}

function retryAfter(res) {
  const v = Number(res.headers.get('Retry-After'));
  return Number.isFinite(v) && v >= 0 ? v : null;
}

/** Logs in; the token response names the account kind (a Quiver addition). */
export async function login(email, password) {
  const body = await postForm('/token', { username: email, password });
  save(fromTokenResponse(body, { email: email.trim().toLowerCase() }));
  if (body.account_type === 'publisher' || body.account_type === 'seller') {
    patch({ kind: body.account_type });
    return session();
  }
  // An older server: publishers have an affiliate id, brands are refused it.
  try {
    const me = await call('GET', '/get_affiliateID');
    patch({ kind: 'publisher', affiliateId: me.affiliate_id });
  } catch (e) {
    if (e.code !== 'wrong_account_type') {
      save(null);
      throw e;
    }
    patch({ kind: 'seller' });
  }
  return session();
}

function patch(fields) {
  save({ ...session(), ...fields });
}

/** Revokes the session on the server (the refresh token ends it whole), then forgets it. */
export async function logout() {
  const s = session();
  save(null);
  if (!s) return;
  await Promise.allSettled([
    postForm('/token/revoke', { token: s.refresh }),
    postForm('/token/revoke', { token: s.access }),
  ]);
}

let refreshing = null;

// One refresh at a time: refresh tokens rotate, so two parallel refreshes would make the
// second one fail.
function renew(stale) {
  if (!refreshing) {
    const run = async () => {
      const s = session();
      if (!s || !s.refresh) throw expired();
      // Another tab renewed while this one waited for the lock: use its tokens.
      if (s.access !== stale && Date.now() < s.expiresAt - EARLY_MS) return;
      try {
        const body = await postForm('/token', { grant_type: 'refresh_token', refresh_token: s.refresh });
        save(fromTokenResponse(body, { email: s.email, kind: s.kind, affiliateId: s.affiliateId }));
      } catch (e) {
        if (e instanceof NetworkError) throw e;
        throw expired();
      }
    };
    const locked = typeof navigator !== 'undefined' && navigator.locks
      ? navigator.locks.request('quiver.renew', run)
      : run();
    refreshing = locked.finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

function expired() {
  if (!session()) {
    // Already ended (here or in another tab): say so once.
    return new ApiError(401, { detail: 'Your session has expired. Please log in again.', code: 'session_expired' });
  }
  save(null);
  window.dispatchEvent(new CustomEvent('quiver:expired'));
  const e = new ApiError(401, { detail: 'Your session has expired. Please log in again.', code: 'session_expired' });
  return e;
}

/**
 * Calls the API. `query` (object, empty values dropped), `json` (body), `headers`,
 * `text: true` for a text body. Throws ApiError or NetworkError.
 */
export async function call(method, path, { query, json, headers = {}, text = false } = {}) {
  let s = session();
  if (!s) throw expired();
  if (Date.now() > s.expiresAt - EARLY_MS) {
    await renew(s.access);
  }
  let url = path;
  if (query) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      if (v !== undefined && v !== null && v !== '') q.set(k, v);
    }
    const qs = q.toString();
    if (qs) url += `?${qs}`;
  }
  for (let attempt = 0; ; attempt++) {
    s = session();
    const init = {
      method,
      headers: { Accept: text ? 'text/csv' : 'application/json', Authorization: `Bearer ${s.access}`, ...headers },
    };
    if (json !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(json);
    }
    let res;
    try {
      res = await fetch(url, init);
    } catch {
      throw new NetworkError();
    }
    if (res.status === 401 && attempt === 0) {
      // Expired or revoked elsewhere: try the refresh token once.
      await renew(s.access);
      continue;
    }
    if (res.ok) {
      if (text) return res.text();
      if (res.status === 204) return null;
      return res.json();
    }
    const body = await res.json().catch(() => null);
    const err = new ApiError(res.status, body, retryAfter(res));
    if (res.status === 401) {
      throw expired();
    }
    throw err;
  }
}

/** Every page of a cursor-paged list, up to `maxPages`. */
export async function allPages(path, query, listKey, maxPages = 40) {
  const rows = [];
  let cursor = null;
  let truncated = false;
  for (let i = 0; ; i++) {
    const page = await call('GET', path, { query: { ...query, cursor } });
    rows.push(...page[listKey]);
    cursor = page.next_cursor;
    if (!cursor) break;
    if (i + 1 >= maxPages) {
      truncated = true;
      break;
    }
  }
  return { rows, truncated };
}

// The customer's session in localStorage (id and token) and the REST calls the chat makes (create, fetch, rate).
import { embed } from './embed.js';
import { config, isValidSession, STORAGE_KEY } from './state.js';

export const storage = {
  load() {
    let raw = null;
    try { raw = window.localStorage.getItem(STORAGE_KEY); } catch (_) { return null; }
    if (!raw) return null;
    try {
      const parsed = JSON.parse(raw);
      if (isValidSession(parsed)) return { id: parsed.id, token: parsed.token };
    } catch (_) { /* corrupt value: discarded below */ }
    storage.clear();
    return null;
  },
  save(s) {
    try { window.localStorage.setItem(STORAGE_KEY, JSON.stringify({ id: s.id, token: s.token })); } catch (_) { /* session lasts for this page only */ }
  },
  clear() {
    try { window.localStorage.removeItem(STORAGE_KEY); } catch (_) { /* nothing to clear */ }
  },
};

// ---------------------------------------------------------------------------
// REST API
// ---------------------------------------------------------------------------

export function parseRetryAfter(header) {
  const secs = parseInt(header || '', 10);
  return Number.isFinite(secs) && secs > 0 ? Math.min(secs, 60) * 1000 : 0;
}

export async function apiRequest(method, path, { body, token } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && config.csrf) headers['X-CSRFToken'] = config.csrf;
  if (token) headers.Authorization = 'Session ' + token;
  let res;
  try {
    res = await fetch(config.apiBase + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch (_) {
    return { ok: false, status: 0, data: null, error: { code: 'network_error', detail: 'Network error.' }, retryAfter: 0 };
  }
  let data = null;
  try { data = await res.json(); } catch (_) { /* empty or non-JSON body */ }
  const error = res.ok ? null
    : (data && data.error) || { code: 'http_' + res.status, detail: res.statusText || 'Request failed.' };
  return { ok: res.ok, status: res.status, data, error, retryAfter: parseRetryAfter(res.headers.get('Retry-After')) };
}

// Guard so a bad id can never reach a URL (e.g. /sessions/undefined/).
export const rejectBadSession = () => Promise.resolve({
  ok: false, status: 400, data: null, error: { code: 'invalid_session_id', detail: 'Invalid session.' }, retryAfter: 0,
});

export const api = {
  createSession: () => apiRequest('POST', '/sessions/', { body: embed ? embed.sessionBody() : {} }),
  getSession: (s) => (isValidSession(s)
    ? apiRequest('GET', `/sessions/${s.id}/`, { token: s.token })
    : rejectBadSession()),
  rate: (s, csat, comment) => (isValidSession(s)
    ? apiRequest('POST', `/sessions/${s.id}/rate/`, { body: { csat, comment: comment || '' }, token: s.token })
    : rejectBadSession()),
  setEmail: (s, email) => (isValidSession(s)
    ? apiRequest('POST', `/sessions/${s.id}/email/`, { body: { email }, token: s.token })
    : rejectBadSession()),
  transcript: (s, email) => (isValidSession(s)
    ? apiRequest('POST', `/sessions/${s.id}/transcript/`, { body: { email: email || '' }, token: s.token })
    : rejectBadSession()),
  // The emailed link's secret, exchanged for the session and a fresh token.
  resume: (link) => apiRequest('POST', '/resume/', { body: { link } }),
};

// REST calls the console makes with the agent's login cookie (labels, priority, snooze, macros, canned responses); CSRF from the page's own form.

function csrfToken() {
  const input = document.querySelector('input[name="csrfmiddlewaretoken"]');
  return input ? input.value : '';
}

// Throws an Error whose message is the server's `detail` (the API's one error shape).
async function request(method, path, body) {
  const headers = { Accept: 'application/json' };
  const init = { method, credentials: 'same-origin', headers };
  if (method !== 'GET') headers['X-CSRFToken'] = csrfToken();
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  const data = res.status === 204 ? null : await res.json().catch(() => null);
  if (!res.ok) {
    const detail = data && data.error && data.error.detail;
    const error = new Error(typeof detail === 'string' ? detail : `HTTP ${res.status}`);
    error.code = data && data.error ? data.error.code : '';
    throw error;
  }
  return data;
}

export const apiGet = (path) => request('GET', path);
export const apiSend = (method, path, body) => request(method, path, body);
export const sessionPath = (id, action) => `/api/v1/sessions/${encodeURIComponent(id)}/${action}/`;

// Every page of a small list (labels, macros, canned responses: a few hundred at most).
export async function apiList(path) {
  const out = [];
  let next = `${path}?limit=100`;
  for (let page = 0; next && page < 10; page++) {
    const data = await apiGet(next);
    out.push(...(data.results || []));
    next = data.next ? new URL(data.next, window.location.origin).pathname + new URL(data.next, window.location.origin).search : null;
  }
  return out;
}

// The widget frame's side of the loader handshake: learns the host page's origin and the visitor's identity, runs the pre-chat form, and relays unread/close to the host page.
const root = document.getElementById('chat-app');
const siteKey = root.dataset.site;
const sessionKey = root.dataset.storageKey;
const identityKey = `supportdesk.identity.${siteKey}`;
const framed = window.parent !== window;

const store = {
  get(key) { try { return window.localStorage.getItem(key); } catch (_) { return null; } },
  set(key, value) { try { window.localStorage.setItem(key, value); } catch (_) { /* this page only */ } },
  remove(key) { try { window.localStorage.removeItem(key); } catch (_) { /* nothing stored */ } },
};

const context = { pageOrigin: '', pageUrl: '', identity: {}, prechat: {} };
let hostOrigin = null; // the host page's origin, as the browser attests it on the init message
let resolveReady;
const ready = new Promise((resolve) => { resolveReady = resolve; });

function post(type, detail = {}) {
  // Before init we do not know the host's origin; "hello" carries nothing secret.
  if (framed) window.parent.postMessage({ source: 'supportdesk', type, ...detail }, hostOrigin || '*');
}

function clean(value, max) {
  return typeof value === 'string' ? value.trim().slice(0, max) : '';
}

function start(init, origin) {
  hostOrigin = origin;
  context.pageOrigin = origin;
  context.pageUrl = clean(init.pageUrl, 2000);
  const who = init.identity || {};
  context.identity = {
    user_id: clean(who.user_id, 255),
    user_hash: clean(who.user_hash, 128),
    name: clean(who.name, 200),
    email: clean(who.email, 254),
  };
  // Another signed-in user (or a sign-out) on this browser: never resume their conversation.
  if ((store.get(identityKey) || '') !== context.identity.user_id) store.remove(sessionKey);
  store.set(identityKey, context.identity.user_id);
  if (root.dataset.prechat === '1' && !context.identity.user_id && !store.get(sessionKey)) {
    showPrechat();
  } else {
    resolveReady();
  }
}

function showPrechat() {
  const form = document.getElementById('prechat');
  const error = document.getElementById('prechat-error');
  root.classList.add('prechat-open');
  form.hidden = false;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const name = form.elements.name.value.trim();
    const email = form.elements.email.value.trim();
    if (!name || !form.elements.email.checkValidity() || !email) {
      error.textContent = 'Please enter your name and a valid email address.';
      error.hidden = false;
      (name ? form.elements.email : form.elements.name).focus();
      return;
    }
    context.prechat = { name, email };
    form.hidden = true;
    root.classList.remove('prechat-open');
    resolveReady();
    document.getElementById('message-input').focus();
  });
}

function focusChat() {
  const form = document.getElementById('prechat');
  const target = form.hidden ? document.getElementById('message-input') : form.elements.name;
  if (target) target.focus();
}

window.addEventListener('message', (event) => {
  // Only the window that framed us speaks to us; its origin is whatever the browser says.
  if (!framed || event.source !== window.parent) return;
  const data = event.data;
  if (!data || data.source !== 'supportdesk-loader') return;
  if (data.type === 'init' && hostOrigin === null) start(data, event.origin);
  else if (event.origin !== hostOrigin) return;
  else if (data.type === 'open') focusChat();
  else if (data.type === 'identify') {
    // A sign-in after the page loaded: start over so the new identity is verified.
    store.set(identityKey, '\u0000changed');
    window.location.reload();
  }
});

document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape') post('close');
});

window.supportdeskEmbed = {
  ready,
  // The body of POST /api/v1/sessions/: the server checks site, origin and identity.
  sessionBody() {
    const body = { site_key: siteKey, page_origin: context.pageOrigin, page_url: context.pageUrl };
    const who = context.identity;
    if (who.user_id) Object.assign(body, { user_id: who.user_id, user_hash: who.user_hash });
    const name = who.name || context.prechat.name;
    const email = who.email || context.prechat.email;
    if (name) body.customer_name = name;
    if (email) body.customer_email = email;
    return body;
  },
  notify(type, detail) { post(type, detail || {}); },
};

if (framed) {
  post('hello');
} else {
  // Opened directly, not through a site's loader: there is no host page to vouch for.
  const notice = document.getElementById('status-notice');
  notice.textContent = 'This chat runs inside a website. Open it from the website’s chat button.';
  notice.hidden = false;
}

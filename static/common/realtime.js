// Shared by the customer chat, the widget frame and the agent console: protocol limits, the socket lifecycle (open, reconnect, heartbeat, frame budget, dispatch) and text-only message helpers.
// ---------------------------------------------------------------------------
// Protocol constants (both sockets talk to the same server limits)
// ---------------------------------------------------------------------------

export const ROLES = new Set(['customer', 'assistant', 'agent', 'system']);

export const PING_MS = 25000;
export const IDLE_TIMEOUT_MS = 60000;
export const WATCHDOG_TICK_MS = 5000;
export const BACKOFF_MIN_MS = 500;
export const BACKOFF_MAX_MS = 10000;
export const TYPING_THROTTLE_MS = 2000;
export const TYPING_IDLE_MS = 3000;
// The server allows 20 frames / 10 s per socket (ping included) and closes after repeated
// overruns: stay under it and keep headroom so typing/read chatter never delays a reply.
export const FRAME_BUDGET = 18;
export const LOW_PRIORITY_BUDGET = 10;
export const LOW_PRIORITY_TYPES = new Set(['typing', 'read']);
export const FRAME_WINDOW_MS = 10000;

// ---------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------

// Builds elements from text only: server data never goes through innerHTML.
export function h(tag, props, ...children) {
  const node = document.createElement(tag);
  if (props) {
    for (const [key, value] of Object.entries(props)) {
      if (value === null || value === undefined || value === false) continue;
      if (key === 'class') node.className = value;
      else if (key === 'text') node.textContent = value;
      else if (key === 'dataset') Object.assign(node.dataset, value);
      else node.setAttribute(key, value === true ? '' : String(value));
    }
  }
  for (const child of children) {
    if (child !== null && child !== undefined && child !== false) node.append(child);
  }
  return node;
}

export const pad2 = (n) => String(n).padStart(2, '0');

// Python's len() counts code points; String.length counts UTF-16 units (emoji = 2).
export const charCount = (s) => Array.from(s).length;

// Exponential backoff with "equal jitter" so many clients don't reconnect in lockstep.
export function backoff(attempt, min, max) {
  const base = Math.min(max, min * Math.pow(2, attempt));
  return Math.round(base / 2 + Math.random() * (base / 2));
}

export function toSeq(value) {
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? n : null;
}

export function parseDate(iso) {
  if (!iso) return null;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

// "HH:MM" of iso (now when empty); '' when iso is not a date.
export function formatTime(iso) {
  const d = iso ? parseDate(iso) : new Date();
  return d ? pad2(d.getHours()) + ':' + pad2(d.getMinutes()) : '';
}

// crypto.randomUUID only exists in secure contexts, so plain-http deployments need a fallback.
export function newClientId() {
  try {
    if (window.crypto && typeof window.crypto.randomUUID === 'function') return window.crypto.randomUUID();
  } catch (_) { /* fall through */ }
  const bytes = new Uint8Array(16);
  if (window.crypto && window.crypto.getRandomValues) window.crypto.getRandomValues(bytes);
  else for (let i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// ---------------------------------------------------------------------------
// Socket plumbing: each page keeps its own state object
// (ws, attempts, reconnectTimer, pingTimer, watchdogTimer, lastFrameAt, sentAt)
// ---------------------------------------------------------------------------

// Always the page's own host: the socket must reach the origin the session cookie and CSRF belong to.
export function socketUrl(path) {
  const proto = location.protocol === 'https:' ? 'wss' : 'ws';
  return `${proto}://${location.host}${path}`;
}

/**
 * Open a socket for state: a new generation (late events of an older socket are ignored), a fresh
 * frame budget (the server's limiter is per socket), and events routed to onOpen/onFrame/onClose(code).
 * Return the socket, or null when the browser refused to create one.
 */
export function openSocket(state, url, { onOpen, onFrame, onClose }) {
  const gen = ++state.wsGen;
  state.sentAt = [];
  let ws;
  try {
    ws = new WebSocket(url);
  } catch (_) {
    return null;
  }
  state.ws = ws;
  state.lastFrameAt = Date.now();
  ws.onopen = () => {
    if (gen !== state.wsGen) return;
    state.lastFrameAt = Date.now();
    onOpen();
  };
  ws.onmessage = (event) => {
    if (gen !== state.wsGen) return;
    state.lastFrameAt = Date.now();
    let frame;
    try { frame = JSON.parse(event.data); } catch (_) { return; }
    onFrame(frame);
  };
  ws.onclose = (event) => {
    if (gen !== state.wsGen) return;
    onClose(event.code);
  };
  ws.onerror = () => { /* a close event always follows; handled there */ };
  return ws;
}

/** Call the handler for frame.type, if there is one (own properties only: "constructor" is no type). */
export function dispatchFrame(handlers, frame) {
  if (!frame || typeof frame.type !== 'string') return;
  if (Object.prototype.hasOwnProperty.call(handlers, frame.type)) handlers[frame.type](frame);
}

// Typing and read receipts get a smaller share of the budget than messages and actions.
export const frameLimit = (type) => (LOW_PRIORITY_TYPES.has(type) ? LOW_PRIORITY_BUDGET : FRAME_BUDGET);

// Detaches the handlers first so a late close event can't trigger a reconnect.
export function closeSocket(ws) {
  if (!ws) return;
  ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
  try {
    if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(1000);
  } catch (_) { /* already closing */ }
}

// onScheduled runs after the attempt count is bumped and before the timer is set (connection pill).
export function scheduleReconnect(state, connect, onScheduled) {
  if (state.reconnectTimer) return;
  const delay = backoff(state.attempts++, BACKOFF_MIN_MS, BACKOFF_MAX_MS);
  onScheduled();
  state.reconnectTimer = setTimeout(() => {
    state.reconnectTimer = null;
    connect();
  }, delay);
}

export function reconnectNow(state, connect) {
  if (state.ws && state.ws.readyState <= WebSocket.OPEN) return;
  state.attempts = 0;
  connect();
}

export function stopHeartbeat(state) {
  clearInterval(state.pingTimer);
  clearInterval(state.watchdogTimer);
  state.pingTimer = state.watchdogTimer = null;
}

// A silently dead connection (sleep, network switch) may never fire "close": checkIdle detects it.
export function startHeartbeat(state, ping, checkIdle) {
  stopHeartbeat(state);
  state.pingTimer = setInterval(ping, PING_MS);
  state.watchdogTimer = setInterval(checkIdle, WATCHDOG_TICK_MS);
}

export const isIdle = (state) => !!state.ws && Date.now() - state.lastFrameAt > IDLE_TIMEOUT_MS;

// Client-side rate budget over the timestamps of recent frames (sentAt is mutated).
export function takeFrameBudget(sentAt, limit) {
  const now = Date.now();
  while (sentAt.length && now - sentAt[0] >= FRAME_WINDOW_MS) sentAt.shift();
  if (sentAt.length >= limit) return false;
  sentAt.push(now);
  return true;
}

// Time until the budget frees a slot (plus slack ms), so a throttled flush can resume by itself.
export function budgetWaitMs(sentAt, slack) {
  return sentAt.length ? Math.max(50, FRAME_WINDOW_MS - (Date.now() - sentAt[0]) + slack) : 50;
}

// ---------------------------------------------------------------------------
// Transcript rendering (text only)
// ---------------------------------------------------------------------------

export function timeEl(iso, withTitle) {
  const d = iso ? parseDate(iso) : new Date();
  return h('time', {
    class: 'msg-time',
    datetime: d ? d.toISOString() : null,
    title: withTitle && d ? d.toLocaleString() : null,
    text: formatTime(iso),
  });
}

// Only these URL schemes become links anywhere on our pages (as in supportdesk/richtext.py).
const LINK_SCHEMES = new Set(['http:', 'https:', 'mailto:']);

// Returns the absolute URL if it is a link we allow (relative paths resolve against this page), else null.
export function safeHref(value) {
  if (typeof value !== 'string' || !value) return null;
  try {
    const url = new URL(value, window.location.href);
    return LINK_SCHEMES.has(url.protocol) ? url.href : null;
  } catch (_) {
    return null;
  }
}

// "Sources:" row of an assistant message, or null; each source with a url links to its
// help-center article in a new tab; withScores adds a relevance tooltip.
export function sourcesEl(sources, withScores) {
  const list = Array.isArray(sources) ? sources : [];
  if (!list.length) return null;
  const items = h('span', { class: 'msg-source-list', role: 'list' });
  for (const src of list) {
    const title = src && src.title ? String(src.title) : `Article ${src && src.article_id != null ? src.article_id : ''}`.trim();
    const score = withScores && src && typeof src.score === 'number' ? `Relevance ${src.score.toFixed(2)}` : null;
    const href = src ? safeHref(src.url) : null;
    const label = href
      ? h('a', { class: 'msg-source-link', href, target: '_blank', rel: 'noopener', text: title, 'aria-label': `${title} (opens in a new tab)` })
      : title;
    items.append(h('span', { class: 'msg-source', role: 'listitem', title: score }, label));
  }
  return h('div', { class: 'msg-sources' }, h('span', { class: 'msg-sources-label', text: 'Sources:' }), items);
}

// The model stores 0..1; tolerate a server that already sends a percentage. null when absent.
export function confidencePct(confidence) {
  if (typeof confidence !== 'number' || !Number.isFinite(confidence)) return null;
  return Math.round(confidence <= 1 ? confidence * 100 : confidence);
}

export function firstUnsequenced(list) {
  let ref = null;
  for (let c = list.lastElementChild; c && !c.dataset.seq; c = c.previousElementSibling) ref = c;
  return ref;
}

// Keeps stored messages in seq order; unsequenced items (sending, streaming) stay at the bottom.
export function insertBySeq(list, li, seq) {
  let ref = null;
  if (seq !== null) {
    for (let c = list.lastElementChild; c; c = c.previousElementSibling) {
      const cs = c.dataset.seq;
      if (!cs || Number(cs) > seq) { ref = c; continue; }
      break;
    }
  } else {
    ref = firstUnsequenced(list);
  }
  list.insertBefore(li, ref);
}

// "Seen" under the newest message matching selector whose seq the peer has read.
export function markSeen(list, selector, readSeq) {
  for (const old of list.querySelectorAll('.msg-seen')) old.remove();
  if (!readSeq) return;
  const items = list.querySelectorAll(selector);
  for (let i = items.length - 1; i >= 0; i--) {
    if (Number(items[i].dataset.seq) <= readSeq) {
      const meta = items[i].querySelector('.msg-meta');
      if (meta) meta.append(h('span', { class: 'msg-seen', text: 'Seen' }));
      break;
    }
  }
}

export function isNearBottom(scroller) {
  return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
}

// One scroll per frame, so a replay of hundreds of messages doesn't force hundreds of layouts.
export function queueScrollToBottom(state, scroller, jump) {
  if (state.scrollQueued) return;
  state.scrollQueued = true;
  requestAnimationFrame(() => {
    state.scrollQueued = false;
    scroller.scrollTop = scroller.scrollHeight;
    jump.hidden = true;
  });
}

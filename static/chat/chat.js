// Customer support chat client: keeps a session, talks to the server over a WebSocket, renders the transcript and runs the composer.
(function () {
  'use strict';

  const root = document.getElementById('chat-app');
  if (!root) return;

  // ---------------------------------------------------------------------------
  // Constants & config
  // ---------------------------------------------------------------------------

  // The widget frame keeps one session per site (data-storage-key); the chat page has one.
  const STORAGE_KEY = root.dataset.storageKey || 'supportdesk.session';
  // Set by static/widget/frame.js when this page runs inside the embeddable widget: it says
  // when to start (after the loader's handshake / pre-chat form), what to send when opening
  // a session, and hears about new messages (unread badge) and refusals.
  const embed = window.supportdeskEmbed || null;
  const notifyEmbed = (type, detail) => { if (embed) embed.notify(type, detail); };
  const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  // Close codes meaning "this session/token is no good": retrying the same session would loop forever.
  const SESSION_REJECT_CODES = new Set([4001, 4003, 4004]);
  const REST_REJECT_STATUSES = new Set([400, 401, 403, 404]);

  // Shared protocol constants and helpers: static/common/realtime.js (loaded first).
  const C = window.supportdeskCommon;
  const {
    ROLES, BACKOFF_MIN_MS, BACKOFF_MAX_MS, TYPING_THROTTLE_MS, TYPING_IDLE_MS,
    FRAME_BUDGET, LOW_PRIORITY_BUDGET, LOW_PRIORITY_TYPES,
    h, backoff, toSeq, charCount, newClientId,
  } = C;

  const PEER_TYPING_TTL_MS = 10000; // hide "Agent is typing…" if the "stopped" frame got lost
  const STREAM_ORPHAN_MS = 4000;    // drop a provisional reply that never got its final message
  const COUNTER_THRESHOLD = 0.8;    // show the character counter from 80 % of the limit

  const TEXT = {
    escalated: "We're connecting you with a person. An agent will reply here shortly.",
    backToAi: "You're chatting with our assistant again.",
    closed: 'This conversation has been closed.',
    joined: (name) => `${name} joined the conversation`,
    conn: {
      connecting: 'Connecting…',
      online: 'Online',
      reconnecting: 'Reconnecting…',
      offline: 'Offline',
    },
  };

  const ERROR_FALLBACKS = {
    invalid_json: 'Your message could not be read. Please try again.',
    unknown_type: 'Something went wrong. Please try again.',
    invalid_field: 'Your message could not be sent. Please try again.',
    too_long: 'That message is too long.',
    rate_limited: "You're sending messages too quickly. Please wait a moment.",
    session_closed: TEXT.closed,
  };

  function readCookie(name) {
    const match = document.cookie.match(new RegExp('(?:^|;\\s*)' + name + '=([^;]*)'));
    return match ? decodeURIComponent(match[1]) : '';
  }

  const config = {
    maxChars: parseInt(root.dataset.maxChars, 10) || 4000,
    // The cookie is a fallback for pages served from a cache without a fresh token.
    csrf: root.dataset.csrf || readCookie('csrftoken'),
    apiBase: (root.dataset.apiBase || '/api/v1').replace(/\/+$/, ''),
  };

  // ---------------------------------------------------------------------------
  // State (exposed on window.supportdesk for debugging)
  // ---------------------------------------------------------------------------

  const state = {
    session: null,          // {id, token} currently in use
    info: null,             // last session object the server sent
    lastSeq: 0,             // highest seq received as a message; memory only so a reload replays everything
    liveAfterSeq: 0,        // session.last_seq at auth time: higher seqs are live, not replay
    conn: 'connecting',
    everOnline: false,
    ws: null,
    wsGen: 0,               // bumps per socket so late events from an old socket are ignored
    authed: false,
    attempts: 0,
    resets: 0,
    reconnectTimer: null,
    pingTimer: null,
    watchdogTimer: null,
    lastFrameAt: 0,
    sentAt: [],             // timestamps of recent non-auth frames (client-side rate budget)
    flushTimer: null,
    outbox: new Map(),      // client_msg_id -> {cid, content, status: queued|sending|failed, el}
    seqs: new Set(),
    ids: new Set(),
    streams: new Map(),     // reply_to -> provisional <li>
    readSeqSent: 0,
    peerReadSeq: 0,
    readTimer: null,
    typingSent: false,
    typingSentAt: 0,
    typingIdleTimer: null,
    peerTypingTimer: null,
    closed: false,
    stickToBottom: true,
    scrollQueued: false,
  };
  window.supportdesk = { state };

  // ---------------------------------------------------------------------------
  // DOM references & helpers
  // ---------------------------------------------------------------------------

  const byId = (id) => document.getElementById(id);
  const el = {
    messages: byId('messages'),
    transcript: byId('transcript'),
    jump: byId('jump-latest'),
    composer: byId('composer'),
    input: byId('message-input'),
    send: byId('send-button'),
    counter: byId('char-counter'),
    agentStatus: byId('agent-status'),
    typing: byId('typing-indicator'),
    statusNotice: byId('status-notice'),
    notice: byId('notice'),
    noticeText: byId('notice-text'),
    noticeDismiss: byId('notice-dismiss'),
    pill: byId('connection-state'),
    rating: byId('rating'),
    ratingThanks: byId('rating-thanks'),
    newConv: byId('new-conversation'),
  };

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  function isValidSession(s) {
    return !!s && typeof s.id === 'string' && UUID_RE.test(s.id) &&
      typeof s.token === 'string' && s.token.length > 0;
  }

  // ---------------------------------------------------------------------------
  // Storage (localStorage can throw in private modes / when disabled)
  // ---------------------------------------------------------------------------

  const storage = {
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

  function parseRetryAfter(header) {
    const secs = parseInt(header || '', 10);
    return Number.isFinite(secs) && secs > 0 ? Math.min(secs, 60) * 1000 : 0;
  }

  async function apiRequest(method, path, { body, token } = {}) {
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
  const rejectBadSession = () => Promise.resolve({
    ok: false, status: 400, data: null, error: { code: 'invalid_session_id', detail: 'Invalid session.' }, retryAfter: 0,
  });

  const api = {
    createSession: () => apiRequest('POST', '/sessions/', { body: embed ? embed.sessionBody() : {} }),
    getSession: (s) => (isValidSession(s)
      ? apiRequest('GET', `/sessions/${s.id}/`, { token: s.token })
      : rejectBadSession()),
    rate: (s, csat) => (isValidSession(s)
      ? apiRequest('POST', `/sessions/${s.id}/rate/`, { body: { csat }, token: s.token })
      : rejectBadSession()),
  };

  // ---------------------------------------------------------------------------
  // Session lifecycle
  // ---------------------------------------------------------------------------

  async function boot() {
    setConn('connecting');
    if (embed) await embed.ready;
    const stored = storage.load();
    if (stored) {
      const res = await api.getSession(stored);
      if (res.ok) {
        state.session = stored;
        if (res.data) applySession(res.data);
        connect();
        return;
      }
      if (REST_REJECT_STATUSES.has(res.status)) {
        storage.clear();
      } else {
        // Server or network trouble, not a verdict on the session: keep it and let the socket retry.
        state.session = stored;
        connect();
        return;
      }
    }
    await startNewSession();
  }

  let creating = null;
  // Coalesces concurrent callers (e.g. a reject close and a button click) into one POST.
  function startNewSession() {
    if (!creating) creating = createSessionWithRetry().finally(() => { creating = null; });
    return creating;
  }

  async function createSessionWithRetry() {
    setConn(state.everOnline ? 'reconnecting' : 'connecting');
    for (let attempt = 0; ; attempt++) {
      const res = await api.createSession();
      if (res.ok && isValidSession(res.data)) {
        clearNotice('create');
        const s = { id: res.data.id, token: res.data.token };
        storage.save(s);
        state.session = s;
        const { token, ...info } = res.data; // keep the secret out of the debug-visible session info
        applySession(info);
        connect();
        return;
      }
      if (res.status === 400 || res.status === 403) {
        // A verdict on the request (unknown site, origin not allowed, forged identity):
        // retrying the same request cannot succeed, so say why and stop.
        showNotice((res.error && res.error.detail) || 'This chat could not be started.', { key: 'create' });
        setConn('offline');
        setComposerEnabled(false);
        notifyEmbed('refused', res.error);
        return;
      }
      let delay;
      if (res.status === 429) {
        delay = res.retryAfter || backoff(attempt, 2000, 30000);
        showNotice(`We're a little busy right now. Trying again in ${Math.ceil(delay / 1000)} s…`, { key: 'create', tone: 'info' });
      } else {
        delay = backoff(attempt, 1000, 15000);
        showNotice(res.status === 0
          ? "Can't reach support right now. Retrying…"
          : 'Something went wrong starting the chat. Retrying…', { key: 'create', tone: 'info' });
        setConn(navigator.onLine === false ? 'offline' : 'reconnecting');
      }
      await sleep(delay);
    }
  }

  // Forget the current session and its transcript; optionally keep unsent messages for the next one.
  function abandonSession({ keepOutbox }) {
    teardownSocket();
    clearTimeout(state.reconnectTimer);
    state.reconnectTimer = null;
    storage.clear();
    const carry = keepOutbox ? Array.from(state.outbox.values()) : [];
    Object.assign(state, {
      session: null, info: null, lastSeq: 0, liveAfterSeq: 0,
      readSeqSent: 0, peerReadSeq: 0, closed: false,
    });
    state.seqs.clear();
    state.ids.clear();
    state.streams.clear();
    state.outbox.clear();
    el.messages.textContent = '';
    for (const p of carry) queueMessage(p.content, p.cid);
    setStatusNotice('');
    clearNotice();
    setAgentThinking(false);
    setPeerTyping(false);
    hideClosedUi();
    setComposerEnabled(true);
  }

  // Applies a (possibly partial) session object and announces meaningful transitions.
  function applySession(info) {
    if (!info || typeof info !== 'object') return;
    const prev = state.info;
    const cur = Object.assign({}, prev || {}, info);
    state.info = cur;

    if (cur.status === 'closed') {
      if (!state.closed) showClosed(cur);
      return;
    }
    if (state.closed) reopen();

    const human = isHumanHandled(cur);
    const prevHuman = prev ? isHumanHandled(prev) : false;
    if (human && cur.assignee_name && (!prevHuman || prev.assignee_name !== cur.assignee_name)) {
      setStatusNotice(TEXT.joined(cur.assignee_name));
    } else if (cur.status === 'escalated' && !human && (!prev || prev.status !== 'escalated' || prevHuman)) {
      setStatusNotice(TEXT.escalated);
    } else if (!human && cur.status !== 'escalated' && prev &&
               (prev.status === 'escalated' || prev.status === 'closed' || prevHuman)) {
      setStatusNotice(TEXT.backToAi);
    }
  }

  function isHumanHandled(s) {
    return String(s.handled_by || '').toLowerCase() === 'human';
  }

  function showClosed(info) {
    state.closed = true;
    setStatusNotice(TEXT.closed);
    setAgentThinking(false);
    setPeerTyping(false);
    stopTyping();
    setComposerEnabled(false);
    // Messages still waiting can never be delivered to a closed session.
    for (const p of state.outbox.values()) markFailed(p, 'Not sent', false);
    el.rating.hidden = false;
    const rated = Number(info.csat) >= 1;
    showRatingResult(rated ? Number(info.csat) : 0);
    el.newConv.hidden = false;
  }

  function reopen() {
    state.closed = false;
    hideClosedUi();
    setComposerEnabled(true);
  }

  function hideClosedUi() {
    el.rating.hidden = true;
    el.newConv.hidden = true;
    el.newConv.disabled = false;
    showRatingResult(0);
  }

  // ---------------------------------------------------------------------------
  // WebSocket
  // ---------------------------------------------------------------------------

  // Always the page's own host: the socket must hit the same origin the session cookie/CSRF belong to.
  function socketUrl(id) {
    const proto = location.protocol === 'https:' ? 'wss' : 'ws';
    return `${proto}://${location.host}/ws/sessions/${id}/`;
  }

  function connect() {
    const s = state.session;
    if (!isValidSession(s)) { // never open /ws/sessions/undefined/
      startNewSession();
      return;
    }
    clearTimeout(state.reconnectTimer);
    state.reconnectTimer = null;
    teardownSocket();
    setConn(state.everOnline ? 'reconnecting' : 'connecting');

    const gen = ++state.wsGen;
    state.sentAt = []; // the server's rate limiter is per socket
    let ws;
    try {
      ws = new WebSocket(socketUrl(s.id));
    } catch (_) {
      scheduleReconnect();
      return;
    }
    state.ws = ws;
    state.lastFrameAt = Date.now();
    startHeartbeat();

    ws.onopen = () => {
      if (gen !== state.wsGen) return;
      state.lastFrameAt = Date.now();
      // Resume from what this page already shows; the server replays everything newer.
      sendFrame({ type: 'auth', token: s.token, last_seq: state.lastSeq }, true);
    };
    ws.onmessage = (event) => {
      if (gen !== state.wsGen) return;
      state.lastFrameAt = Date.now();
      let frame;
      try { frame = JSON.parse(event.data); } catch (_) { return; }
      handleFrame(frame);
    };
    ws.onclose = (event) => {
      if (gen !== state.wsGen) return;
      onSocketClosed(event.code);
    };
    ws.onerror = () => { /* a close event always follows; handled there */ };
  }

  // Detaches handlers first so closing an old socket can't trigger another reconnect.
  function teardownSocket() {
    stopHeartbeat();
    const ws = state.ws;
    state.ws = null;
    state.authed = false;
    state.wsGen++;
    C.closeSocket(ws);
  }

  function onSocketClosed(code) {
    teardownSocket();
    setAgentThinking(false);
    setPeerTyping(false);
    // Partial replies are re-delivered in full by the replay, so a half-bubble would only duplicate.
    dropStreams();
    // In-flight messages are resent with the same client_msg_id on reconnect; the server dedupes.
    for (const p of state.outbox.values()) {
      if (p.status === 'sending') setPendingStatus(p, 'queued');
    }

    if (state.closed) { // a closed conversation has nothing more to receive
      setConn('offline');
      return;
    }
    if (SESSION_REJECT_CODES.has(code)) {
      // Back off on repeated rejects so a broken server can't make us spin creating sessions.
      const delay = state.resets > 0 ? backoff(state.resets, BACKOFF_MIN_MS, BACKOFF_MAX_MS) : 0;
      state.resets++;
      abandonSession({ keepOutbox: true });
      setConn(state.everOnline ? 'reconnecting' : 'connecting');
      setTimeout(startNewSession, delay);
      return;
    }
    scheduleReconnect();
  }

  function scheduleReconnect() {
    C.scheduleReconnect(state, connect, () => setConn(navigator.onLine === false ? 'offline' : 'reconnecting'));
  }

  function reconnectNow() {
    if (state.closed || !state.session) return;
    C.reconnectNow(state, connect);
  }

  function startHeartbeat() {
    C.startHeartbeat(state, () => sendFrame({ type: 'ping' }), checkIdle);
  }

  function stopHeartbeat() {
    C.stopHeartbeat(state);
  }

  function checkIdle() {
    if (C.isIdle(state)) {
      // Don't wait for a close handshake that may never come.
      onSocketClosed(4000);
    }
  }

  // Only auth may go out before "ready"; everything else would be refused by the server.
  function sendFrame(frame, beforeAuth) {
    const ws = state.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN || (!state.authed && !beforeAuth)) return false;
    if (!takeFrameBudget(beforeAuth ? Infinity : LOW_PRIORITY_TYPES.has(frame.type) ? LOW_PRIORITY_BUDGET : FRAME_BUDGET)) {
      return false;
    }
    try {
      ws.send(JSON.stringify(frame));
      return true;
    } catch (_) {
      return false;
    }
  }

  function takeFrameBudget(limit) {
    return C.takeFrameBudget(state.sentAt, limit);
  }

  // Time until the budget frees a slot, so a throttled outbox flush can resume by itself.
  function budgetWaitMs() {
    return C.budgetWaitMs(state.sentAt, 0);
  }

  // ---------------------------------------------------------------------------
  // Incoming frames
  // ---------------------------------------------------------------------------

  const frameHandlers = {
    ready(f) {
      state.authed = true;
      state.attempts = 0;
      state.resets = 0;
      state.everOnline = true;
      // f.last_seq is only where the replay starts; the session's own last_seq marks the end of history.
      state.liveAfterSeq = (f.session && toSeq(f.session.last_seq)) || 0;
      setConn('online');
      if (f.session) applySession(f.session);
      flushOutbox();
      scheduleRead();
    },

    message(f) {
      if (f.message && typeof f.message === 'object') receiveMessage(f.message);
    },

    ack(f) {
      if (f.client_msg_id) confirmPending(String(f.client_msg_id), toSeq(f.seq), f.id, null);
    },

    stream(f) {
      const key = f.reply_to === null || f.reply_to === undefined ? '' : String(f.reply_to);
      let li = state.streams.get(key);
      if (!li) {
        li = buildProvisional();
        state.streams.set(key, li);
        el.messages.appendChild(li);
      }
      if (li.orphanTimer) { clearTimeout(li.orphanTimer); li.orphanTimer = null; }
      if (f.delta) li.querySelector('.msg-content').append(String(f.delta));
      afterRender();
    },

    agent_status(f) {
      const thinking = f.state === 'thinking';
      setAgentThinking(thinking);
      // If generation ended without a final message (error), don't leave a half reply behind forever.
      if (!thinking) {
        for (const [key, li] of state.streams) {
          if (!li.orphanTimer) {
            li.orphanTimer = setTimeout(() => {
              if (state.streams.get(key) === li) { state.streams.delete(key); li.remove(); }
            }, STREAM_ORPHAN_MS);
          }
        }
      }
    },

    typing(f) {
      if (f.role === 'agent') setPeerTyping(!!f.is_typing);
    },

    read(f) {
      if (f.role !== 'agent' && f.role !== 'assistant') return;
      const seq = toSeq(f.seq);
      if (seq && seq > state.peerReadSeq) {
        state.peerReadSeq = seq;
        updateSeen();
      }
    },

    session(f) {
      applySession(f.session);
    },

    pong() { /* any frame already refreshed the idle watchdog */ },
    // A human agent opened or left this conversation in the console.
    presence(frame) {
      if (frame.role !== 'agent' || typeof frame.name !== 'string') return;
      setStatusNotice(frame.present ? `${frame.name} is here with you.` : '');
    },

    error(f) {
      const code = String(f.code || '');
      showNotice(f.detail || ERROR_FALLBACKS[code] || 'Something went wrong.', { key: 'frame' });
      attributeError(f, code);
      if (code === 'session_closed' && !state.closed) applySession({ status: 'closed' });
    },
  };

  function handleFrame(frame) {
    if (!frame || typeof frame.type !== 'string') return;
    // Own-property check: a type such as "constructor" must not reach Object.prototype.
    if (Object.prototype.hasOwnProperty.call(frameHandlers, frame.type)) frameHandlers[frame.type](frame);
  }

  // Errors don't always say which message they refer to; assume the most recent one in flight.
  function attributeError(f, code) {
    let p = f.client_msg_id ? state.outbox.get(String(f.client_msg_id)) : null;
    if (!p && ['too_long', 'rate_limited', 'invalid_field', 'session_closed'].includes(code)) {
      for (const candidate of state.outbox.values()) if (candidate.status === 'sending') p = candidate;
    }
    if (!p) return;
    const canRetry = code !== 'too_long' && code !== 'session_closed';
    markFailed(p, code === 'too_long' ? 'Not sent: too long' : 'Not sent', canRetry);
  }

  // ---------------------------------------------------------------------------
  // Rendering
  // ---------------------------------------------------------------------------

  function receiveMessage(m) {
    const seq = toSeq(m.seq);
    const role = ROLES.has(m.role) ? m.role : 'system';
    // The server sends message frames strictly in seq order, so this is a safe resume point.
    // (Acks are not: one may overtake an earlier reply still queued on the server.)
    if (seq !== null && seq > state.lastSeq) state.lastSeq = seq;

    // Our own optimistic bubble: upgrade it in place instead of adding a second copy.
    if (m.client_msg_id && state.outbox.has(String(m.client_msg_id))) {
      confirmPending(String(m.client_msg_id), seq, m.id, m);
      return;
    }
    if ((seq !== null && state.seqs.has(seq)) || (m.id !== null && m.id !== undefined && state.ids.has(String(m.id)))) {
      return; // already rendered (replay overlap, or broadcast after ack)
    }

    if (role === 'assistant') {
      const provisional = takeStream(m.reply_to);
      if (provisional) provisional.remove();
      setAgentThinking(false);
    }
    if (role === 'agent') setPeerTyping(false);

    const li = buildMessage(m, role);
    insertBySeq(li, seq);
    markRendered(seq, m.id);

    // Only live messages may change the banner; replayed history is described by the session state.
    if (role === 'assistant' && m.requires_escalation && !state.closed && seq !== null && seq > state.liveAfterSeq) {
      setStatusNotice(TEXT.escalated);
    }
    if (role !== 'customer' && seq !== null && seq > state.liveAfterSeq) notifyEmbed('message', { role, seq });
    afterRender();
  }

  function buildMessage(m, role) {
    const li = h('li', {
      class: `msg msg-${role}`,
      dataset: { role },
    });
    if (toSeq(m.seq) !== null) li.dataset.seq = String(toSeq(m.seq));
    if (m.id !== null && m.id !== undefined) li.dataset.id = String(m.id);

    const content = h('div', { class: 'msg-content', text: typeof m.content === 'string' ? m.content : '' });

    if (role === 'system') {
      li.append(content, h('div', { class: 'msg-meta' }, timeEl(m.created_at)));
      return li;
    }

    li.append(authorEl(role, m.author));
    li.append(h('div', { class: 'msg-bubble' }, content));

    if (role === 'assistant') {
      const sources = C.sourcesEl(m.sources, false);
      if (sources) li.append(sources);
    }

    const meta = h('div', { class: 'msg-meta' }, timeEl(m.created_at));
    // A hand-over message's (low) retrieval confidence means nothing to the customer; agents
    // still see it in the console.
    const pct = role === 'assistant' && !m.requires_escalation ? C.confidencePct(m.confidence) : null;
    if (pct !== null) {
      meta.append(h('span', { class: 'msg-confidence', text: `Confidence: ${pct}%` }));
    }
    li.append(meta);
    return li;
  }

  function authorEl(role, author) {
    if (role === 'customer') return h('span', { class: 'visually-hidden', text: 'You said:' });
    let name = 'Assistant';
    if (role === 'agent') {
      name = (author && author.name) || (state.info && state.info.assignee_name) || 'Agent';
    }
    return h('div', { class: 'msg-author', text: name });
  }

  function timeEl(iso) {
    return C.timeEl(iso, false);
  }

  function buildProvisional() {
    // aria-hidden: screen readers would otherwise re-read every delta; the final message is announced instead.
    return h('li', { class: 'msg msg-assistant msg-provisional', 'aria-hidden': 'true', dataset: { role: 'assistant' } },
      h('div', { class: 'msg-author', text: 'Assistant' }),
      h('div', { class: 'msg-bubble' }, h('div', { class: 'msg-content' })));
  }

  // Final assistant messages don't name the customer message they answer, so fall back to the oldest stream.
  function takeStream(replyTo) {
    let key = replyTo === null || replyTo === undefined ? null : String(replyTo);
    if (key === null || !state.streams.has(key)) {
      const first = state.streams.keys().next();
      if (first.done) return null;
      key = first.value;
    }
    const li = state.streams.get(key);
    state.streams.delete(key);
    if (li.orphanTimer) clearTimeout(li.orphanTimer);
    return li;
  }

  function dropStreams() {
    for (const li of state.streams.values()) {
      if (li.orphanTimer) clearTimeout(li.orphanTimer);
      li.remove();
    }
    state.streams.clear();
  }

  // Keeps stored messages in seq order; unsequenced items (sending, streaming) stay at the bottom.
  function insertBySeq(li, seq) {
    C.insertBySeq(el.messages, li, seq);
  }

  function firstUnsequenced() {
    return C.firstUnsequenced(el.messages);
  }

  function markRendered(seq, id) {
    if (seq !== null) state.seqs.add(seq);
    if (id !== null && id !== undefined) state.ids.add(String(id));
  }

  function afterRender() {
    if (state.stickToBottom) queueScrollToBottom();
    else el.jump.hidden = false;
    scheduleRead();
  }

  function updateSeen() {
    C.markSeen(el.messages, 'li.msg-customer[data-seq]', state.peerReadSeq);
  }

  // ---------------------------------------------------------------------------
  // Outgoing messages (optimistic render + outbox)
  // ---------------------------------------------------------------------------

  function queueMessage(content, cid) {
    const id = cid || newClientId();
    const li = h('li', {
      class: 'msg msg-customer is-pending',
      dataset: { role: 'customer', clientMsgId: id },
    },
    h('span', { class: 'visually-hidden', text: 'You said:' }),
    h('div', { class: 'msg-bubble' }, h('div', { class: 'msg-content', text: content })),
    h('div', { class: 'msg-meta' }, timeEl(null), h('span', { class: 'msg-status', text: 'Sending…' })));
    el.messages.appendChild(li);
    const p = { cid: id, content, status: 'queued', el: li };
    state.outbox.set(id, p);
    return p;
  }

  function flushOutbox() {
    clearTimeout(state.flushTimer);
    state.flushTimer = null;
    if (!state.authed || state.closed) return;
    for (const p of state.outbox.values()) {
      if (p.status !== 'queued') continue;
      if (!sendFrame({ type: 'message', content: p.content, client_msg_id: p.cid })) {
        // Out of frame budget (socket still up): try again when a slot frees; a closed socket retries on "ready".
        if (state.authed) state.flushTimer = setTimeout(flushOutbox, budgetWaitMs());
        return;
      }
      setPendingStatus(p, 'sending');
    }
  }

  function setPendingStatus(p, status) {
    p.status = status;
    const li = p.el;
    li.classList.toggle('is-failed', status === 'failed');
    const statusEl = li.querySelector('.msg-status');
    const retry = li.querySelector('.msg-retry');
    if (retry && status !== 'failed') retry.remove();
    if (statusEl && status !== 'failed') statusEl.textContent = 'Sending…';
  }

  function markFailed(p, label, canRetry) {
    setPendingStatus(p, 'failed');
    const meta = p.el.querySelector('.msg-meta');
    const statusEl = p.el.querySelector('.msg-status');
    if (statusEl) statusEl.textContent = label;
    if (canRetry && meta && !p.el.querySelector('.msg-retry')) {
      const btn = h('button', { type: 'button', class: 'msg-retry', text: 'Retry' });
      btn.addEventListener('click', () => {
        // Same client_msg_id: if the first attempt did land, the server dedupes it.
        setPendingStatus(p, 'queued');
        flushOutbox();
      });
      meta.append(btn);
    }
  }

  function confirmPending(cid, seq, id, message) {
    const p = state.outbox.get(cid);
    if (!p) return;
    state.outbox.delete(cid);
    const li = p.el;
    if (seq !== null && state.seqs.has(seq)) { // already shown via another path
      li.remove();
      return;
    }
    li.classList.remove('is-pending', 'is-failed');
    if (seq !== null) li.dataset.seq = String(seq);
    if (id !== null && id !== undefined) li.dataset.id = String(id);
    for (const n of li.querySelectorAll('.msg-status, .msg-retry')) n.remove();
    if (message) {
      if (typeof message.content === 'string') li.querySelector('.msg-content').textContent = message.content;
      const t = li.querySelector('.msg-time');
      if (t && message.created_at) t.replaceWith(timeEl(message.created_at));
    }
    if (seq !== null && isOutOfOrder(li, seq)) {
      li.remove();
      insertBySeq(li, seq);
    }
    markRendered(seq, id);
    afterRender();
  }

  function isOutOfOrder(li, seq) {
    for (let c = li.previousElementSibling; c; c = c.previousElementSibling) {
      if (c.dataset.seq) return Number(c.dataset.seq) > seq;
    }
    return false;
  }

  // ---------------------------------------------------------------------------
  // Composer
  // ---------------------------------------------------------------------------

  function submitComposer() {
    const content = el.input.value.trim();
    if (!content) return;
    if (state.closed) {
      showNotice(TEXT.closed, { key: 'composer' });
      return;
    }
    if (charCount(content) > config.maxChars) {
      showNotice(`Your message is too long. Please keep it under ${config.maxChars.toLocaleString()} characters.`, { key: 'composer' });
      return;
    }
    clearNotice('composer');
    queueMessage(content);
    el.input.value = '';
    autoGrow();
    updateCounter();
    stopTyping();
    state.stickToBottom = true;
    afterRender();
    flushOutbox();
  }

  function autoGrow() {
    el.input.style.height = 'auto';
    el.input.style.height = Math.min(el.input.scrollHeight, 160) + 'px';
  }

  function updateCounter() {
    const count = charCount(el.input.value.trim());
    const over = count > config.maxChars;
    const near = count >= Math.floor(config.maxChars * COUNTER_THRESHOLD);
    el.counter.hidden = !near;
    el.counter.textContent = near
      ? `${count.toLocaleString()} / ${config.maxChars.toLocaleString()}${over ? ' (too long)' : ''}`
      : '';
    el.counter.classList.toggle('is-over', over);
    if (over) el.input.setAttribute('aria-invalid', 'true');
    else el.input.removeAttribute('aria-invalid');
    el.send.disabled = over || state.closed;
  }

  function noteTyping() {
    if (state.closed || !el.input.value.trim()) {
      stopTyping();
      return;
    }
    const now = Date.now();
    if (now - state.typingSentAt >= TYPING_THROTTLE_MS) {
      if (sendFrame({ type: 'typing', is_typing: true })) {
        state.typingSent = true;
        state.typingSentAt = now;
      }
    }
    clearTimeout(state.typingIdleTimer);
    state.typingIdleTimer = setTimeout(stopTyping, TYPING_IDLE_MS);
  }

  function stopTyping() {
    clearTimeout(state.typingIdleTimer);
    state.typingIdleTimer = null;
    if (state.typingSent) {
      sendFrame({ type: 'typing', is_typing: false });
      state.typingSent = false;
    }
  }

  function setComposerEnabled(enabled) {
    el.input.disabled = !enabled;
    el.input.placeholder = enabled ? 'Type your message…' : 'Conversation closed';
    el.composer.classList.toggle('is-disabled', !enabled);
    el.send.disabled = !enabled;
    if (enabled) updateCounter();
  }

  // ---------------------------------------------------------------------------
  // Read receipts, indicators, notices, connection pill
  // ---------------------------------------------------------------------------

  function scheduleRead() {
    clearTimeout(state.readTimer);
    state.readTimer = setTimeout(sendRead, 1000); // coalesce a replay burst or a streamed reply into one frame
  }

  function sendRead() {
    if (document.visibilityState !== 'visible') return;
    if (state.lastSeq > state.readSeqSent && sendFrame({ type: 'read', seq: state.lastSeq })) {
      state.readSeqSent = state.lastSeq;
    }
  }

  function setAgentThinking(on) {
    el.agentStatus.hidden = !on;
    if (on && state.stickToBottom) queueScrollToBottom();
  }

  function setPeerTyping(on) {
    clearTimeout(state.peerTypingTimer);
    el.typing.hidden = !on;
    if (on) {
      state.peerTypingTimer = setTimeout(() => { el.typing.hidden = true; }, PEER_TYPING_TTL_MS);
      if (state.stickToBottom) queueScrollToBottom();
    }
  }

  function setStatusNotice(text) {
    el.statusNotice.hidden = !text;
    el.statusNotice.textContent = text;
  }

  // Keyed so that e.g. a "retrying" notice can be cleared without wiping an unrelated error.
  function showNotice(text, { key = '', tone = 'error' } = {}) {
    el.notice.hidden = false;
    el.notice.dataset.key = key;
    el.notice.dataset.tone = tone;
    el.noticeText.textContent = text;
  }

  function clearNotice(key) {
    if (key !== undefined && el.notice.dataset.key !== key) return;
    el.notice.hidden = true;
    el.noticeText.textContent = '';
    el.notice.dataset.key = '';
  }

  function setConn(conn) {
    if (state.conn === conn && el.pill.dataset.state === conn) return;
    state.conn = conn;
    el.pill.dataset.state = conn;
    el.pill.querySelector('.pill-text').textContent = TEXT.conn[conn] || conn;
  }

  // ---------------------------------------------------------------------------
  // Rating
  // ---------------------------------------------------------------------------

  function showRatingResult(csat) {
    const stars = el.rating.querySelectorAll('button[data-rating]');
    for (const b of stars) {
      const n = Number(b.dataset.rating);
      b.setAttribute('aria-pressed', String(csat > 0 && n === csat));
      b.classList.toggle('is-lit', csat > 0 && n <= csat);
      b.disabled = csat > 0;
    }
    el.ratingThanks.hidden = !(csat > 0);
  }

  async function submitRating(csat) {
    if (!state.session) return;
    const stars = el.rating.querySelectorAll('button[data-rating]');
    for (const b of stars) b.disabled = true;
    const res = await api.rate(state.session, csat);
    if (res.ok) {
      if (res.data && typeof res.data === 'object') state.info = Object.assign({}, state.info || {}, res.data);
      showRatingResult(csat);
    } else {
      for (const b of stars) b.disabled = false;
      showNotice((res.error && res.error.detail) || "We couldn't save your rating. Please try again.", { key: 'rating' });
    }
  }

  // ---------------------------------------------------------------------------
  // Scrolling
  // ---------------------------------------------------------------------------

  function isNearBottom() {
    return C.isNearBottom(el.transcript);
  }

  function queueScrollToBottom() {
    C.queueScrollToBottom(state, el.transcript, el.jump);
  }

  // ---------------------------------------------------------------------------
  // Wiring
  // ---------------------------------------------------------------------------

  function bindEvents() {
    el.composer.addEventListener('submit', (e) => {
      e.preventDefault();
      submitComposer();
      el.input.focus();
    });

    el.input.addEventListener('keydown', (e) => {
      // isComposing/229: Enter that confirms an IME candidate must not send.
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
        e.preventDefault();
        submitComposer();
      }
    });

    el.input.addEventListener('input', () => {
      autoGrow();
      updateCounter();
      noteTyping();
    });

    el.transcript.addEventListener('scroll', () => {
      state.stickToBottom = isNearBottom();
      if (state.stickToBottom) el.jump.hidden = true;
    }, { passive: true });

    el.jump.addEventListener('click', () => {
      state.stickToBottom = true;
      queueScrollToBottom();
      el.input.focus();
    });

    el.noticeDismiss.addEventListener('click', () => clearNotice());

    el.rating.addEventListener('click', (e) => {
      const btn = e.target.closest('button[data-rating]');
      if (btn && !btn.disabled) submitRating(Number(btn.dataset.rating));
    });

    el.newConv.addEventListener('click', async () => {
      el.newConv.disabled = true;
      abandonSession({ keepOutbox: false });
      await startNewSession();
      el.input.focus();
    });

    // Keep the newest message in view when the mobile keyboard or window resizes the transcript.
    window.addEventListener('resize', () => {
      if (state.stickToBottom) queueScrollToBottom();
    });

    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState !== 'visible') return;
      sendRead();
      checkIdle(); // background tabs throttle timers; re-check liveness on return
      reconnectNow();
    });

    window.addEventListener('online', reconnectNow);
    window.addEventListener('offline', () => {
      if (!state.authed) setConn('offline');
    });
  }

  bindEvents();
  updateCounter();
  boot();
})();

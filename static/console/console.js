// Agent console client: one /ws/agent/ socket (session-cookie auth) drives the inbox, the joined
// conversation, the composer (replies and internal notes), actions and escalation alerts.
(function () {
  'use strict';

  const root = document.getElementById('console-app');
  if (!root) return;

  // ---------------------------------------------------------------------------
  // Constants & config
  // ---------------------------------------------------------------------------

  const FORBIDDEN_CLOSE = 4003;
  const FILTERS = new Set(['all', 'mine', 'unassigned', 'escalated', 'ai', 'closed']);

  // Shared protocol constants and helpers: static/common/realtime.js (loaded first).
  const C = window.supportdeskCommon;
  const {
    ROLES, TYPING_THROTTLE_MS, TYPING_IDLE_MS, FRAME_BUDGET, LOW_PRIORITY_BUDGET, LOW_PRIORITY_TYPES,
    h, charCount, toSeq, parseDate, formatTime, newClientId,
  } = C;

  const PEER_TYPING_TTL_MS = 10000;
  const WAIT_REFRESH_MS = 30000;
  const SEARCH_DEBOUNCE_MS = 250;
  const ACTION_BUSY_MS = 6000;
  const COUNTER_THRESHOLD = 0.8;
  const NOTIFY_KEY = 'supportdesk.console.notify';

  const CONN_TEXT = {
    connecting: 'Connecting…',
    online: 'Online',
    reconnecting: 'Reconnecting…',
    offline: 'Offline',
  };

  const ERROR_FALLBACKS = {
    invalid_json: 'The server could not read that request.',
    unknown_type: 'The server did not understand that request.',
    invalid_field: 'That request was incomplete or invalid.',
    too_long: 'That message is too long.',
    rate_limited: 'Too many actions at once. Please wait a moment.',
    session_closed: 'This conversation is closed.',
    already_assigned: 'Another agent is already handling this conversation.',
    not_assigned: 'Take over the conversation to reply to the customer.',
    not_found: 'That conversation no longer exists.',
  };

  const config = {
    userId: root.dataset.userId || '',
    userName: root.dataset.userName || '',
    maxChars: parseInt(root.dataset.maxChars, 10) || 4000,
    loginUrl: root.dataset.loginUrl || '/console/login/',
    wsPath: root.dataset.wsPath || '/ws/agent/',
  };

  // ---------------------------------------------------------------------------
  // State (exposed on window.supportdeskConsole for debugging)
  // ---------------------------------------------------------------------------

  const state = {
    me: { id: config.userId, name: config.userName },
    agents: [],
    canned: [],
    conn: 'connecting',
    everOnline: false,
    forbidden: false,
    ws: null,
    wsGen: 0,
    ready: false,
    attempts: 0,
    reconnectTimer: null,
    pingTimer: null,
    watchdogTimer: null,
    lastFrameAt: 0,
    sentAt: [],
    ctrlQueue: [],          // join/leave/inbox/actions waiting for frame budget (dropped on reconnect)
    ctrlTimer: null,
    outbox: new Map(),      // client_msg_id -> {cid, sessionKey, sessionId, kind, content, status, el}
    flushTimer: null,
    // Inbox
    filter: 'all',
    search: '',
    sessions: new Map(),    // String(id) -> latest SUMMARY
    order: [],              // keys of the sessions shown, in display order
    inboxPending: 0,        // inbox requests still unanswered: only the newest answer is applied
    inboxRequestedAt: 0,
    closedInFilter: {},     // filters whose server answers included closed sessions
    alerts: new Set(),      // keys of new escalations not yet opened
    searchTimer: null,
    // Conversation
    current: null,          // see newConversation()
    drafts: new Map(),      // key -> unsent composer text
    mode: 'note',
    noteRole: 'system',     // the role the server gives internal notes (learned from the transcript)
    typingSent: false,
    typingSentAt: 0,
    typingSessionId: null,
    typingIdleTimer: null,
    peerTypingTimer: null,
    readTimer: null,
    busyTimer: null,
    stickToBottom: true,
    scrollQueued: false,
    // Canned responses menu
    menu: { open: false, items: [], active: 0, slash: false },
    // Alerts
    notify: true,
    audio: null,
  };
  window.supportdeskConsole = { state };

  // ---------------------------------------------------------------------------
  // DOM references & helpers
  // ---------------------------------------------------------------------------

  const byId = (id) => document.getElementById(id);
  const el = {
    pill: byId('connection-state'),
    notice: byId('console-notice'),
    notifyToggle: byId('notify-toggle'),
    inbox: byId('inbox'),
    inboxEmpty: byId('inbox-empty'),
    inboxCount: byId('inbox-count'),
    search: byId('inbox-search'),
    filters: Array.from(document.querySelectorAll('button[data-filter]')),
    conversation: byId('conversation'),
    convEmpty: byId('conversation-empty'),
    convCustomer: byId('conv-customer'),
    convBack: byId('conv-back'),
    status: byId('session-status'),
    assignee: byId('session-assignee'),
    takeOver: byId('take-over'),
    release: byId('release'),
    closeBtn: byId('close-session'),
    assignSelect: byId('assign-select'),
    assignBtn: byId('assign-button'),
    detailsToggle: byId('details-toggle'),
    scroll: byId('transcript-scroll'),
    transcript: byId('transcript'),
    loading: byId('transcript-loading'),
    typing: byId('customer-typing'),
    jump: byId('jump-latest'),
    composer: byId('composer'),
    input: byId('composer-input'),
    send: byId('composer-send'),
    modeReply: byId('mode-reply'),
    modeNote: byId('mode-note'),
    modeHint: byId('composer-mode-hint'),
    counter: byId('composer-counter'),
    menu: byId('canned-menu'),
    cannedBtn: byId('canned-button'),
    detailsSession: byId('details-session'),
    detailName: byId('detail-name'),
    detailEmail: byId('detail-email'),
    detailStatus: byId('detail-status'),
    detailHandled: byId('detail-handled-by'),
    detailAssignee: byId('detail-assignee'),
    detailCreated: byId('detail-created'),
    detailActivity: byId('detail-activity'),
    detailClosedRow: byId('detail-closed-row'),
    detailClosed: byId('detail-closed'),
    csatStars: byId('csat-stars'),
    csat: byId('session-csat'),
    csatNone: byId('csat-none'),
    agentsOnline: byId('agents-online'),
    agentsEmpty: byId('agents-empty'),
  };

  const keyOf = (id) => (id === null || id === undefined ? '' : String(id));
  const sameId = (a, b) => a !== null && a !== undefined && b !== null && b !== undefined && a !== '' && String(a) === String(b);

  function formatDateTime(iso) {
    const d = parseDate(iso);
    if (!d) return '—';
    const today = new Date();
    const sameDay = d.toDateString() === today.toDateString();
    if (sameDay) return 'Today, ' + formatTime(iso);
    return d.toLocaleDateString(undefined, { day: 'numeric', month: 'short', year: d.getFullYear() === today.getFullYear() ? undefined : 'numeric' }) +
      ', ' + formatTime(iso);
  }

  // "3m", "2h 5m", "4d": compact enough for a list row.
  function formatDuration(ms) {
    const mins = Math.max(0, Math.floor(ms / 60000));
    if (mins < 1) return '<1m';
    if (mins < 60) return mins + 'm';
    const hours = Math.floor(mins / 60);
    if (hours < 24) return hours + 'h' + (mins % 60 ? ' ' + (mins % 60) + 'm' : '');
    return Math.floor(hours / 24) + 'd';
  }

  function humanize(code) {
    return String(code || '').replace(/[_-]+/g, ' ').trim();
  }

  // Sessions carry the assignee as {id, name}; tolerate a bare id plus assignee_name.
  function assigneeOf(s) {
    if (!s) return null;
    const a = s.assignee;
    if (a && typeof a === 'object') {
      if (a.id === null || a.id === undefined) return null;
      return { id: a.id, name: a.name || s.assignee_name || agentName(a.id) };
    }
    if (a !== null && a !== undefined && a !== '') return { id: a, name: s.assignee_name || agentName(a) };
    return null;
  }

  function agentName(id) {
    if (sameId(id, state.me.id)) return state.me.name || 'You';
    const agent = state.agents.find((x) => sameId(x.id, id));
    return agent ? agent.name : 'Agent';
  }

  const isClosed = (s) => !!s && s.status === 'closed';
  const isHuman = (s) => !!s && String(s.handled_by || '').toLowerCase() === 'human';
  function isMine(s) {
    const a = assigneeOf(s);
    return !!s && isHuman(s) && !isClosed(s) && !!a && sameId(a.id, state.me.id);
  }
  // The contact's (or the pre-chat) name wherever the server knows one.
  const customerName = (s) => {
    const name = s && (s.display_name || s.customer_name);
    return name ? String(name) : 'Anonymous';
  };

  // ---------------------------------------------------------------------------
  // Notice & connection pill
  // ---------------------------------------------------------------------------

  let noticeTimer = null;
  function showNotice(text, { tone = 'error', link = null, sticky = false } = {}) {
    clearTimeout(noticeTimer);
    el.notice.textContent = '';
    el.notice.dataset.tone = tone;
    el.notice.append(h('span', { class: 'notice-text', text }));
    if (link) el.notice.append(' ', h('a', { class: 'notice-link', href: link.href, text: link.text }));
    const dismiss = h('button', { type: 'button', class: 'notice-dismiss', 'aria-label': 'Dismiss notice' });
    dismiss.append(svgClose());
    dismiss.addEventListener('click', clearNotice);
    el.notice.append(dismiss);
    el.notice.hidden = false;
    if (!sticky) noticeTimer = setTimeout(clearNotice, tone === 'info' ? 5000 : 12000);
  }

  function clearNotice() {
    if (state.forbidden) return; // the "not authorised" notice stays: nothing else works
    clearTimeout(noticeTimer);
    el.notice.hidden = true;
    el.notice.textContent = '';
  }

  function svgClose() {
    const ns = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '0 0 16 16');
    svg.setAttribute('width', '14');
    svg.setAttribute('height', '14');
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('focusable', 'false');
    const path = document.createElementNS(ns, 'path');
    path.setAttribute('d', 'M3.5 3.5l9 9m0-9l-9 9');
    path.setAttribute('stroke', 'currentColor');
    path.setAttribute('stroke-width', '1.8');
    path.setAttribute('stroke-linecap', 'round');
    svg.append(path);
    return svg;
  }

  function setConn(conn) {
    state.conn = conn;
    el.pill.dataset.state = conn;
    el.pill.querySelector('.pill-text').textContent = CONN_TEXT[conn] || conn;
  }

  // ---------------------------------------------------------------------------
  // WebSocket
  // ---------------------------------------------------------------------------

  function socketUrl() {
    const proto = location.protocol === 'https:' ? 'wss' : 'ws';
    return `${proto}://${location.host}${config.wsPath}`;
  }

  function connect() {
    if (state.forbidden) return;
    clearTimeout(state.reconnectTimer);
    state.reconnectTimer = null;
    teardownSocket();
    setConn(state.everOnline ? 'reconnecting' : 'connecting');

    const gen = ++state.wsGen;
    state.sentAt = []; // the server's rate limiter is per socket
    let ws;
    try {
      ws = new WebSocket(socketUrl());
    } catch (_) {
      scheduleReconnect();
      return;
    }
    state.ws = ws;
    state.lastFrameAt = Date.now();
    startHeartbeat();

    ws.onopen = () => {
      if (gen !== state.wsGen) return;
      state.lastFrameAt = Date.now(); // the session cookie authenticates: wait for "ready"
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
    ws.onerror = () => { /* a close event always follows */ };
  }

  function teardownSocket() {
    stopHeartbeat();
    const ws = state.ws;
    state.ws = null;
    state.ready = false;
    state.wsGen++;
    state.ctrlQueue = [];
    clearTimeout(state.ctrlTimer);
    state.ctrlTimer = null;
    C.closeSocket(ws);
  }

  function onSocketClosed(code) {
    teardownSocket();
    setCustomerTyping(false);
    state.typingSent = false;
    clearBusy();
    // In-flight messages are re-sent with the same client_msg_id after reconnect; the server dedupes.
    for (const p of state.outbox.values()) if (p.status === 'sending') setPendingStatus(p, 'queued');
    if (state.current) state.current.joined = false;

    if (code === FORBIDDEN_CLOSE) {
      state.forbidden = true;
      setConn('offline');
      root.dataset.forbidden = 'true';
      showNotice('Not authorised: this console needs a staff account.', {
        sticky: true,
        link: { href: config.loginUrl, text: 'Sign in' },
      });
      renderConversationState();
      return;
    }
    scheduleReconnect();
  }

  function scheduleReconnect() {
    if (state.forbidden) return;
    C.scheduleReconnect(state, connect, () =>
      setConn(navigator.onLine === false || !state.everOnline && state.attempts > 3 ? 'offline' : 'reconnecting'));
  }

  function reconnectNow() {
    if (state.forbidden) return;
    C.reconnectNow(state, connect);
  }

  function startHeartbeat() {
    C.startHeartbeat(state, () => { if (state.ready) sendFrame({ type: 'ping' }); }, checkIdle);
  }

  function stopHeartbeat() {
    C.stopHeartbeat(state);
  }

  function checkIdle() {
    if (C.isIdle(state)) onSocketClosed(4000);
  }

  const isOnline = () => !!state.ws && state.ws.readyState === WebSocket.OPEN && state.ready;

  function sendFrame(frame) {
    if (!isOnline()) return false;
    if (!takeFrameBudget(LOW_PRIORITY_TYPES.has(frame.type) ? LOW_PRIORITY_BUDGET : FRAME_BUDGET)) return false;
    try {
      state.ws.send(JSON.stringify(frame));
      return true;
    } catch (_) {
      return false;
    }
  }

  function takeFrameBudget(limit) {
    return C.takeFrameBudget(state.sentAt, limit);
  }

  function budgetWaitMs() {
    return C.budgetWaitMs(state.sentAt, 20);
  }

  // Control frames go out in order; when over budget they wait instead of being dropped.
  function queueCtrl(frame) {
    if (!isOnline()) return false;
    if (frame.type === 'inbox') state.ctrlQueue = state.ctrlQueue.filter((f) => f.type !== 'inbox');
    state.ctrlQueue.push(frame);
    flushCtrl();
    return true;
  }

  function flushCtrl() {
    clearTimeout(state.ctrlTimer);
    state.ctrlTimer = null;
    while (state.ctrlQueue.length) {
      if (!sendFrame(state.ctrlQueue[0])) {
        if (isOnline()) state.ctrlTimer = setTimeout(flushCtrl, budgetWaitMs());
        return;
      }
      state.ctrlQueue.shift();
    }
  }

  // ---------------------------------------------------------------------------
  // Incoming frames
  // ---------------------------------------------------------------------------

  const frameHandlers = {
    ready(f) {
      state.ready = true;
      state.attempts = 0;
      state.everOnline = true;
      if (f.user && f.user.id !== undefined) state.me = { id: f.user.id, name: f.user.name || state.me.name };
      if (Array.isArray(f.agents)) state.agents = f.agents.filter((a) => a && a.id !== undefined);
      if (Array.isArray(f.canned)) state.canned = f.canned.filter((c) => c && typeof c.body === 'string');
      setConn('online');
      if (!state.forbidden) clearNotice();
      renderAgents();
      // Re-sync: the inbox, then the open conversation from the last seq this page shows.
      state.inboxPending = 0;
      requestInbox();
      const cur = state.current;
      if (cur) {
        cur.joined = false;
        queueCtrl({ type: 'join', session_id: cur.id, last_seq: cur.lastSeq });
      }
      flushOutbox();
      renderConversationState();
    },

    inbox(f) {
      if (f.filter && FILTERS.has(f.filter) && f.filter !== state.filter) return; // answer to an older request
      state.inboxPending = Math.max(0, state.inboxPending - 1);
      // A newer request is on its way: skip this answer (unless the newer one looks lost).
      if (state.inboxPending > 0 && Date.now() - state.inboxRequestedAt < 5000) return;
      state.inboxPending = 0;
      const list = Array.isArray(f.sessions) ? f.sessions.filter((s) => s && s.id !== undefined) : [];
      if (state.filter !== 'closed' && list.some(isClosed)) state.closedInFilter[state.filter] = true;
      for (const s of list) state.sessions.set(keyOf(s.id), s);
      state.order = list.map((s) => keyOf(s.id));
      renderInbox();
    },

    inbox_update(f) {
      if (f.session && f.session.id !== undefined) upsertSummary(f.session);
    },

    escalation(f) {
      const s = f.session;
      if (!s || s.id === undefined) return;
      const key = keyOf(s.id);
      upsertSummary(s);
      if (!(state.current && state.current.key === key)) state.alerts.add(key);
      updateAlerts();
      alertEscalation(s, f.reason);
    },

    session(f) {
      const s = f.session;
      if (!s || s.id === undefined) return;
      const key = keyOf(s.id);
      const known = state.sessions.get(key);
      if (known) {
        const merged = Object.assign({}, known, pickSessionFields(s));
        state.sessions.set(key, merged);
        placeInInbox(key, merged);
      }
      if (state.current && state.current.key === key) {
        applyCurrentInfo(s);
        clearBusy();
      }
    },

    message(f) {
      if (f.message && typeof f.message === 'object') receiveMessage(f.message);
    },

    joined(f) {
      const cur = state.current;
      if (!cur || keyOf(f.session_id) !== cur.key) return;
      cur.joined = true;
      el.loading.hidden = true;
      state.stickToBottom = true;
      queueScrollToBottom();
      scheduleRead();
      updateSeen();
    },

    ack(f) {
      if (f.client_msg_id) confirmPending(String(f.client_msg_id), toSeq(f.seq), f.id, null);
    },

    typing(f) {
      const cur = state.current;
      if (!cur || keyOf(f.session_id) !== cur.key) return;
      if (f.role === 'customer') setCustomerTyping(!!f.is_typing);
    },

    read(f) {
      const cur = state.current;
      if (!cur || keyOf(f.session_id) !== cur.key || f.role !== 'customer') return;
      const seq = toSeq(f.seq);
      if (seq && seq > cur.peerReadSeq) {
        cur.peerReadSeq = seq;
        updateSeen();
      }
    },

    presence(f) {
      if (Array.isArray(f.agents)) {
        state.agents = f.agents.filter((a) => a && a.id !== undefined);
        renderAgents();
      }
    },

    pong() { /* any frame refreshes the idle watchdog */ },

    error(f) {
      const code = String(f.code || '');
      clearBusy();
      if (['invalid_field', 'rate_limited', 'invalid_json', 'unknown_type'].includes(code)) state.inboxPending = 0;
      showNotice(f.detail || ERROR_FALLBACKS[code] || 'Something went wrong.');
      attributeError(f, code);
      if (code === 'not_found' && state.current && !state.current.joined) el.loading.hidden = true;
      if (code === 'session_closed' && state.current && (!f.session_id || keyOf(f.session_id) === state.current.key)) {
        applyCurrentInfo({ status: 'closed' });
      }
    },
  };

  function handleFrame(frame) {
    if (!frame || typeof frame.type !== 'string') return;
    if (Object.prototype.hasOwnProperty.call(frameHandlers, frame.type)) frameHandlers[frame.type](frame);
  }

  function pickSessionFields(s) {
    const out = {};
    for (const k of ['status', 'handled_by', 'assignee', 'customer_name', 'customer_email', 'display_name', 'contact', 'contact_id', 'created_at',
      'last_activity_at', 'closed_at', 'csat', 'escalated_at']) {
      if (Object.prototype.hasOwnProperty.call(s, k)) out[k] = s[k];
    }
    if (s.assignee !== undefined && (s.assignee === null || typeof s.assignee !== 'object') && s.assignee_name !== undefined) {
      out.assignee = s.assignee === null ? null : { id: s.assignee, name: s.assignee_name };
    }
    return out;
  }

  // ---------------------------------------------------------------------------
  // Inbox
  // ---------------------------------------------------------------------------

  function requestInbox() {
    if (queueCtrl({ type: 'inbox', filter: state.filter, search: state.search.trim().slice(0, 200) })) {
      state.inboxPending++;
      state.inboxRequestedAt = Date.now();
    }
  }

  // Mirrors the server's inbox filters, to re-apply them to live updates.
  function matchesFilter(s, filter) {
    const closed = isClosed(s);
    const closedOk = !!state.closedInFilter[filter];
    switch (filter) {
      case 'closed': return closed;
      case 'escalated': return s.status === 'escalated';
      case 'mine': {
        const a = assigneeOf(s);
        return !!a && sameId(a.id, state.me.id) && (!closed || closedOk);
      }
      case 'unassigned': return !assigneeOf(s) && (!closed || closedOk);
      case 'ai': return s.status === 'open' && !isHuman(s);
      default: return true; // "all" includes closed conversations (listed last)
    }
  }

  function matchesSearch(s, query) {
    const q = query.trim().toLowerCase();
    if (!q) return true;
    const hay = [s.display_name, s.customer_name, s.customer_email, s.id, s.last_message && s.last_message.content,
      assigneeOf(s) && assigneeOf(s).name].filter(Boolean).join(' ').toLowerCase();
    return q.split(/\s+/).every((w) => hay.includes(w));
  }

  const inView = (s) => matchesFilter(s, state.filter) && matchesSearch(s, state.search);

  function waitingSince(s) {
    const d = parseDate(s.status === 'escalated' && s.escalated_at ? s.escalated_at : s.last_activity_at || s.created_at);
    return d ? d.getTime() : Date.now();
  }

  // Same order as the server: escalated, open, closed; then escalated_at (oldest first, none
  // last); then the most recent activity.
  function compareSessions(a, b) {
    const rank = (s) => (s.status === 'escalated' ? 0 : s.status === 'closed' ? 2 : 1);
    const ra = rank(a);
    const rb = rank(b);
    if (ra !== rb) return ra - rb;
    const ea = parseDate(a.escalated_at);
    const eb = parseDate(b.escalated_at);
    if (ea && eb && ea.getTime() !== eb.getTime()) return ea.getTime() - eb.getTime();
    if (ea && !eb) return -1;
    if (!ea && eb) return 1;
    const la = parseDate(a.last_activity_at);
    const lb = parseDate(b.last_activity_at);
    return (lb ? lb.getTime() : 0) - (la ? la.getTime() : 0);
  }

  function upsertSummary(s) {
    const key = keyOf(s.id);
    const prev = state.sessions.get(key);
    state.sessions.set(key, s);
    placeInInbox(key, s, prev);
    if (state.current && state.current.key === key) {
      applyCurrentInfo(pickSessionFields(s));
      if (prev && (prev.status !== s.status || prev.handled_by !== s.handled_by ||
          keyOf((assigneeOf(prev) || {}).id) !== keyOf((assigneeOf(s) || {}).id))) clearBusy();
    }
  }

  // Keeps a changed session in the list (in place unless its status group changed), or drops it.
  function placeInInbox(key, s, prev) {
    const idx = state.order.indexOf(key);
    // The server's search also matches older messages: a listed session keeps its place.
    if (!matchesFilter(s, state.filter) || (idx < 0 && !matchesSearch(s, state.search))) {
      if (idx >= 0) state.order.splice(idx, 1);
      renderInbox();
      return;
    }
    const moved = idx < 0 || !prev || prev.status !== s.status;
    if (moved) {
      if (idx >= 0) state.order.splice(idx, 1);
      let at = state.order.findIndex((k) => {
        const other = state.sessions.get(k);
        return other && compareSessions(s, other) < 0;
      });
      if (at < 0) at = state.order.length;
      state.order.splice(at, 0, key);
    }
    renderInbox();
  }

  function visibleKeys() {
    return state.order.filter((k) => {
      const s = state.sessions.get(k);
      return s && matchesFilter(s, state.filter);
    });
  }

  const inboxItems = new Map(); // key -> <li>

  function renderInbox() {
    const keys = visibleKeys();
    const keep = new Set(keys);
    for (const [k, li] of inboxItems) {
      if (!keep.has(k)) {
        li.remove();
        inboxItems.delete(k);
      }
    }
    keys.forEach((k, i) => {
      const s = state.sessions.get(k);
      let li = inboxItems.get(k);
      if (!li) {
        li = h('li', { class: 'inbox-item', tabindex: '-1' });
        inboxItems.set(k, li);
      }
      fillInboxItem(li, s);
      // Only move what is out of place, so a focused item keeps its focus.
      if (el.inbox.children[i] !== li) el.inbox.insertBefore(li, el.inbox.children[i] || null);
    });
    el.inboxEmpty.hidden = keys.length > 0;
    el.inboxEmpty.textContent = state.search.trim() ? 'No conversations match your search.' : 'No conversations here.';
    el.inboxCount.textContent = keys.length ? String(keys.length) : '';
    fixRovingTabindex();
    updateTitle();
  }

  function fillInboxItem(li, s) {
    const key = keyOf(s.id);
    const a = assigneeOf(s);
    const unanswered = Math.max(0, Number(s.unanswered) || 0);
    li.dataset.sessionId = key;
    li.dataset.status = s.status || '';
    li.dataset.handledBy = s.handled_by || '';
    li.classList.toggle('is-active', !!state.current && state.current.key === key);
    li.classList.toggle('is-alert', state.alerts.has(key));
    li.classList.toggle('is-unanswered', unanswered > 0);
    if (state.current && state.current.key === key) li.setAttribute('aria-current', 'true');
    else li.removeAttribute('aria-current');

    const last = s.last_message;
    let who = '';
    if (last) {
      if (last.role === 'assistant') who = 'AI: ';
      else if (last.role === 'agent') who = 'Agent: ';
      else if (last.role === 'system') who = '';
    }
    const unansweredEl = h('span', {
      class: 'inbox-unanswered',
      title: `${unanswered} unanswered customer message${unanswered === 1 ? '' : 's'}`,
      text: String(unanswered),
    });
    unansweredEl.hidden = unanswered === 0;

    const statusBadge = h('span', { class: 'badge', dataset: { status: s.status || '' }, text: s.status || '' });
    const handled = h('span', { class: 'handled-tag', dataset: { handledBy: s.handled_by || '' }, text: isHuman(s) ? 'Human' : 'AI' });

    li.replaceChildren(
      h('div', { class: 'inbox-row' },
        h('span', { class: 'inbox-avatar', 'aria-hidden': 'true', text: customerName(s).slice(0, 1).toUpperCase() }),
        h('span', { class: 'inbox-name', text: customerName(s) }),
        h('span', { class: 'inbox-wait', title: waitTitle(s), text: waitText(s) })),
      h('div', { class: 'inbox-row inbox-row-preview' },
        who ? h('span', { class: 'inbox-preview-who', text: who }) : null,
        h('span', { class: 'inbox-preview', text: last && last.content ? String(last.content) : 'No messages yet' }),
        unansweredEl),
      h('div', { class: 'inbox-row inbox-row-meta' },
        statusBadge,
        handled,
        h('span', { class: 'inbox-assignee', dataset: { assigned: a ? 'true' : 'false' }, text: a ? a.name : 'Unassigned' })));
    li.setAttribute('aria-label', `${customerName(s)}, ${s.status || ''}${unanswered ? `, ${unanswered} unanswered` : ''}`);
  }

  function waitText(s) {
    const since = Date.now() - waitingSince(s);
    if (s.status === 'escalated') return 'waiting ' + formatDuration(since);
    if (s.status === 'closed') return 'closed ' + formatDuration(since) + ' ago';
    if (Number(s.unanswered) > 0) return 'waiting ' + formatDuration(since);
    return formatDuration(since) + ' ago';
  }

  function waitTitle(s) {
    const iso = s.status === 'escalated' && s.escalated_at ? s.escalated_at : s.last_activity_at;
    return iso ? (s.status === 'escalated' ? 'Escalated ' : 'Last activity ') + formatDateTime(iso) : '';
  }

  function refreshWaitTimes() {
    for (const [k, li] of inboxItems) {
      const s = state.sessions.get(k);
      const w = li.querySelector('.inbox-wait');
      if (s && w) {
        w.textContent = waitText(s);
        w.title = waitTitle(s);
      }
    }
    if (state.current) renderDetails();
  }

  function fixRovingTabindex() {
    const items = Array.from(el.inbox.children);
    if (!items.length) return;
    let tabbable = items.find((li) => li.classList.contains('is-active')) || items[0];
    if (items.includes(document.activeElement)) tabbable = document.activeElement;
    for (const li of items) li.tabIndex = li === tabbable ? 0 : -1;
  }

  function setFilter(filter) {
    if (!FILTERS.has(filter)) return;
    state.filter = filter;
    for (const b of el.filters) {
      const on = b.dataset.filter === filter;
      b.setAttribute('aria-pressed', String(on));
      b.classList.toggle('is-active', on);
    }
    // Show what we already know straight away; the server's answer replaces it.
    state.order = Array.from(state.sessions.values()).filter(inView).sort(compareSessions).map((s) => keyOf(s.id));
    renderInbox();
    requestInbox();
  }

  function updateAlerts() {
    for (const [k, li] of inboxItems) li.classList.toggle('is-alert', state.alerts.has(k));
    updateTitle();
  }

  function updateTitle() {
    const n = state.alerts.size;
    document.title = (n ? `(${n}) ` : '') + 'Agent console';
  }

  // ---------------------------------------------------------------------------
  // Escalation alerts (sound + desktop notification)
  // ---------------------------------------------------------------------------

  function loadNotifyPref() {
    try { return window.localStorage.getItem(NOTIFY_KEY) !== 'off'; } catch (_) { return true; }
  }

  function saveNotifyPref(on) {
    try { window.localStorage.setItem(NOTIFY_KEY, on ? 'on' : 'off'); } catch (_) { /* this page only */ }
  }

  function unlockAudio() {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return null;
    try {
      if (!state.audio) state.audio = new Ctx();
      if (state.audio.state === 'suspended') state.audio.resume().catch(() => {});
    } catch (_) { return null; }
    return state.audio;
  }

  function beep() {
    const ctx = unlockAudio();
    if (!ctx) return;
    try {
      const t = ctx.currentTime + 0.02;
      [[880, 0], [1320, 0.17]].forEach(([freq, at]) => {
        const osc = ctx.createOscillator();
        const gain = ctx.createGain();
        osc.type = 'sine';
        osc.frequency.value = freq;
        gain.gain.setValueAtTime(0.0001, t + at);
        gain.gain.exponentialRampToValueAtTime(0.18, t + at + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, t + at + 0.15);
        osc.connect(gain);
        gain.connect(ctx.destination);
        osc.start(t + at);
        osc.stop(t + at + 0.16);
      });
    } catch (_) { /* no sound is not an error */ }
  }

  function alertEscalation(s, reason) {
    if (!state.notify) return;
    beep();
    if (!('Notification' in window) || window.Notification.permission !== 'granted') return;
    try {
      const why = reason ? humanize(reason) : 'needs a person';
      const preview = s.last_message && s.last_message.content ? '\n' + String(s.last_message.content) : '';
      const n = new window.Notification(`Escalated: ${customerName(s)}`, {
        body: `Reason: ${why}${preview}`,
        tag: 'supportdesk-escalation-' + keyOf(s.id),
      });
      n.onclick = () => {
        try { window.focus(); } catch (_) { /* ignore */ }
        joinSession(keyOf(s.id));
        n.close();
      };
    } catch (_) { /* some browsers only allow notifications from a service worker */ }
  }

  function onNotifyToggle() {
    state.notify = el.notifyToggle.checked;
    saveNotifyPref(state.notify);
    if (!state.notify) return;
    unlockAudio(); // a user gesture: the audio context may start now
    if ('Notification' in window && window.Notification.permission === 'default') {
      try {
        const p = window.Notification.requestPermission();
        if (p && typeof p.then === 'function') p.then(notifyPermissionHint, () => {});
      } catch (_) { /* old callback-only API: ignore */ }
    } else {
      notifyPermissionHint();
    }
  }

  function notifyPermissionHint() {
    if ('Notification' in window && window.Notification.permission === 'denied') {
      showNotice('Desktop notifications are blocked by the browser; only the sound will play.', { tone: 'info' });
    }
  }

  // ---------------------------------------------------------------------------
  // Conversation: join / leave / state
  // ---------------------------------------------------------------------------

  function newConversation(id, summary) {
    return {
      id,                    // as the server spells it (sent back verbatim)
      key: keyOf(id),
      info: summary ? Object.assign({}, summary) : { id },
      lastSeq: 0,            // highest seq received in order: the resume point after a reconnect
      seqs: new Set(),
      ids: new Set(),
      joined: false,
      peerReadSeq: 0,
      readSent: 0,
    };
  }

  // contact-panel.js opens a contact's earlier conversation through this.
  window.supportdeskConsole = { joinSession: (id) => joinSession(keyOf(id)) };

  function joinSession(key) {
    if (!key) return;
    const cur = state.current;
    if (cur && cur.key === key) {
      root.classList.add('show-conversation');
      return;
    }
    const summary = state.sessions.get(key);
    if (cur) {
      saveDraft();
      stopTyping();
      queueCtrl({ type: 'leave', session_id: cur.id });
    }
    closeMenu();
    const conv = newConversation(summary ? summary.id : key, summary);
    state.current = conv;
    state.alerts.delete(key);
    resetTranscript();
    el.loading.hidden = false;
    state.mode = isMine(conv.info) ? 'reply' : 'note';
    el.input.value = state.drafts.get(key) || '';
    queueCtrl({ type: 'join', session_id: conv.id, last_seq: 0 });
    root.classList.add('show-conversation', 'has-conversation');
    renderConversationState();
    for (const [k, li] of inboxItems) {
      li.classList.toggle('is-active', k === key);
      if (k === key) li.setAttribute('aria-current', 'true');
      else li.removeAttribute('aria-current');
    }
    updateAlerts();
    fixRovingTabindex();
    autoGrow();
    updateComposer();
  }

  function resetTranscript() {
    el.transcript.textContent = '';
    setCustomerTyping(false);
    el.jump.hidden = true;
    state.stickToBottom = true;
    // Pending messages of this session stay in the outbox (they'll be acked) but their bubbles go.
    for (const p of state.outbox.values()) p.el = null;
  }

  function saveDraft() {
    const cur = state.current;
    if (!cur) return;
    const text = el.input.value;
    if (text.trim()) state.drafts.set(cur.key, text);
    else state.drafts.delete(cur.key);
  }

  function applyCurrentInfo(partial) {
    const cur = state.current;
    if (!cur || !partial) return;
    const wasMine = isMine(cur.info);
    cur.info = Object.assign({}, cur.info, pickSessionFields(partial));
    const mine = isMine(cur.info);
    if (mine && !wasMine) state.mode = 'reply'; // just took over: replying is what comes next
    if (!mine && state.mode === 'reply') state.mode = 'note';
    if (isClosed(cur.info)) {
      stopTyping();
      setCustomerTyping(false);
      closeMenu();
    }
    renderConversationState();
  }

  function renderConversationState() {
    const cur = state.current;
    const info = cur ? cur.info : null;
    el.conversation.dataset.sessionId = cur ? cur.key : '';
    el.convEmpty.hidden = !!cur;
    el.detailsSession.hidden = !cur;

    const closed = !cur || isClosed(info);
    const mine = isMine(info);
    const human = isHuman(info);
    const blocked = state.forbidden;

    if (cur) {
      const a = assigneeOf(info);
      el.convCustomer.textContent = customerName(info);
      el.status.textContent = info.status || '';
      el.status.dataset.status = info.status || '';
      el.assignee.textContent = a ? (sameId(a.id, state.me.id) ? `${a.name} (you)` : a.name) : 'Unassigned';
      el.assignee.dataset.assigned = a ? 'true' : 'false';
    } else {
      el.convCustomer.textContent = '—';
      el.status.textContent = '';
      el.status.dataset.status = '';
      el.assignee.textContent = 'Unassigned';
    }

    el.takeOver.disabled = blocked || !cur || closed || mine;
    el.release.disabled = blocked || !cur || closed || !human;
    el.closeBtn.disabled = blocked || !cur || closed;
    el.assignSelect.disabled = blocked || !cur || closed;
    renderAssignOptions();
    el.assignBtn.disabled = blocked || !cur || closed || !el.assignSelect.value;
    if (root.classList.contains('is-busy')) {
      el.takeOver.disabled = el.release.disabled = el.closeBtn.disabled = el.assignBtn.disabled = true;
    }

    // Composer: notes unless closed; replies only for the agent handling the conversation.
    if (state.mode === 'reply' && !mine) state.mode = 'note';
    el.modeReply.disabled = blocked || closed || !mine;
    el.modeNote.disabled = blocked || closed;
    el.modeReply.checked = state.mode === 'reply';
    el.modeNote.checked = state.mode === 'note';
    el.composer.dataset.mode = state.mode;
    el.input.disabled = blocked || closed;
    el.cannedBtn.disabled = blocked || closed;
    el.composer.classList.toggle('is-disabled', blocked || closed);

    let hint = '';
    if (!cur) hint = '';
    else if (isClosed(info)) hint = 'This conversation is closed.';
    else if (!mine) hint = human ? `Take over to reply (${(assigneeOf(info) || { name: 'another agent' }).name} is handling it). Notes stay internal.` : 'Take over to reply. Notes stay internal.';
    else if (state.mode === 'note') hint = 'Internal note: only your team sees it.';
    el.modeHint.textContent = hint;
    el.modeHint.hidden = !hint;

    if (!cur) el.input.placeholder = 'Select a conversation first';
    else if (isClosed(info)) el.input.placeholder = 'Conversation closed';
    else if (state.mode === 'note') el.input.placeholder = 'Write an internal note…';
    else el.input.placeholder = `Reply to ${customerName(info)}…`;

    updateComposer();
    renderDetails();
  }

  function renderAssignOptions() {
    const select = el.assignSelect;
    const previous = select.value;
    const others = state.agents.filter((a) => !sameId(a.id, state.me.id));
    const cur = state.current;
    const assignee = cur ? assigneeOf(cur.info) : null;
    const online = others.filter((a) => a.online);
    const offline = others.filter((a) => !a.online);
    const build = (a) => {
      const opt = h('option', { value: String(a.id), text: a.name || `Agent ${a.id}` });
      if (assignee && sameId(assignee.id, a.id)) opt.disabled = true; // already theirs
      return opt;
    };
    const nodes = [h('option', { value: '', text: others.length ? 'Assign to…' : 'No other agents' })];
    if (online.length) nodes.push(h('optgroup', { label: 'Online' }, ...online.map(build)));
    if (offline.length) nodes.push(h('optgroup', { label: 'Offline' }, ...offline.map(build)));
    // Rebuild only when something changed, so an open dropdown isn't disturbed needlessly.
    const signature = JSON.stringify([others.map((a) => [a.id, a.name, !!a.online]), assignee && assignee.id]);
    if (select.dataset.signature !== signature) {
      select.replaceChildren(...nodes);
      select.dataset.signature = signature;
      const still = Array.from(select.options).find((o) => o.value === previous && !o.disabled);
      select.value = still ? previous : '';
    }
  }

  function renderDetails() {
    const cur = state.current;
    if (!cur) return;
    const info = cur.info;
    const a = assigneeOf(info);
    el.detailName.textContent = customerName(info);
    el.detailEmail.textContent = '';
    if (info.customer_email) {
      el.detailEmail.append(h('a', { href: 'mailto:' + encodeURIComponent(String(info.customer_email)).replace(/%40/g, '@'), text: String(info.customer_email) }));
    } else {
      el.detailEmail.textContent = '—';
    }
    el.detailStatus.textContent = info.status || '—';
    el.detailHandled.textContent = isHuman(info) ? 'Human agent' : 'AI assistant';
    el.detailAssignee.textContent = a ? a.name : 'Unassigned';
    el.detailCreated.textContent = formatDateTime(info.created_at);
    el.detailActivity.textContent = formatDateTime(info.last_activity_at);
    el.detailClosedRow.hidden = !info.closed_at;
    el.detailClosed.textContent = formatDateTime(info.closed_at);
    // The contact (attributes, earlier conversations) lives in its own module: contact-panel.js.
    if (window.supportdeskContactPanel) window.supportdeskContactPanel.show(cur.key, info);

    const csat = Number(info.csat);
    const rated = Number.isInteger(csat) && csat >= 1 && csat <= 5;
    el.csat.hidden = !rated;
    el.csat.textContent = rated ? String(csat) : '';
    el.csatStars.hidden = !rated;
    el.csatNone.hidden = rated;
    if (rated) {
      el.csatStars.replaceChildren(...[1, 2, 3, 4, 5].map((n) => h('span', { class: n <= csat ? 'star is-lit' : 'star', text: '★' })));
      el.csat.setAttribute('aria-label', `${csat} out of 5`);
    }
  }

  function renderAgents() {
    const online = state.agents.filter((a) => a.online);
    online.sort((a, b) => (sameId(a.id, state.me.id) ? -1 : sameId(b.id, state.me.id) ? 1 : String(a.name).localeCompare(String(b.name))));
    el.agentsOnline.replaceChildren(...online.map((a) => h('li', { class: 'agent', dataset: { userId: String(a.id) } },
      h('span', { class: 'presence-dot', 'aria-hidden': 'true' }),
      h('span', { class: 'agent-name', text: a.name || `Agent ${a.id}` }),
      sameId(a.id, state.me.id) ? h('span', { class: 'agent-you', text: '(you)' }) : null)));
    el.agentsEmpty.hidden = online.length > 0;
    renderAssignOptions();
    if (state.current) el.assignBtn.disabled = el.assignSelect.disabled || !el.assignSelect.value;
  }

  // ---------------------------------------------------------------------------
  // Actions
  // ---------------------------------------------------------------------------

  function doAction(type, extra) {
    const cur = state.current;
    if (!cur) return;
    if (!isOnline()) {
      showNotice("You're offline. Try again once the console has reconnected.");
      return;
    }
    queueCtrl(Object.assign({ type, session_id: cur.id }, extra || {}));
    setBusy();
  }

  // Action buttons wait for the server's answer (a session frame or an error) to avoid double clicks.
  function setBusy() {
    root.classList.add('is-busy');
    clearTimeout(state.busyTimer);
    state.busyTimer = setTimeout(clearBusy, ACTION_BUSY_MS);
    renderConversationState();
  }

  function clearBusy() {
    clearTimeout(state.busyTimer);
    state.busyTimer = null;
    if (!root.classList.contains('is-busy')) return;
    root.classList.remove('is-busy');
    renderConversationState();
  }

  // ---------------------------------------------------------------------------
  // Messages
  // ---------------------------------------------------------------------------

  function receiveMessage(m) {
    const cur = state.current;
    if (!cur) return;
    if (m.session_id !== undefined && m.session_id !== null && keyOf(m.session_id) !== cur.key) return;
    const seq = toSeq(m.seq);
    const role = ROLES.has(m.role) ? m.role : 'system';
    // Message frames arrive in seq order, so this is a safe resume point (acks are not).
    if (seq !== null && seq > cur.lastSeq) cur.lastSeq = seq;

    if (m.client_msg_id && state.outbox.has(String(m.client_msg_id))) {
      confirmPending(String(m.client_msg_id), seq, m.id, m);
      return;
    }
    if (internalOf(m)) state.noteRole = role; // how this server files notes (for optimistic bubbles)
    if ((seq !== null && cur.seqs.has(seq)) || (m.id !== null && m.id !== undefined && cur.ids.has(String(m.id)))) {
      // Already shown. An optimistic bubble confirmed by its ack is swapped for the server's rendering.
      const local = seq !== null ? el.transcript.querySelector(`li[data-seq="${seq}"][data-local]`) : null;
      if (local) {
        local.replaceWith(buildMessage(m, role));
        updateSeen();
      }
      return;
    }

    if (role === 'customer') setCustomerTyping(false);
    const li = buildMessage(m, role);
    insertBySeq(li, seq);
    markRendered(seq, m.id);
    afterRender();
  }

  function authorLabel(m, role) {
    if (role === 'customer') return customerName(state.current && state.current.info);
    if (role === 'assistant') return 'AI assistant';
    const a = m.author;
    if (a && sameId(a.id, state.me.id)) return (a.name || state.me.name || 'You') + ' (you)';
    return (a && a.name) || 'Agent';
  }

  const internalOf = (m) => m.internal === true || m.internal === 'true';

  function buildMessage(m, role) {
    const internal = internalOf(m);
    const li = h('li', { class: `msg msg-${role}${internal ? ' msg-note' : ''}`, dataset: { role } });
    const seq = toSeq(m.seq);
    if (seq !== null) li.dataset.seq = String(seq);
    if (m.id !== null && m.id !== undefined) li.dataset.id = String(m.id);
    if (m.client_msg_id) li.dataset.clientMsgId = String(m.client_msg_id);

    const content = h('div', { class: 'msg-content', text: typeof m.content === 'string' ? m.content : '' });
    const metadata = m.metadata && typeof m.metadata === 'object' ? m.metadata : {};

    if (metadata.event) li.dataset.event = String(metadata.event);
    if (role === 'system' && !internal) {
      li.append(content);
      const reasons = reasonsEl(metadata);
      if (reasons) li.append(reasons);
      li.append(h('div', { class: 'msg-meta' }, timeEl(m.created_at)));
      return li;
    }

    li.append(h('div', { class: 'msg-author' },
      internal ? h('span', { class: 'note-tag', text: 'Note' }) : null,
      h('span', { class: 'msg-author-name', text: authorLabel(m, role) })));
    li.append(h('div', { class: 'msg-bubble' }, content));

    if (role === 'assistant') {
      const sources = C.sourcesEl(m.sources, true);
      if (sources) li.append(sources);
    }
    const reasons = reasonsEl(metadata);
    if (reasons) li.append(reasons);

    const meta = h('div', { class: 'msg-meta' }, timeEl(m.created_at));
    const pct = role === 'assistant' ? C.confidencePct(m.confidence) : null;
    if (pct !== null) {
      const low = m.requires_escalation || pct < 50;
      meta.append(h('span', { class: 'msg-confidence-wrap' + (low ? ' is-low' : '') },
        h('span', { class: 'msg-confidence-label', text: 'Confidence ' }),
        h('span', { class: 'msg-confidence', text: `${pct}%` })));
    }
    if (role === 'assistant' && m.requires_escalation && !reasons) {
      meta.append(h('span', { class: 'msg-flag', text: 'handed over' }));
    }
    li.append(meta);
    return li;
  }

  function reasonsEl(metadata) {
    const reasons = Array.isArray(metadata.reasons) ? metadata.reasons.filter((r) => r !== null && r !== undefined && r !== '') : [];
    if (!reasons.length) return null;
    return h('div', { class: 'msg-reasons', text: 'handed over: ' + reasons.map(String).join(', ') });
  }

  function timeEl(iso) {
    return C.timeEl(iso, true);
  }

  // Stored messages in seq order; unsequenced ones (still sending) stay at the bottom.
  function insertBySeq(li, seq) {
    C.insertBySeq(el.transcript, li, seq);
  }

  function markRendered(seq, id) {
    const cur = state.current;
    if (!cur) return;
    if (seq !== null) cur.seqs.add(seq);
    if (id !== null && id !== undefined) cur.ids.add(String(id));
  }

  function afterRender() {
    if (state.stickToBottom) queueScrollToBottom();
    else el.jump.hidden = false;
    scheduleRead();
    updateSeen();
  }

  // "Seen" under the newest reply the customer has read.
  function updateSeen() {
    const cur = state.current;
    C.markSeen(el.transcript, 'li.msg-agent[data-seq]:not(.msg-note), li.msg-assistant[data-seq]', cur && cur.peerReadSeq);
  }

  // ---------------------------------------------------------------------------
  // Outgoing (optimistic render + outbox)
  // ---------------------------------------------------------------------------

  function queueOutgoing(kind, content) {
    const cur = state.current;
    const cid = newClientId();
    const role = kind === 'note' ? state.noteRole : 'agent';
    const li = h('li', {
      class: `msg msg-${role} is-pending${kind === 'note' ? ' msg-note' : ''}`,
      dataset: { role, clientMsgId: cid, local: 'true' },
    },
    h('div', { class: 'msg-author' },
      kind === 'note' ? h('span', { class: 'note-tag', text: 'Note' }) : null,
      h('span', { class: 'msg-author-name', text: (state.me.name || 'You') + ' (you)' })),
    h('div', { class: 'msg-bubble' }, h('div', { class: 'msg-content', text: content })),
    h('div', { class: 'msg-meta' }, timeEl(null), h('span', { class: 'msg-status', text: 'Sending…' })));
    el.transcript.appendChild(li);
    state.outbox.set(cid, { cid, sessionId: cur.id, sessionKey: cur.key, kind, content, status: 'queued', el: li });
    state.stickToBottom = true;
    queueScrollToBottom();
    flushOutbox();
  }

  function flushOutbox() {
    clearTimeout(state.flushTimer);
    state.flushTimer = null;
    if (!isOnline()) return;
    for (const p of state.outbox.values()) {
      if (p.status !== 'queued') continue;
      const frame = { type: p.kind === 'note' ? 'note' : 'message', session_id: p.sessionId, content: p.content, client_msg_id: p.cid };
      if (!sendFrame(frame)) {
        if (isOnline()) state.flushTimer = setTimeout(flushOutbox, budgetWaitMs());
        return;
      }
      setPendingStatus(p, 'sending');
    }
  }

  function setPendingStatus(p, status) {
    p.status = status;
    const li = p.el;
    if (!li) return;
    li.classList.toggle('is-failed', status === 'failed');
    const retry = li.querySelector('.msg-retry');
    if (retry && status !== 'failed') retry.remove();
    const statusEl = li.querySelector('.msg-status');
    if (statusEl && status !== 'failed') statusEl.textContent = 'Sending…';
  }

  function markFailed(p, label, canRetry) {
    setPendingStatus(p, 'failed');
    const li = p.el;
    if (!li) {
      state.outbox.delete(p.cid);
      return;
    }
    const statusEl = li.querySelector('.msg-status');
    if (statusEl) statusEl.textContent = label;
    const meta = li.querySelector('.msg-meta');
    if (meta && !li.querySelector('.msg-retry')) {
      if (canRetry) {
        const btn = h('button', { type: 'button', class: 'msg-retry', text: 'Retry' });
        btn.addEventListener('click', () => {
          setPendingStatus(p, 'queued');
          flushOutbox();
        });
        meta.append(btn);
      }
      const discard = h('button', { type: 'button', class: 'msg-retry msg-discard', text: 'Discard' });
      discard.addEventListener('click', () => {
        state.outbox.delete(p.cid);
        li.remove();
      });
      meta.append(discard);
    }
  }

  function confirmPending(cid, seq, id, message) {
    const p = state.outbox.get(cid);
    if (!p) return;
    state.outbox.delete(cid);
    const li = p.el;
    const cur = state.current;
    if (!li || !li.isConnected || !cur || cur.key !== p.sessionKey) return; // conversation switched meanwhile
    if (seq !== null && cur.seqs.has(seq)) { // already shown via another path
      li.remove();
      return;
    }
    if (message) {
      const fresh = buildMessage(message, ROLES.has(message.role) ? message.role : 'system');
      li.replaceWith(fresh);
      if (seq !== null) {
        fresh.remove();
        insertBySeq(fresh, seq);
      }
      markRendered(seq, id);
      afterRender();
      return;
    }
    li.classList.remove('is-pending', 'is-failed');
    if (seq !== null) li.dataset.seq = String(seq);
    if (id !== null && id !== undefined) li.dataset.id = String(id);
    for (const n of li.querySelectorAll('.msg-status, .msg-retry')) n.remove();
    if (seq !== null) {
      li.remove();
      insertBySeq(li, seq);
    }
    markRendered(seq, id);
    afterRender();
  }

  function attributeError(f, code) {
    let p = f.client_msg_id ? state.outbox.get(String(f.client_msg_id)) : null;
    if (!p && ['too_long', 'rate_limited', 'invalid_field', 'session_closed', 'not_assigned'].includes(code)) {
      for (const candidate of state.outbox.values()) {
        if (candidate.status !== 'sending') continue;
        if (f.session_id && keyOf(f.session_id) !== candidate.sessionKey) continue;
        p = candidate; // the most recent one in flight
      }
    }
    if (!p) return;
    const labels = {
      too_long: 'Not sent: too long',
      not_assigned: 'Not sent: take over to reply',
      session_closed: 'Not sent: conversation closed',
    };
    const canRetry = code === 'rate_limited' || code === 'invalid_field' || code === 'not_assigned';
    markFailed(p, labels[code] || 'Not sent', canRetry);
  }

  // ---------------------------------------------------------------------------
  // Composer
  // ---------------------------------------------------------------------------

  function submitComposer() {
    const cur = state.current;
    const content = el.input.value.trim();
    if (!cur || !content) return;
    if (state.forbidden) return;
    if (isClosed(cur.info)) {
      showNotice('This conversation is closed.');
      return;
    }
    if (charCount(content) > config.maxChars) {
      showNotice(`Too long: keep it under ${config.maxChars.toLocaleString()} characters.`);
      return;
    }
    if (state.mode === 'reply' && !isMine(cur.info)) {
      showNotice('Take over the conversation to reply to the customer.');
      return;
    }
    queueOutgoing(state.mode === 'reply' ? 'message' : 'note', content);
    el.input.value = '';
    state.drafts.delete(cur.key);
    stopTyping();
    closeMenu();
    autoGrow();
    updateComposer();
  }

  function autoGrow() {
    el.input.style.height = 'auto';
    el.input.style.height = Math.min(Math.max(el.input.scrollHeight, 44), 220) + 'px';
  }

  function updateComposer() {
    const count = charCount(el.input.value.trim());
    const over = count > config.maxChars;
    const near = count >= Math.floor(config.maxChars * COUNTER_THRESHOLD);
    el.counter.hidden = !near;
    el.counter.textContent = near ? `${count.toLocaleString()} / ${config.maxChars.toLocaleString()}${over ? ' (too long)' : ''}` : '';
    el.counter.classList.toggle('is-over', over);
    if (over) el.input.setAttribute('aria-invalid', 'true');
    else el.input.removeAttribute('aria-invalid');
    const cur = state.current;
    el.send.disabled = state.forbidden || !cur || isClosed(cur.info) || over || (state.mode === 'reply' && !isMine(cur.info));
    el.send.textContent = state.mode === 'note' ? 'Add note' : 'Send';
  }

  function setMode(mode) {
    const cur = state.current;
    if (mode === 'reply' && !(cur && isMine(cur.info))) mode = 'note';
    if (mode !== state.mode) stopTyping();
    state.mode = mode;
    renderConversationState();
  }

  function noteTyping() {
    const cur = state.current;
    if (!cur || state.mode !== 'reply' || !isMine(cur.info) || !el.input.value.trim() || el.input.value.startsWith('/')) {
      stopTyping();
      return;
    }
    const now = Date.now();
    if (!state.typingSent || now - state.typingSentAt >= TYPING_THROTTLE_MS) {
      if (sendFrame({ type: 'typing', session_id: cur.id, is_typing: true })) {
        state.typingSent = true;
        state.typingSentAt = now;
        state.typingSessionId = cur.id;
      }
    }
    clearTimeout(state.typingIdleTimer);
    state.typingIdleTimer = setTimeout(stopTyping, TYPING_IDLE_MS);
  }

  function stopTyping() {
    clearTimeout(state.typingIdleTimer);
    state.typingIdleTimer = null;
    if (state.typingSent) {
      sendFrame({ type: 'typing', session_id: state.typingSessionId, is_typing: false });
      state.typingSent = false;
    }
  }

  function setCustomerTyping(on) {
    clearTimeout(state.peerTypingTimer);
    el.typing.hidden = !on;
    if (on) {
      state.peerTypingTimer = setTimeout(() => { el.typing.hidden = true; }, PEER_TYPING_TTL_MS);
      if (state.stickToBottom) queueScrollToBottom();
    }
  }

  // ---------------------------------------------------------------------------
  // Canned responses
  // ---------------------------------------------------------------------------

  function cannedMatches(query) {
    const q = query.toLowerCase();
    const list = state.canned.filter((c) => !q ||
      String(c.shortcut || '').toLowerCase().includes(q) || String(c.title || '').toLowerCase().includes(q));
    // Shortcuts that start with the query come first.
    return list.sort((a, b) => {
      const sa = String(a.shortcut || '').toLowerCase().startsWith(q) ? 0 : 1;
      const sb = String(b.shortcut || '').toLowerCase().startsWith(q) ? 0 : 1;
      return sa - sb;
    });
  }

  function openMenu(query, slash) {
    state.menu = { open: true, items: cannedMatches(query), active: 0, slash };
    renderMenu(query);
  }

  function closeMenu() {
    if (!state.menu.open && el.menu.hidden) return;
    state.menu = { open: false, items: [], active: 0, slash: false };
    el.menu.hidden = true;
    el.menu.textContent = '';
    el.input.setAttribute('aria-expanded', 'false');
    el.input.removeAttribute('aria-activedescendant');
    el.cannedBtn.setAttribute('aria-expanded', 'false');
  }

  function renderMenu(query) {
    const { items, active } = state.menu;
    el.menu.textContent = '';
    if (!items.length) {
      el.menu.append(h('li', { class: 'canned-empty', role: 'presentation',
        text: state.canned.length ? `No canned response matches “/${query}”.` : 'No canned responses yet.' }));
    }
    items.forEach((c, i) => {
      const li = h('li', {
        class: 'canned-item' + (i === active ? ' is-active' : ''),
        id: 'canned-option-' + i,
        role: 'option',
        'aria-selected': String(i === active),
        dataset: { shortcut: String(c.shortcut || ''), index: String(i) },
      },
      h('span', { class: 'canned-head' },
        h('span', { class: 'canned-shortcut', text: '/' + String(c.shortcut || '') }),
        h('span', { class: 'canned-title', text: String(c.title || '') })),
      h('span', { class: 'canned-body', text: String(c.body || '') }));
      el.menu.append(li);
    });
    el.menu.hidden = false;
    el.input.setAttribute('aria-expanded', 'true');
    el.cannedBtn.setAttribute('aria-expanded', 'true');
    if (items.length) el.input.setAttribute('aria-activedescendant', 'canned-option-' + active);
    else el.input.removeAttribute('aria-activedescendant');
  }

  function moveMenu(delta) {
    const n = state.menu.items.length;
    if (!n) return;
    state.menu.active = (state.menu.active + delta + n) % n;
    const items = el.menu.querySelectorAll('.canned-item');
    items.forEach((li, i) => {
      li.classList.toggle('is-active', i === state.menu.active);
      li.setAttribute('aria-selected', String(i === state.menu.active));
    });
    el.input.setAttribute('aria-activedescendant', 'canned-option-' + state.menu.active);
    const act = items[state.menu.active];
    if (act) act.scrollIntoView({ block: 'nearest' });
  }

  function insertCanned(c) {
    if (!c) return;
    const body = String(c.body || '');
    const value = el.input.value;
    if (state.menu.slash || /^\/\S*$/.test(value)) {
      el.input.value = body;
      el.input.setSelectionRange(body.length, body.length);
    } else {
      const start = el.input.selectionStart != null ? el.input.selectionStart : value.length;
      const end = el.input.selectionEnd != null ? el.input.selectionEnd : value.length;
      el.input.value = value.slice(0, start) + body + value.slice(end);
      const caret = start + body.length;
      el.input.setSelectionRange(caret, caret);
    }
    closeMenu();
    el.input.focus();
    autoGrow();
    updateComposer();
    noteTyping();
  }

  // "/" at the very start (one word, no spaces) opens and filters the menu.
  function syncMenuWithInput() {
    const m = /^\/(\S*)$/.exec(el.input.value);
    if (m && !el.input.disabled) openMenu(m[1], true);
    else if (state.menu.open) closeMenu();
  }

  // ---------------------------------------------------------------------------
  // Read receipts & scrolling
  // ---------------------------------------------------------------------------

  function scheduleRead() {
    clearTimeout(state.readTimer);
    state.readTimer = setTimeout(sendRead, 800);
  }

  function sendRead() {
    const cur = state.current;
    if (!cur || document.visibilityState !== 'visible') return;
    if (cur.lastSeq > cur.readSent && sendFrame({ type: 'read', session_id: cur.id, seq: cur.lastSeq })) {
      cur.readSent = cur.lastSeq;
    }
  }

  function isNearBottom() {
    return C.isNearBottom(el.scroll);
  }

  function queueScrollToBottom() {
    C.queueScrollToBottom(state, el.scroll, el.jump);
  }

  // ---------------------------------------------------------------------------
  // Wiring
  // ---------------------------------------------------------------------------

  function focusSearch() {
    el.search.focus();
    el.search.select();
  }

  function moveConversation(delta) {
    const items = Array.from(el.inbox.children);
    if (!items.length) return;
    const at = state.current ? items.findIndex((li) => li.dataset.sessionId === state.current.key) : -1;
    const next = items[Math.min(items.length - 1, Math.max(0, at + delta))];
    if (next) {
      joinSession(next.dataset.sessionId);
      next.scrollIntoView({ block: 'nearest' });
    }
  }

  function bindEvents() {
    // Inbox
    el.inbox.addEventListener('click', (e) => {
      const li = e.target.closest('.inbox-item');
      if (!li || !el.inbox.contains(li)) return;
      joinSession(li.dataset.sessionId);
    });
    el.inbox.addEventListener('keydown', (e) => {
      const li = e.target.closest('.inbox-item');
      if (!li) return;
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        joinSession(li.dataset.sessionId);
        el.input.focus();
      } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        const next = e.key === 'ArrowDown' ? li.nextElementSibling : li.previousElementSibling;
        if (next) {
          li.tabIndex = -1;
          next.tabIndex = 0;
          next.focus();
        } else if (e.key === 'ArrowUp') {
          el.search.focus();
        }
      }
    });
    for (const b of el.filters) b.addEventListener('click', () => setFilter(b.dataset.filter));
    el.search.addEventListener('input', () => {
      state.search = el.search.value;
      // Narrow what is shown now; the server's answer (debounced) fills in the rest.
      state.order = state.order.filter((k) => state.sessions.has(k) && inView(state.sessions.get(k)));
      renderInbox();
      clearTimeout(state.searchTimer);
      state.searchTimer = setTimeout(requestInbox, SEARCH_DEBOUNCE_MS);
    });
    el.search.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && el.search.value) {
        e.preventDefault();
        el.search.value = '';
        el.search.dispatchEvent(new Event('input'));
      } else if (e.key === 'ArrowDown' || e.key === 'Enter') {
        const first = el.inbox.firstElementChild;
        if (first) {
          e.preventDefault();
          if (e.key === 'Enter') joinSession(first.dataset.sessionId);
          else first.focus();
        }
      }
    });

    // Actions
    el.takeOver.addEventListener('click', () => doAction('take_over'));
    el.release.addEventListener('click', () => doAction('release'));
    el.closeBtn.addEventListener('click', () => {
      const cur = state.current;
      if (!cur) return;
      doAction('close');
    });
    el.assignSelect.addEventListener('change', () => {
      el.assignBtn.disabled = el.assignSelect.disabled || !el.assignSelect.value || root.classList.contains('is-busy');
    });
    el.assignBtn.addEventListener('click', () => {
      const value = el.assignSelect.value;
      if (!value) return;
      const agent = state.agents.find((a) => String(a.id) === value);
      doAction('assign', { user_id: agent ? agent.id : Number(value) });
      el.assignSelect.value = '';
    });
    el.convBack.addEventListener('click', () => root.classList.remove('show-conversation'));
    el.detailsToggle.addEventListener('click', () => {
      const open = root.classList.toggle('show-details');
      el.detailsToggle.setAttribute('aria-expanded', String(open));
    });

    // Composer
    el.composer.addEventListener('submit', (e) => {
      e.preventDefault();
      submitComposer();
      el.input.focus();
    });
    el.modeReply.addEventListener('change', () => { if (el.modeReply.checked) setMode('reply'); });
    el.modeNote.addEventListener('change', () => { if (el.modeNote.checked) setMode('note'); });
    el.input.addEventListener('keydown', (e) => {
      const composing = e.isComposing || e.keyCode === 229;
      if (state.menu.open) {
        if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
          e.preventDefault();
          moveMenu(e.key === 'ArrowDown' ? 1 : -1);
          return;
        }
        if ((e.key === 'Enter' || e.key === 'Tab') && !e.shiftKey && !composing && state.menu.items.length) {
          e.preventDefault();
          insertCanned(state.menu.items[state.menu.active]);
          return;
        }
        if (e.key === 'Escape') {
          e.preventDefault();
          closeMenu();
          return;
        }
      }
      if (e.key === 'Enter' && !e.shiftKey && !composing) {
        e.preventDefault();
        submitComposer();
      }
    });
    el.input.addEventListener('input', () => {
      autoGrow();
      updateComposer();
      syncMenuWithInput();
      noteTyping();
    });
    el.input.addEventListener('blur', () => {
      // Let a click on a menu item land before the menu goes away.
      setTimeout(() => {
        if (document.activeElement !== el.input && !el.menu.contains(document.activeElement) &&
            document.activeElement !== el.cannedBtn) closeMenu();
      }, 150);
    });
    el.menu.addEventListener('mousedown', (e) => e.preventDefault()); // keep focus in the textarea
    el.menu.addEventListener('click', (e) => {
      const li = e.target.closest('.canned-item');
      if (!li) return;
      insertCanned(state.menu.items[Number(li.dataset.index)]);
    });
    el.cannedBtn.addEventListener('click', () => {
      if (state.menu.open) {
        closeMenu();
        el.input.focus();
        return;
      }
      if (!el.input.value) {
        el.input.value = '/';
        el.input.focus();
        el.input.setSelectionRange(1, 1);
        openMenu('', true);
      } else {
        el.input.focus();
        openMenu('', false);
      }
    });

    // Transcript
    el.scroll.addEventListener('scroll', () => {
      state.stickToBottom = isNearBottom();
      if (state.stickToBottom) el.jump.hidden = true;
    }, { passive: true });
    el.jump.addEventListener('click', () => {
      state.stickToBottom = true;
      queueScrollToBottom();
    });

    // Alerts
    el.notifyToggle.checked = state.notify;
    el.notifyToggle.addEventListener('change', onNotifyToggle);
    const unlock = () => {
      if (state.notify) unlockAudio();
      document.removeEventListener('pointerdown', unlock, true);
      document.removeEventListener('keydown', unlock, true);
    };
    document.addEventListener('pointerdown', unlock, true);
    document.addEventListener('keydown', unlock, true);

    // Global shortcuts
    document.addEventListener('keydown', (e) => {
      if ((e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey && (e.key === 'k' || e.key === 'K')) {
        e.preventDefault();
        focusSearch();
      } else if (e.altKey && !e.ctrlKey && !e.metaKey && (e.key === 'ArrowDown' || e.key === 'ArrowUp')) {
        e.preventDefault();
        moveConversation(e.key === 'ArrowDown' ? 1 : -1);
      }
    });

    window.addEventListener('resize', () => { if (state.stickToBottom) queueScrollToBottom(); });
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState !== 'visible') return;
      sendRead();
      checkIdle();
      reconnectNow();
    });
    window.addEventListener('online', reconnectNow);
    window.addEventListener('offline', () => { if (!state.ready) setConn('offline'); });
    window.addEventListener('beforeunload', () => saveDraft());
  }

  state.notify = loadNotifyPref();
  bindEvents();
  renderConversationState();
  renderInbox();
  setInterval(refreshWaitTimes, WAIT_REFRESH_MS);
  connect();
})();

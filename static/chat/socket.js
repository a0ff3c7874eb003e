// The customer socket /ws/sessions/{id}/: connect and auth, reconnect with backoff, heartbeat, rejects, the client-side frame budget.
import * as C from '../common/realtime.js';
import {
  BACKOFF_MAX_MS, BACKOFF_MIN_MS, FRAME_BUDGET, LOW_PRIORITY_BUDGET, LOW_PRIORITY_TYPES, backoff,
} from '../common/realtime.js';
import { handleFrame } from './frames.js';
import { dropStreams } from './messages.js';
import { setPendingStatus } from './outbox.js';
import { abandonSession, startNewSession } from './session.js';
import { SESSION_REJECT_CODES, isValidSession, state } from './state.js';
import { setAgentThinking, setConn, setPeerTyping } from './status.js';

// Always the page's own host: the socket must hit the same origin the session cookie/CSRF belong to.
export function socketUrl(id) {
  const proto = location.protocol === 'https:' ? 'wss' : 'ws';
  return `${proto}://${location.host}/ws/sessions/${id}/`;
}

export function connect() {
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
export function teardownSocket() {
  stopHeartbeat();
  const ws = state.ws;
  state.ws = null;
  state.authed = false;
  state.wsGen++;
  C.closeSocket(ws);
}

export function onSocketClosed(code) {
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

export function scheduleReconnect() {
  C.scheduleReconnect(state, connect, () => setConn(navigator.onLine === false ? 'offline' : 'reconnecting'));
}

export function reconnectNow() {
  if (state.closed || !state.session) return;
  C.reconnectNow(state, connect);
}

export function startHeartbeat() {
  C.startHeartbeat(state, () => sendFrame({ type: 'ping' }), checkIdle);
}

export function stopHeartbeat() {
  C.stopHeartbeat(state);
}

export function checkIdle() {
  if (C.isIdle(state)) {
    // Don't wait for a close handshake that may never come.
    onSocketClosed(4000);
  }
}

// Only auth may go out before "ready"; everything else would be refused by the server.
export function sendFrame(frame, beforeAuth) {
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

export function takeFrameBudget(limit) {
  return C.takeFrameBudget(state.sentAt, limit);
}

// Time until the budget frees a slot, so a throttled outbox flush can resume by itself.
export function budgetWaitMs() {
  return C.budgetWaitMs(state.sentAt, 0);
}

// The customer socket /ws/sessions/{id}/: connect and auth, reconnect with backoff, heartbeat, rejects, the client-side frame budget.
import * as C from '../common/realtime.js';
import {
  backoff, BACKOFF_MAX_MS, BACKOFF_MIN_MS, frameLimit, openSocket, socketUrl,
} from '../common/realtime.js';
import { setPendingStatus } from '../common/ui.js';
import { handleFrame } from './frames.js';
import { dropStreams } from './messages.js';
import { abandonSession, startNewSession } from './session.js';
import { isValidSession, mayWrite, SESSION_REJECT_CODES, state } from './state.js';
import { setAgentThinking, setConn, setPeerTyping } from './status.js';

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

  const ws = openSocket(state, socketUrl(`/ws/sessions/${s.id}/`), {
    // Resume from what this page already shows; the server replays everything newer.
    onOpen: () => sendFrame({ type: 'auth', token: s.token, last_seq: state.lastSeq }, true),
    onFrame: handleFrame,
    onClose: onSocketClosed,
  });
  if (ws) startHeartbeat();
  else scheduleReconnect();
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

  if (!mayWrite()) { // closed for good: nothing more to receive or send
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
  if (!mayWrite() || !state.session) return;
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
  if (!takeFrameBudget(beforeAuth ? Infinity : frameLimit(frame.type))) {
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

// The /ws/agent/ socket: connect, reconnect with backoff, heartbeat, the client-side frame budget and the ordered control-frame queue.
import * as C from '../common/realtime.js';
import { FRAME_BUDGET, LOW_PRIORITY_BUDGET, LOW_PRIORITY_TYPES } from '../common/realtime.js';
import { clearBusy } from './actions.js';
import { setCustomerTyping } from './composer.js';
import { renderConversationState } from './conversation.js';
import { handleFrame } from './frames.js';
import { setConn, showNotice } from './notice.js';
import { setPendingStatus } from './outbox.js';
import { FORBIDDEN_CLOSE, config, root, state } from './state.js';

export function socketUrl() {
  const proto = location.protocol === 'https:' ? 'wss' : 'ws';
  return `${proto}://${location.host}${config.wsPath}`;
}

export function connect() {
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

export function teardownSocket() {
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

export function onSocketClosed(code) {
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

export function scheduleReconnect() {
  if (state.forbidden) return;
  C.scheduleReconnect(state, connect, () =>
    setConn(navigator.onLine === false || !state.everOnline && state.attempts > 3 ? 'offline' : 'reconnecting'));
}

export function reconnectNow() {
  if (state.forbidden) return;
  C.reconnectNow(state, connect);
}

export function startHeartbeat() {
  C.startHeartbeat(state, () => { if (state.ready) sendFrame({ type: 'ping' }); }, checkIdle);
}

export function stopHeartbeat() {
  C.stopHeartbeat(state);
}

export function checkIdle() {
  if (C.isIdle(state)) onSocketClosed(4000);
}

export const isOnline = () => !!state.ws && state.ws.readyState === WebSocket.OPEN && state.ready;

export function sendFrame(frame) {
  if (!isOnline()) return false;
  if (!takeFrameBudget(LOW_PRIORITY_TYPES.has(frame.type) ? LOW_PRIORITY_BUDGET : FRAME_BUDGET)) return false;
  try {
    state.ws.send(JSON.stringify(frame));
    return true;
  } catch (_) {
    return false;
  }
}

export function takeFrameBudget(limit) {
  return C.takeFrameBudget(state.sentAt, limit);
}

export function budgetWaitMs() {
  return C.budgetWaitMs(state.sentAt, 20);
}

// Control frames go out in order; when over budget they wait instead of being dropped.
export function queueCtrl(frame) {
  if (!isOnline()) return false;
  if (frame.type === 'inbox') state.ctrlQueue = state.ctrlQueue.filter((f) => f.type !== 'inbox');
  state.ctrlQueue.push(frame);
  flushCtrl();
  return true;
}

export function flushCtrl() {
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

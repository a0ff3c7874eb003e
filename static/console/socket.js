// The /ws/agent/ socket: connect, reconnect with backoff, heartbeat, the client-side frame budget and the ordered control-frame queue.
import * as C from '../common/realtime.js';
import { frameLimit, openSocket, socketUrl } from '../common/realtime.js';
import { setPendingStatus } from '../common/ui.js';
import { clearBusy } from './actions.js';
import { setCustomerTyping } from './composer.js';
import { renderConversationState } from './conversation.js';
import { handleFrame } from './frames.js';
import { setConn, showNotice } from './notice.js';
import { config, FORBIDDEN_CLOSE, root, state } from './state.js';

export function connect() {
  if (state.forbidden) return;
  clearTimeout(state.reconnectTimer);
  state.reconnectTimer = null;
  teardownSocket();
  setConn(state.everOnline ? 'reconnecting' : 'connecting');

  const ws = openSocket(state, socketUrl(config.wsPath), {
    onOpen: () => {}, // the session cookie authenticates: wait for "ready"
    onFrame: handleFrame,
    onClose: onSocketClosed,
  });
  if (ws) startHeartbeat();
  else scheduleReconnect();
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
  if (!takeFrameBudget(frameLimit(frame.type))) return false;
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

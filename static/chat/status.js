// Status on screen: read receipts, the assistant-thinking and agent-typing indicators, the status banner, the notice and the connection pill.
import { setConnPill, showPeerTyping } from '../common/ui.js';
import { queueScrollToBottom } from './messages.js';
import { sendFrame } from './socket.js';
import { el, state } from './state.js';

export function scheduleRead() {
  clearTimeout(state.readTimer);
  state.readTimer = setTimeout(sendRead, 1000); // coalesce a replay burst or a streamed reply into one frame
}

export function sendRead() {
  if (document.visibilityState !== 'visible') return;
  if (state.lastSeq > state.readSeqSent && sendFrame({ type: 'read', seq: state.lastSeq })) {
    state.readSeqSent = state.lastSeq;
  }
}

export function setAgentThinking(on) {
  el.agentStatus.hidden = !on;
  if (on && state.stickToBottom) queueScrollToBottom();
}

export function setPeerTyping(on) {
  showPeerTyping(state, el.typing, on, () => { if (state.stickToBottom) queueScrollToBottom(); });
}

export function setStatusNotice(text) {
  el.statusNotice.hidden = !text;
  el.statusNotice.textContent = text;
}

// Keyed so that e.g. a "retrying" notice can be cleared without wiping an unrelated error.
export function showNotice(text, { key = '', tone = 'error' } = {}) {
  el.notice.hidden = false;
  el.notice.dataset.key = key;
  el.notice.dataset.tone = tone;
  el.noticeText.textContent = text;
}

export function clearNotice(key) {
  if (key !== undefined && el.notice.dataset.key !== key) return;
  el.notice.hidden = true;
  el.noticeText.textContent = '';
  el.notice.dataset.key = '';
}

export function setConn(conn) {
  if (state.conn === conn && el.pill.dataset.state === conn) return;
  state.conn = conn;
  setConnPill(el.pill, conn);
}


export function bindNotice() {
  el.noticeDismiss.addEventListener('click', () => clearNotice());
}

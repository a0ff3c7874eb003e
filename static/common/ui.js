// Shared by the customer chat and the agent console: the connection pill, the peer-typing indicator, the composer's counter and auto-grow, and a pending message's status.
import { charCount, isNearBottom, queueScrollToBottom } from './realtime.js';

export const CONN_TEXT = {
  connecting: 'Connecting…',
  online: 'Online',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
};

export const PEER_TYPING_TTL_MS = 10000; // hide "… is typing" if the "stopped" frame got lost
export const COUNTER_THRESHOLD = 0.8;    // show the character counter from 80 % of the limit

/** Show conn ("connecting" | "online" | "reconnecting" | "offline") on the pill: colour plus text. */
export function setConnPill(pill, conn) {
  pill.dataset.state = conn;
  pill.querySelector('.pill-text').textContent = CONN_TEXT[conn] || conn;
}

/** Show or hide the typing indicator; it hides itself after PEER_TYPING_TTL_MS (state.peerTypingTimer). */
export function showPeerTyping(state, indicator, on, onShown) {
  clearTimeout(state.peerTypingTimer);
  indicator.hidden = !on;
  if (on) {
    state.peerTypingTimer = setTimeout(() => { indicator.hidden = true; }, PEER_TYPING_TTL_MS);
    onShown();
  }
}

/** Update the "n / max" counter under input (shown from 80 % of max); return whether the text is over max. */
export function updateCharCounter(input, counter, maxChars) {
  const count = charCount(input.value.trim());
  const over = count > maxChars;
  const near = count >= Math.floor(maxChars * COUNTER_THRESHOLD);
  counter.hidden = !near;
  counter.textContent = near ? `${count.toLocaleString()} / ${maxChars.toLocaleString()}${over ? ' (too long)' : ''}` : '';
  counter.classList.toggle('is-over', over);
  if (over) input.setAttribute('aria-invalid', 'true');
  else input.removeAttribute('aria-invalid');
  return over;
}

/** Grow the textarea with its text, between min and max pixels. */
export function growTextarea(input, min, max) {
  input.style.height = 'auto';
  input.style.height = Math.min(Math.max(input.scrollHeight, min), max) + 'px';
}

// isComposing/229: an Enter that confirms an IME candidate must not send.
export const isComposing = (e) => e.isComposing || e.keyCode === 229;

/** Set an outgoing message's status (queued | sending | failed) and its bubble's "Sending…" line. */
export function setPendingStatus(p, status) {
  p.status = status;
  const li = p.el;
  if (!li) return; // the console dropped the bubble when its conversation was switched
  li.classList.toggle('is-failed', status === 'failed');
  const retry = li.querySelector('.msg-retry');
  if (retry && status !== 'failed') retry.remove();
  const statusEl = li.querySelector('.msg-status');
  if (statusEl && status !== 'failed') statusEl.textContent = 'Sending…';
}

/** Follow new messages while the reader is at the bottom of scroller; the jump button brings them back. */
export function followTranscript(state, scroller, jump, afterJump) {
  scroller.addEventListener('scroll', () => {
    state.stickToBottom = isNearBottom(scroller);
    if (state.stickToBottom) jump.hidden = true;
  }, { passive: true });
  jump.addEventListener('click', () => {
    state.stickToBottom = true;
    queueScrollToBottom(state, scroller, jump);
    if (afterJump) afterJump();
  });
}

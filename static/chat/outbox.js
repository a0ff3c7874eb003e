// Outgoing messages: optimistic bubbles, the outbox flushed within the frame budget, acks, failures and retry.
import { attachmentsEl } from '../common/attachments.js';
import { h, newClientId } from '../common/realtime.js';
import { setContent } from '../common/richtext.js';
import { setPendingStatus } from '../common/ui.js';
import { afterRender, insertBySeq, markRendered, timeEl } from './messages.js';
import { budgetWaitMs, sendFrame } from './socket.js';
import { el, mayWrite, state } from './state.js';

// attachments: upload ids sent with the frame; preview: their names, shown until the stored message's links arrive.
export function queueMessage(content, cid, attachments = [], preview = []) {
  const id = cid || newClientId();
  const files = preview.length
    ? h('ul', { class: 'msg-attachments is-pending-files' }, ...preview.map((f) => h('li', { class: 'att att-file', text: f.name })))
    : null;
  const li = h('li', {
    class: 'msg msg-customer is-pending',
    dataset: { role: 'customer', clientMsgId: id },
  },
  h('span', { class: 'visually-hidden', text: 'You said:' }),
  h('div', { class: 'msg-bubble' }, content ? h('div', { class: 'msg-content', text: content }) : null, files),
  h('div', { class: 'msg-meta' }, timeEl(null), h('span', { class: 'msg-status', text: 'Sending…' })));
  el.messages.appendChild(li);
  const p = { cid: id, content, attachments, status: 'queued', el: li };
  state.outbox.set(id, p);
  return p;
}

export function flushOutbox() {
  clearTimeout(state.flushTimer);
  state.flushTimer = null;
  if (!state.authed || !mayWrite()) return;
  for (const p of state.outbox.values()) {
    if (p.status !== 'queued') continue;
    const frame = { type: 'message', content: p.content, client_msg_id: p.cid };
    if (p.attachments && p.attachments.length) frame.attachments = p.attachments;
    if (!sendFrame(frame)) {
      // Out of frame budget (socket still up): try again when a slot frees; a closed socket retries on "ready".
      if (state.authed) state.flushTimer = setTimeout(flushOutbox, budgetWaitMs());
      return;
    }
    setPendingStatus(p, 'sending');
  }
}

export function markFailed(p, label, canRetry) {
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

export function confirmPending(cid, seq, id, message) {
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
    if (typeof message.content === 'string') setContent(li.querySelector('.msg-content'), message);
    upgradeAttachments(li, message);
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

export function isOutOfOrder(li, seq) {
  for (let c = li.previousElementSibling; c; c = c.previousElementSibling) {
    if (c.dataset.seq) return Number(c.dataset.seq) > seq;
  }
  return false;
}

// Replace an optimistic bubble's file names with the stored message's thumbnails and links.
export function upgradeAttachments(li, message) {
  const pending = li.querySelector('.msg-attachments.is-pending-files');
  if (!pending || !message || !Array.isArray(message.attachments)) return;
  const files = attachmentsEl(message.attachments);
  if (files) pending.replaceWith(files);
}

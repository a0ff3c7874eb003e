// Outgoing replies and notes: optimistic bubbles, the outbox resent on reconnect, acks, failures with retry/discard.
import { h, newClientId, ROLES } from '../common/realtime.js';
import { setPendingStatus } from '../common/ui.js';
import { keyOf } from './sessions.js';
import { budgetWaitMs, isOnline, sendFrame } from './socket.js';
import { el, state } from './state.js';
import {
  afterRender, buildMessage, insertBySeq, markRendered, queueScrollToBottom, timeEl,
} from './transcript.js';

// attachments: upload ids sent with a reply; preview: their names until the stored message replaces the bubble.
export function queueOutgoing(kind, content, attachments = [], preview = []) {
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
  h('div', { class: 'msg-bubble' },
    content ? h('div', { class: 'msg-content', text: content }) : null,
    preview.length ? h('ul', { class: 'msg-attachments' }, ...preview.map((f) => h('li', { class: 'att att-file', text: f.name }))) : null),
  h('div', { class: 'msg-meta' }, timeEl(null), h('span', { class: 'msg-status', text: 'Sending…' })));
  el.transcript.appendChild(li);
  state.outbox.set(cid, { cid, sessionId: cur.id, sessionKey: cur.key, kind, content, attachments, status: 'queued', el: li });
  state.stickToBottom = true;
  queueScrollToBottom();
  flushOutbox();
}

export function flushOutbox() {
  clearTimeout(state.flushTimer);
  state.flushTimer = null;
  if (!isOnline()) return;
  for (const p of state.outbox.values()) {
    if (p.status !== 'queued') continue;
    const frame = { type: p.kind === 'note' ? 'note' : 'message', session_id: p.sessionId, content: p.content, client_msg_id: p.cid };
    if (p.attachments && p.attachments.length) frame.attachments = p.attachments;
    if (!sendFrame(frame)) {
      if (isOnline()) state.flushTimer = setTimeout(flushOutbox, budgetWaitMs());
      return;
    }
    setPendingStatus(p, 'sending');
  }
}

export function markFailed(p, label, canRetry) {
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

export function confirmPending(cid, seq, id, message) {
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

export function attributeError(f, code) {
  let p = f.client_msg_id ? state.outbox.get(String(f.client_msg_id)) : null;
  if (!p && ['too_long', 'rate_limited', 'invalid_field', 'session_closed', 'already_assigned'].includes(code)) {
    for (const candidate of state.outbox.values()) {
      if (candidate.status !== 'sending') continue;
      if (f.session_id && keyOf(f.session_id) !== candidate.sessionKey) continue;
      p = candidate; // the most recent one in flight
    }
  }
  if (!p) return;
  const labels = {
    too_long: 'Not sent: too long',
    already_assigned: 'Not sent: another agent has it',
    session_closed: 'Not sent: conversation closed',
  };
  const canRetry = code === 'rate_limited' || code === 'invalid_field';
  markFailed(p, labels[code] || 'Not sent', canRetry);
}

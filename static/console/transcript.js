// The joined conversation's transcript: message rendering (sanitised rich text, linked sources, attached files), seq order, read receipts, "Seen" and scrolling.
import { attachmentsEl } from '../common/attachments.js';
import * as C from '../common/realtime.js';
import { h, ROLES, toSeq } from '../common/realtime.js';
import { contentEl } from '../common/richtext.js';
import { followTranscript } from '../common/ui.js';
import { setCustomerTyping } from './composer.js';
import { confirmPending } from './outbox.js';
import { customerName, keyOf, sameId } from './sessions.js';
import { sendFrame } from './socket.js';
import { el, state } from './state.js';

export function receiveMessage(m) {
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

export function authorLabel(m, role) {
  if (role === 'customer') return customerName(state.current && state.current.info);
  if (role === 'assistant') return 'AI assistant';
  const a = m.author;
  if (a && sameId(a.id, state.me.id)) return (a.name || state.me.name || 'You') + ' (you)';
  return (a && a.name) || 'Agent';
}

export const internalOf = (m) => m.internal === true || m.internal === 'true';

export function buildMessage(m, role) {
  const internal = internalOf(m);
  const li = h('li', { class: `msg msg-${role}${internal ? ' msg-note' : ''}`, dataset: { role } });
  const seq = toSeq(m.seq);
  if (seq !== null) li.dataset.seq = String(seq);
  if (m.id !== null && m.id !== undefined) li.dataset.id = String(m.id);
  if (m.client_msg_id) li.dataset.clientMsgId = String(m.client_msg_id);

  const content = contentEl(m);
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
  const text = typeof m.content === 'string' && m.content.length ? content : null;
  li.append(h('div', { class: 'msg-bubble' }, text, attachmentsEl(m.attachments)));

  if (role === 'assistant') {
    const sources = C.sourcesEl(m.sources, true);
    if (sources) li.append(sources);
  }
  const reasons = reasonsEl(metadata, m.requires_escalation);
  if (reasons) li.append(reasons);
  const offered = offeredEl(m.suggestions);
  if (offered) li.append(offered);

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

// The AI's decision (agents/decision.py): a clarifying question or a decline keeps the conversation; only a hand-over does not.
const DECISION_LABELS = { clarify: 'asked to clarify', decline: 'declined', handover: 'handed over' };

export function reasonsEl(metadata, escalated) {
  const reasons = Array.isArray(metadata.reasons) ? metadata.reasons.filter((r) => r !== null && r !== undefined && r !== '') : [];
  if (!reasons.length) return null;
  const decision = escalated ? 'handover' : String(metadata.decision || 'handover');
  const label = DECISION_LABELS[decision] || decision;
  return h('div', { class: 'msg-reasons', text: `${label}: ` + reasons.map(String).join(', ') });
}

// The quick replies the customer was offered, read-only: the agent sees what the customer could press.
export function offeredEl(suggestions) {
  const list = Array.isArray(suggestions) ? suggestions.filter((s) => s && typeof s.label === 'string' && s.label) : [];
  if (!list.length) return null;
  return h('div', { class: 'msg-offered' },
    h('span', { class: 'msg-sources-label', text: 'Offered:' }),
    ...list.map((s) => h('span', { class: 'msg-source msg-offered-item', text: String(s.label) })));
}

export function timeEl(iso) {
  return C.timeEl(iso, true);
}

// Stored messages in seq order; unsequenced ones (still sending) stay at the bottom.
export function insertBySeq(li, seq) {
  C.insertBySeq(el.transcript, li, seq);
}

export function markRendered(seq, id) {
  const cur = state.current;
  if (!cur) return;
  if (seq !== null) cur.seqs.add(seq);
  if (id !== null && id !== undefined) cur.ids.add(String(id));
}

export function afterRender() {
  if (state.stickToBottom) queueScrollToBottom();
  else el.jump.hidden = false;
  scheduleRead();
  updateSeen();
}

// "Seen" under the newest reply the customer has read.
export function updateSeen() {
  const cur = state.current;
  C.markSeen(el.transcript, 'li.msg-agent[data-seq]:not(.msg-note), li.msg-assistant[data-seq]', cur && cur.peerReadSeq);
}

export function scheduleRead() {
  clearTimeout(state.readTimer);
  state.readTimer = setTimeout(sendRead, 800);
}

export function sendRead() {
  const cur = state.current;
  if (!cur || document.visibilityState !== 'visible') return;
  if (cur.lastSeq > cur.readSent && sendFrame({ type: 'read', session_id: cur.id, seq: cur.lastSeq })) {
    cur.readSent = cur.lastSeq;
  }
}

export function queueScrollToBottom() {
  C.queueScrollToBottom(state, el.scroll, el.jump);
}

export function bindTranscript() {
  followTranscript(state, el.scroll, el.jump);
}

// The message list: rendering (sanitised rich text, sources linked to the help center, attached files), streamed provisional replies, seq order, "Seen", and scrolling.
import { attachmentsEl } from '../common/attachments.js';
import * as C from '../common/realtime.js';
import { h, ROLES, toSeq } from '../common/realtime.js';
import { contentEl, setContent } from '../common/richtext.js';
import { followTranscript } from '../common/ui.js';
import { notifyEmbed } from './embed.js';
import { confirmPending, upgradeAttachments } from './outbox.js';
import { el, state, TEXT } from './state.js';
import { scheduleRead, setAgentThinking, setPeerTyping, setStatusNotice } from './status.js';
import { pruneSuggestions, suggestionsEl } from './suggestions.js';

export function receiveMessage(m) {
  const seq = toSeq(m.seq);
  const role = ROLES.has(m.role) ? m.role : 'system';
  // The server sends message frames strictly in seq order, so this is a safe resume point.
  // (Acks are not: one may overtake an earlier reply still queued on the server.)
  if (seq !== null && seq > state.lastSeq) state.lastSeq = seq;

  // Our own optimistic bubble: upgrade it in place instead of adding a second copy.
  if (m.client_msg_id && state.outbox.has(String(m.client_msg_id))) {
    confirmPending(String(m.client_msg_id), seq, m.id, m);
    return;
  }
  if ((seq !== null && state.seqs.has(seq)) || (m.id !== null && m.id !== undefined && state.ids.has(String(m.id)))) {
    // Already rendered (replay overlap, or broadcast after ack). Our own bubble, confirmed by
    // its ack before this frame, still shows plain text: show the server's rendering now.
    const shown = seq !== null ? el.messages.querySelector(`li[data-seq="${seq}"] .msg-content:not(.is-rich)`) : null;
    if (shown && typeof m.content_html === 'string') setContent(shown, m);
    // An acked bubble still needs its files' links.
    const acked = m.id ? el.messages.querySelector(`li[data-id="${CSS.escape(String(m.id))}"]`) : null;
    if (acked) upgradeAttachments(acked, m);
    return;
  }

  if (role === 'assistant') {
    const provisional = takeStream(m.reply_to);
    if (provisional) provisional.remove();
    setAgentThinking(false);
  }
  if (role === 'agent') setPeerTyping(false);

  const li = buildMessage(m, role);
  insertBySeq(li, seq);
  markRendered(seq, m.id);
  pruneSuggestions();

  // Only live messages may change the banner; replayed history is described by the session state.
  if (role === 'assistant' && m.requires_escalation && !state.closed && seq !== null && seq > state.liveAfterSeq) {
    setStatusNotice(TEXT.escalated);
  }
  if (role !== 'customer' && seq !== null && seq > state.liveAfterSeq) notifyEmbed('message', { role, seq });
  afterRender();
}

export function buildMessage(m, role) {
  const li = h('li', {
    class: `msg msg-${role}`,
    dataset: { role },
  });
  if (toSeq(m.seq) !== null) li.dataset.seq = String(toSeq(m.seq));
  if (m.id !== null && m.id !== undefined) li.dataset.id = String(m.id);

  const content = contentEl(m);

  if (role === 'system') {
    li.append(content, h('div', { class: 'msg-meta' }, timeEl(m.created_at)));
    return li;
  }

  li.append(authorEl(role, m.author));
  const text = typeof m.content === 'string' && m.content.length ? content : null;
  li.append(h('div', { class: 'msg-bubble' }, text, attachmentsEl(m.attachments)));

  if (role === 'assistant') {
    const sources = C.sourcesEl(m.sources, false);
    if (sources) li.append(sources);
    const quick = suggestionsEl(m);
    if (quick) li.append(quick);
  }

  // No confidence figure here: a retrieval score means nothing to a customer (it stays in the
  // frame, and the console and admin show it).
  li.append(h('div', { class: 'msg-meta' }, timeEl(m.created_at)));
  return li;
}

export function authorEl(role, author) {
  if (role === 'customer') return h('span', { class: 'visually-hidden', text: 'You said:' });
  let name = 'Assistant';
  if (role === 'agent') {
    name = (author && author.name) || (state.info && state.info.assignee_name) || 'Agent';
  }
  return h('div', { class: 'msg-author', text: name });
}

export function timeEl(iso) {
  return C.timeEl(iso, false);
}

export function buildProvisional() {
  // aria-hidden: screen readers would otherwise re-read every delta; the final message is announced instead.
  return h('li', { class: 'msg msg-assistant msg-provisional', 'aria-hidden': 'true', dataset: { role: 'assistant' } },
    h('div', { class: 'msg-author', text: 'Assistant' }),
    h('div', { class: 'msg-bubble' }, h('div', { class: 'msg-content' })));
}

// Final assistant messages don't name the customer message they answer, so fall back to the oldest stream.
export function takeStream(replyTo) {
  let key = replyTo === null || replyTo === undefined ? null : String(replyTo);
  if (key === null || !state.streams.has(key)) {
    const first = state.streams.keys().next();
    if (first.done) return null;
    key = first.value;
  }
  const li = state.streams.get(key);
  state.streams.delete(key);
  if (li.orphanTimer) clearTimeout(li.orphanTimer);
  return li;
}

export function dropStreams() {
  for (const li of state.streams.values()) {
    if (li.orphanTimer) clearTimeout(li.orphanTimer);
    li.remove();
  }
  state.streams.clear();
}

// Keeps stored messages in seq order; unsequenced items (sending, streaming) stay at the bottom.
export function insertBySeq(li, seq) {
  C.insertBySeq(el.messages, li, seq);
}

export function firstUnsequenced() {
  return C.firstUnsequenced(el.messages);
}

export function markRendered(seq, id) {
  if (seq !== null) state.seqs.add(seq);
  if (id !== null && id !== undefined) state.ids.add(String(id));
}

export function afterRender() {
  if (state.stickToBottom) queueScrollToBottom();
  else el.jump.hidden = false;
  scheduleRead();
}

export function updateSeen() {
  C.markSeen(el.messages, 'li.msg-customer[data-seq]', state.peerReadSeq);
}

export function queueScrollToBottom() {
  C.queueScrollToBottom(state, el.transcript, el.jump);
}

export function bindTranscript() {
  followTranscript(state, el.transcript, el.jump, () => el.input.focus());
}

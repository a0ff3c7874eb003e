// The open conversation: join/leave, drafts, its header, action buttons and composer mode, the details panel and the agents online.
import { h } from '../common/realtime.js';
import { closeMenu } from './canned.js';
import { autoGrow, setCustomerTyping, stopTyping, updateComposer } from './composer.js';
import { showAudit } from './audit-panel.js';
import { showContact } from './contact-panel.js';
import { fixRovingTabindex, inboxItems, updateAlerts } from './inbox.js';
import {
  assigneeOf, canReply, customerName, formatDateTime, isClosed, isHuman, isMine,
  keyOf, pickSessionFields, sameId,
} from './sessions.js';
import { renderMacroButton } from './macros.js';
import { queueCtrl } from './socket.js';
import { byId, el, root, state } from './state.js';
import { renderTriage } from './triage.js';
import { renderReopen } from './undo.js';

export function newConversation(id, summary) {
  return {
    id,                    // as the server spells it (sent back verbatim)
    key: keyOf(id),
    info: summary ? Object.assign({}, summary) : { id },
    lastSeq: 0,            // highest seq received in order: the resume point after a reconnect
    seqs: new Set(),
    ids: new Set(),
    joined: false,
    peerReadSeq: 0,
    readSent: 0,
  };
}

// Also called by contact-panel.js (an earlier conversation) and inbox/shortcut navigation.

export function joinSession(key) {
  if (!key) return;
  const cur = state.current;
  if (cur && cur.key === key) {
    root.classList.add('show-conversation');
    return;
  }
  const summary = state.sessions.get(key);
  if (cur) {
    saveDraft();
    stopTyping();
    queueCtrl({ type: 'leave', session_id: cur.id });
  }
  closeMenu();
  const conv = newConversation(summary ? summary.id : key, summary);
  state.current = conv;
  state.alerts.delete(key);
  resetTranscript();
  el.loading.hidden = false;
  // A conversation waiting for a person opens ready to reply: replying takes it.
  const waiting = conv.info && conv.info.status === 'escalated' && !assigneeOf(conv.info);
  state.mode = isMine(conv.info) || waiting ? 'reply' : 'note';
  el.input.value = state.drafts.get(key) || '';
  queueCtrl({ type: 'join', session_id: conv.id, last_seq: 0 });
  root.classList.add('show-conversation', 'has-conversation');
  renderConversationState();
  for (const [k, li] of inboxItems) {
    li.classList.toggle('is-active', k === key);
    if (k === key) li.setAttribute('aria-current', 'true');
    else li.removeAttribute('aria-current');
  }
  updateAlerts();
  fixRovingTabindex();
  autoGrow();
  updateComposer();
}

export function resetTranscript() {
  el.transcript.textContent = '';
  setCustomerTyping(false);
  el.jump.hidden = true;
  state.stickToBottom = true;
  // Pending messages of this session stay in the outbox (they'll be acked) but their bubbles go.
  for (const p of state.outbox.values()) p.el = null;
}

export function saveDraft() {
  const cur = state.current;
  if (!cur) return;
  const text = el.input.value;
  if (text.trim()) state.drafts.set(cur.key, text);
  else state.drafts.delete(cur.key);
}

export function applyCurrentInfo(partial) {
  const cur = state.current;
  if (!cur || !partial) return;
  const wasMine = isMine(cur.info);
  cur.info = Object.assign({}, cur.info, pickSessionFields(partial));
  const mine = isMine(cur.info);
  if (mine && !wasMine) state.mode = 'reply'; // just took over: replying is what comes next
  if (!canReply(cur.info) && state.mode === 'reply') state.mode = 'note';
  if (isClosed(cur.info)) {
    stopTyping();
    setCustomerTyping(false);
    closeMenu();
  }
  renderConversationState();
}

export function renderConversationState() {
  const cur = state.current;
  const info = cur ? cur.info : null;
  el.conversation.dataset.sessionId = cur ? cur.key : '';
  el.convEmpty.hidden = !!cur;
  el.detailsSession.hidden = !cur;
  renderMacroButton();
  renderReopen();
  if (!cur) renderTriage();

  const closed = !cur || isClosed(info);
  const mine = isMine(info);
  const human = isHuman(info);
  const blocked = state.forbidden;

  if (cur) {
    const a = assigneeOf(info);
    el.convCustomer.textContent = customerName(info);
    el.status.textContent = info.status || '';
    el.status.dataset.status = info.status || '';
    el.assignee.textContent = a ? (sameId(a.id, state.me.id) ? `${a.name} (you)` : a.name) : 'Unassigned';
    el.assignee.dataset.assigned = a ? 'true' : 'false';
  } else {
    el.convCustomer.textContent = '—';
    el.status.textContent = '';
    el.status.dataset.status = '';
    el.assignee.textContent = 'Unassigned';
  }

  el.takeOver.disabled = blocked || !cur || closed || mine;
  el.release.disabled = blocked || !cur || closed || !human;
  el.closeBtn.disabled = blocked || !cur || closed;
  el.assignSelect.disabled = blocked || !cur || closed;
  renderAssignOptions();
  el.assignBtn.disabled = blocked || !cur || closed || !el.assignSelect.value;
  if (root.classList.contains('is-busy')) {
    el.takeOver.disabled = el.release.disabled = el.closeBtn.disabled = el.assignBtn.disabled = true;
  }

  // Composer: notes unless closed; replies only for the agent handling the conversation.
  const replyable = canReply(info);
  if (state.mode === 'reply' && !replyable) state.mode = 'note';
  el.modeReply.disabled = blocked || closed || !replyable;
  el.modeNote.disabled = blocked || closed;
  el.modeReply.checked = state.mode === 'reply';
  el.modeNote.checked = state.mode === 'note';
  el.composer.dataset.mode = state.mode;
  el.input.disabled = blocked || closed;
  el.cannedBtn.disabled = blocked || closed;
  el.composer.classList.toggle('is-disabled', blocked || closed);

  let hint = '';
  if (!cur) hint = '';
  else if (isClosed(info)) hint = 'This conversation is closed.';
  else if (!replyable) hint = `${(assigneeOf(info) || { name: 'Another agent' }).name} is handling it. Notes stay internal.`;
  else if (!mine && state.mode === 'reply') hint = 'Replying takes the conversation (the AI stops).';
  else if (state.mode === 'note') hint = 'Internal note: only your team sees it.';
  el.modeHint.textContent = hint;
  el.modeHint.hidden = !hint;

  if (!cur) el.input.placeholder = 'Select a conversation first';
  else if (isClosed(info)) el.input.placeholder = 'Conversation closed';
  else if (state.mode === 'note') el.input.placeholder = 'Write an internal note…';
  else el.input.placeholder = `Reply to ${customerName(info)}…`;

  updateComposer();
  renderDetails();
}

export function renderAssignOptions() {
  const select = el.assignSelect;
  const previous = select.value;
  const others = state.agents.filter((a) => !sameId(a.id, state.me.id));
  const cur = state.current;
  const assignee = cur ? assigneeOf(cur.info) : null;
  const online = others.filter((a) => a.online);
  const offline = others.filter((a) => !a.online);
  const build = (a) => {
    const opt = h('option', { value: String(a.id), text: a.name || `Agent ${a.id}` });
    if (assignee && sameId(assignee.id, a.id)) opt.disabled = true; // already theirs
    return opt;
  };
  const nodes = [h('option', { value: '', text: others.length ? 'Assign to…' : 'No other agents' })];
  if (online.length) nodes.push(h('optgroup', { label: 'Online' }, ...online.map(build)));
  if (offline.length) nodes.push(h('optgroup', { label: 'Offline' }, ...offline.map(build)));
  // Rebuild only when something changed, so an open dropdown isn't disturbed needlessly.
  const signature = JSON.stringify([others.map((a) => [a.id, a.name, !!a.online]), assignee && assignee.id]);
  if (select.dataset.signature !== signature) {
    select.replaceChildren(...nodes);
    select.dataset.signature = signature;
    const still = Array.from(select.options).find((o) => o.value === previous && !o.disabled);
    select.value = still ? previous : '';
  }
}

export function renderDetails() {
  const cur = state.current;
  if (!cur) return;
  const info = cur.info;
  const a = assigneeOf(info);
  el.detailName.textContent = customerName(info);
  el.detailEmail.textContent = '';
  if (info.customer_email) {
    el.detailEmail.append(h('a', { href: 'mailto:' + encodeURIComponent(String(info.customer_email)).replace(/%40/g, '@'), text: String(info.customer_email) }));
  } else {
    el.detailEmail.textContent = '—';
  }
  el.detailStatus.textContent = info.status || '—';
  el.detailHandled.textContent = isHuman(info) ? 'Human agent' : 'AI assistant';
  el.detailAssignee.textContent = a ? a.name : 'Unassigned';
  byId('detail-team').textContent = info.team && info.team.name ? String(info.team.name) : 'No team';
  byId('details-audit').hidden = false;
  showAudit(cur.key, info);
  el.detailCreated.textContent = formatDateTime(info.created_at);
  el.detailActivity.textContent = formatDateTime(info.last_activity_at);
  el.detailClosedRow.hidden = !info.closed_at;
  el.detailClosed.textContent = formatDateTime(info.closed_at);
  // The contact (attributes, earlier conversations) lives in its own module: contact-panel.js.
  showContact(cur.key, info);
  renderTriage();

  const csat = Number(info.csat);
  const rated = Number.isInteger(csat) && csat >= 1 && csat <= 5;
  el.csat.hidden = !rated;
  el.csat.textContent = rated ? String(csat) : '';
  el.csatStars.hidden = !rated;
  el.csatNone.hidden = rated;
  if (rated) {
    el.csatStars.replaceChildren(...[1, 2, 3, 4, 5].map((n) => h('span', { class: n <= csat ? 'star is-lit' : 'star', text: '★' })));
    el.csat.setAttribute('aria-label', `${csat} out of 5`);
  }
  // The customer's words with the rating: text, never markup.
  const comment = rated && typeof info.csat_comment === 'string' ? info.csat_comment : '';
  el.csatCommentRow.hidden = !comment;
  el.csatComment.textContent = comment;
}

export function renderAgents() {
  const online = state.agents.filter((a) => a.online);
  online.sort((a, b) => (sameId(a.id, state.me.id) ? -1 : sameId(b.id, state.me.id) ? 1 : String(a.name).localeCompare(String(b.name))));
  el.agentsOnline.replaceChildren(...online.map((a) => h('li', { class: 'agent', dataset: { userId: String(a.id) } },
    h('span', { class: 'presence-dot', 'aria-hidden': 'true' }),
    h('span', { class: 'agent-name', text: a.name || `Agent ${a.id}` }),
    sameId(a.id, state.me.id) ? h('span', { class: 'agent-you', text: '(you)' }) : null)));
  el.agentsEmpty.hidden = online.length > 0;
  renderAssignOptions();
  if (state.current) el.assignBtn.disabled = el.assignSelect.disabled || !el.assignSelect.value;
}

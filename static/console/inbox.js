// The inbox list: requests, live updates, filters and search, ordering, the rows themselves and their keyboard navigation.
import { h, parseDate } from '../common/realtime.js';
import { clearBusy } from './actions.js';
import { applyCurrentInfo, joinSession, renderDetails } from './conversation.js';
import {
  assigneeOf, customerName, formatDateTime, formatDuration, isClosed, isHuman,
  keyOf, pickSessionFields, sameId,
} from './sessions.js';
import { queueCtrl } from './socket.js';
import { el, FILTERS, SEARCH_DEBOUNCE_MS, state } from './state.js';
import { inMyTeam, teamChip } from './teams.js';
import { isSnoozed, matchesTriage, triageBadges } from './triage.js';

export function requestInbox() {
  const frame = { type: 'inbox', filter: state.filter, search: state.search.trim().slice(0, 200) };
  if (state.labelFilter) frame.label = state.labelFilter;
  if (state.priorityFilter) frame.priority = state.priorityFilter;
  if (queueCtrl(frame)) {
    state.inboxPending++;
    state.inboxRequestedAt = Date.now();
  }
}

// Mirrors the server's inbox filters, to re-apply them to live updates.
export function matchesFilter(s, filter) {
  // Snoozed conversations are out of every list but "Snoozed" until they wake.
  if (filter === 'snoozed' || isSnoozed(s)) return filter === 'snoozed' && isSnoozed(s) && matchesTriage(s);
  if (!matchesTriage(s)) return false;
  const closed = isClosed(s);
  const closedOk = !!state.closedInFilter[filter];
  switch (filter) {
    case 'closed': return closed;
    case 'escalated': return s.status === 'escalated';
    case 'mine': {
      const a = assigneeOf(s);
      return !!a && sameId(a.id, state.me.id) && (!closed || closedOk);
    }
    case 'team': return inMyTeam(s) && (!closed || closedOk);
    case 'unassigned': return !assigneeOf(s) && (!closed || closedOk);
    case 'ai': return s.status === 'open' && !isHuman(s);
    default: return true; // "all" includes closed conversations (listed last)
  }
}

export function matchesSearch(s, query) {
  const q = query.trim().toLowerCase();
  if (!q) return true;
  const hay = [s.display_name, s.customer_name, s.customer_email, s.id, s.last_message && s.last_message.content,
    assigneeOf(s) && assigneeOf(s).name].filter(Boolean).join(' ').toLowerCase();
  return q.split(/\s+/).every((w) => hay.includes(w));
}

export const inView = (s) => matchesFilter(s, state.filter) && matchesSearch(s, state.search);

// The server says since when the customer waits (oldest unanswered message or the hand-over;
// null once answered); otherwise rows show how long ago the last activity was.
export function waitingSince(s) {
  const d = parseDate(s.waiting_since || s.last_activity_at || s.created_at);
  return d ? d.getTime() : Date.now();
}

// Same order as the server: escalated, open, closed; then escalated_at (oldest first, none
// last); then the most recent activity.
export function compareSessions(a, b) {
  const rank = (s) => (s.status === 'escalated' ? 0 : s.status === 'closed' ? 2 : 1);
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  const ea = parseDate(a.escalated_at);
  const eb = parseDate(b.escalated_at);
  if (ea && eb && ea.getTime() !== eb.getTime()) return ea.getTime() - eb.getTime();
  if (ea && !eb) return -1;
  if (!ea && eb) return 1;
  const la = parseDate(a.last_activity_at);
  const lb = parseDate(b.last_activity_at);
  return (lb ? lb.getTime() : 0) - (la ? la.getTime() : 0);
}

export function upsertSummary(s) {
  const key = keyOf(s.id);
  const prev = state.sessions.get(key);
  state.sessions.set(key, s);
  placeInInbox(key, s, prev);
  if (state.current && state.current.key === key) {
    applyCurrentInfo(pickSessionFields(s));
    if (prev && (prev.status !== s.status || prev.handled_by !== s.handled_by ||
        keyOf((assigneeOf(prev) || {}).id) !== keyOf((assigneeOf(s) || {}).id))) clearBusy();
  }
}

// Keeps a changed session in the list (in place unless its status group changed), or drops it.
export function placeInInbox(key, s, prev) {
  const idx = state.order.indexOf(key);
  // The server's search also matches older messages: a listed session keeps its place.
  if (!matchesFilter(s, state.filter) || (idx < 0 && !matchesSearch(s, state.search))) {
    if (idx >= 0) state.order.splice(idx, 1);
    renderInbox();
    return;
  }
  const moved = idx < 0 || !prev || prev.status !== s.status;
  if (moved) {
    if (idx >= 0) state.order.splice(idx, 1);
    let at = state.order.findIndex((k) => {
      const other = state.sessions.get(k);
      return other && compareSessions(s, other) < 0;
    });
    if (at < 0) at = state.order.length;
    state.order.splice(at, 0, key);
  }
  renderInbox();
}

export function visibleKeys() {
  return state.order.filter((k) => {
    const s = state.sessions.get(k);
    return s && matchesFilter(s, state.filter);
  });
}

export const inboxItems = new Map(); // key -> <li>

export function renderInbox() {
  const keys = visibleKeys();
  const keep = new Set(keys);
  for (const [k, li] of inboxItems) {
    if (!keep.has(k)) {
      li.remove();
      inboxItems.delete(k);
    }
  }
  keys.forEach((k, i) => {
    const s = state.sessions.get(k);
    let li = inboxItems.get(k);
    if (!li) {
      li = h('li', { class: 'inbox-item', tabindex: '-1' });
      inboxItems.set(k, li);
    }
    fillInboxItem(li, s);
    // Only move what is out of place, so a focused item keeps its focus.
    if (el.inbox.children[i] !== li) el.inbox.insertBefore(li, el.inbox.children[i] || null);
  });
  el.inboxEmpty.hidden = keys.length > 0;
  el.inboxEmpty.textContent = state.search.trim() ? 'No conversations match your search.' : 'No conversations here.';
  el.inboxCount.textContent = keys.length ? String(keys.length) : '';
  fixRovingTabindex();
  updateTitle();
}

export function fillInboxItem(li, s) {
  const key = keyOf(s.id);
  const a = assigneeOf(s);
  const unanswered = Math.max(0, Number(s.unanswered) || 0);
  li.dataset.sessionId = key;
  li.dataset.status = s.status || '';
  li.dataset.handledBy = s.handled_by || '';
  li.classList.toggle('is-active', !!state.current && state.current.key === key);
  li.classList.toggle('is-alert', state.alerts.has(key));
  li.classList.toggle('is-unanswered', unanswered > 0);
  if (state.current && state.current.key === key) li.setAttribute('aria-current', 'true');
  else li.removeAttribute('aria-current');

  const last = s.last_message;
  let who = '';
  if (last) {
    if (last.role === 'assistant') who = 'AI: ';
    else if (last.role === 'agent') who = 'Agent: ';
    else if (last.role === 'system') who = '';
  }
  const unansweredEl = h('span', {
    class: 'inbox-unanswered',
    title: `${unanswered} unanswered customer message${unanswered === 1 ? '' : 's'}`,
    text: String(unanswered),
  });
  unansweredEl.hidden = unanswered === 0;

  const statusBadge = h('span', { class: 'badge', dataset: { status: s.status || '' }, text: s.status || '' });
  const handled = h('span', { class: 'handled-tag', dataset: { handledBy: s.handled_by || '' }, text: isHuman(s) ? 'Human' : 'AI' });

  li.replaceChildren(
    h('div', { class: 'inbox-row' },
      h('span', { class: 'inbox-avatar', 'aria-hidden': 'true', text: customerName(s).slice(0, 1).toUpperCase() }),
      h('span', { class: 'inbox-name', text: customerName(s) }),
      h('span', { class: 'inbox-wait', title: waitTitle(s), text: waitText(s) })),
    h('div', { class: 'inbox-row inbox-row-preview' },
      who ? h('span', { class: 'inbox-preview-who', text: who }) : null,
      // A message without text carries files (the only kind that may be empty).
      h('span', { class: 'inbox-preview', text: last ? (last.content ? String(last.content) : 'Sent an attachment') : 'No messages yet' }),
      unansweredEl),
    h('div', { class: 'inbox-row inbox-row-meta' },
      statusBadge,
      handled,
      teamChip(s),
      ...triageBadges(s),
      h('span', { class: 'inbox-assignee', dataset: { assigned: a ? 'true' : 'false' }, text: a ? a.name : 'Unassigned' })));
  li.setAttribute('aria-label', `${customerName(s)}, ${s.status || ''}${unanswered ? `, ${unanswered} unanswered` : ''}`);
}

export function waitText(s) {
  const since = Date.now() - waitingSince(s);
  if (s.status === 'closed') return 'closed ' + formatDuration(since) + ' ago';
  if (s.waiting_since) return 'waiting ' + formatDuration(since);
  return formatDuration(since) + ' ago';
}

export function waitTitle(s) {
  if (s.waiting_since) return 'Customer waiting since ' + formatDateTime(s.waiting_since);
  return s.last_activity_at ? 'Last activity ' + formatDateTime(s.last_activity_at) : '';
}

export function refreshWaitTimes() {
  for (const [k, li] of inboxItems) {
    const s = state.sessions.get(k);
    const w = li.querySelector('.inbox-wait');
    if (s && w) {
      w.textContent = waitText(s);
      w.title = waitTitle(s);
    }
  }
  if (state.current) renderDetails();
}

export function fixRovingTabindex() {
  const items = Array.from(el.inbox.children);
  if (!items.length) return;
  let tabbable = items.find((li) => li.classList.contains('is-active')) || items[0];
  if (items.includes(document.activeElement)) tabbable = document.activeElement;
  for (const li of items) li.tabIndex = li === tabbable ? 0 : -1;
}

export function setFilter(filter) {
  if (!FILTERS.has(filter)) return;
  state.filter = filter;
  for (const b of el.filters) {
    const on = b.dataset.filter === filter;
    b.setAttribute('aria-pressed', String(on));
    b.classList.toggle('is-active', on);
  }
  // Show what we already know straight away; the server's answer replaces it.
  state.order = Array.from(state.sessions.values()).filter(inView).sort(compareSessions).map((s) => keyOf(s.id));
  renderInbox();
  requestInbox();
}

export function updateAlerts() {
  for (const [k, li] of inboxItems) li.classList.toggle('is-alert', state.alerts.has(k));
  updateTitle();
}

export function updateTitle() {
  const n = state.alerts.size;
  document.title = (n ? `(${n}) ` : '') + 'Agent console';
}


export function bindInbox() {
  // Inbox
  el.inbox.addEventListener('click', (e) => {
    const li = e.target.closest('.inbox-item');
    if (!li || !el.inbox.contains(li)) return;
    joinSession(li.dataset.sessionId);
  });
  el.inbox.addEventListener('keydown', (e) => {
    const li = e.target.closest('.inbox-item');
    if (!li) return;
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      joinSession(li.dataset.sessionId);
      el.input.focus();
    } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const next = e.key === 'ArrowDown' ? li.nextElementSibling : li.previousElementSibling;
      if (next) {
        li.tabIndex = -1;
        next.tabIndex = 0;
        next.focus();
      } else if (e.key === 'ArrowUp') {
        el.search.focus();
      }
    }
  });
  for (const b of el.filters) b.addEventListener('click', () => setFilter(b.dataset.filter));
  el.search.addEventListener('input', () => {
    state.search = el.search.value;
    // Narrow what is shown now; the server's answer (debounced) fills in the rest.
    state.order = state.order.filter((k) => state.sessions.has(k) && inView(state.sessions.get(k)));
    renderInbox();
    clearTimeout(state.searchTimer);
    state.searchTimer = setTimeout(requestInbox, SEARCH_DEBOUNCE_MS);
  });
  el.search.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && el.search.value) {
      e.preventDefault();
      el.search.value = '';
      el.search.dispatchEvent(new Event('input'));
    } else if (e.key === 'ArrowDown' || e.key === 'Enter') {
      const first = el.inbox.firstElementChild;
      if (first) {
        e.preventDefault();
        if (e.key === 'Enter') joinSession(first.dataset.sessionId);
        else first.focus();
      }
    }
  });
}

// Reading a session summary: ids, assignee, mine/human/closed, the customer's name, and date/duration formatting for the inbox and details.
import { formatTime, parseDate } from '../common/realtime.js';
import { state } from './state.js';

export const keyOf = (id) => (id === null || id === undefined ? '' : String(id));
export const sameId = (a, b) => a !== null && a !== undefined && b !== null && b !== undefined && a !== '' && String(a) === String(b);

export function formatDateTime(iso) {
  const d = parseDate(iso);
  if (!d) return '—';
  const today = new Date();
  const sameDay = d.toDateString() === today.toDateString();
  if (sameDay) return 'Today, ' + formatTime(iso);
  return d.toLocaleDateString(undefined, { day: 'numeric', month: 'short', year: d.getFullYear() === today.getFullYear() ? undefined : 'numeric' }) +
    ', ' + formatTime(iso);
}

// "3m", "2h 5m", "4d": compact enough for a list row.
export function formatDuration(ms) {
  const mins = Math.max(0, Math.floor(ms / 60000));
  if (mins < 1) return '<1m';
  if (mins < 60) return mins + 'm';
  const hours = Math.floor(mins / 60);
  if (hours < 24) return hours + 'h' + (mins % 60 ? ' ' + (mins % 60) + 'm' : '');
  return Math.floor(hours / 24) + 'd';
}

export function humanize(code) {
  return String(code || '').replace(/[_-]+/g, ' ').trim();
}

// Sessions carry the assignee as {id, name}; tolerate a bare id plus assignee_name.
export function assigneeOf(s) {
  if (!s) return null;
  const a = s.assignee;
  if (a && typeof a === 'object') {
    if (a.id === null || a.id === undefined) return null;
    return { id: a.id, name: a.name || s.assignee_name || agentName(a.id) };
  }
  if (a !== null && a !== undefined && a !== '') return { id: a, name: s.assignee_name || agentName(a) };
  return null;
}

export function agentName(id) {
  if (sameId(id, state.me.id)) return state.me.name || 'You';
  const agent = state.agents.find((x) => sameId(x.id, id));
  return agent ? agent.name : 'Agent';
}

export const isClosed = (s) => !!s && s.status === 'closed';
export const isHuman = (s) => !!s && String(s.handled_by || '').toLowerCase() === 'human';
export function isMine(s) {
  const a = assigneeOf(s);
  return !!s && isHuman(s) && !isClosed(s) && !!a && sameId(a.id, state.me.id);
}
// Replying to a conversation nobody holds takes it (the server notes it); another agent's is theirs.
export const canReply = (s) => !!s && !isClosed(s) && (isMine(s) || !assigneeOf(s));
// The contact's (or the pre-chat) name wherever the server knows one.
export const customerName = (s) => {
  const name = s && (s.display_name || s.customer_name);
  return name ? String(name) : 'Anonymous';
};

export function pickSessionFields(s) {
  const out = {};
  for (const k of ['status', 'handled_by', 'assignee', 'customer_name', 'customer_email', 'display_name', 'contact', 'contact_id', 'created_at',
    'last_activity_at', 'closed_at', 'csat', 'csat_comment', 'escalated_at', 'team', 'priority', 'labels', 'snoozed_until', 'waiting_since']) {
    if (Object.prototype.hasOwnProperty.call(s, k)) out[k] = s[k];
  }
  if (s.assignee !== undefined && (s.assignee === null || typeof s.assignee !== 'object') && s.assignee_name !== undefined) {
    out.assignee = s.assignee === null ? null : { id: s.assignee, name: s.assignee_name };
  }
  return out;
}

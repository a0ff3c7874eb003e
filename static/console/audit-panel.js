// The details panel's audit trail: who changed the open conversation's status, assignee or team, from /api/v1/sessions/{id}/events/.
import { h } from '../common/realtime.js';
import { formatDateTime } from './sessions.js';
import { byId } from './state.js';

let shownFor = null; // "<session key>|<status>|<assignee>|<team>": refetch when any changes

const LABELS = { status: 'Status', assignee: 'Assignee', team: 'Team' };

export async function showAudit(sessionKey, info) {
  const list = byId('audit-trail');
  if (!list) return;
  const a = info && info.assignee && typeof info.assignee === 'object' ? info.assignee.id : info && info.assignee;
  const t = info && info.team ? info.team.id : null;
  const marker = `${sessionKey}|${info && info.status}|${a}|${t}`;
  if (marker === shownFor) return;
  shownFor = marker;
  try {
    const res = await fetch(`/api/v1/sessions/${encodeURIComponent(sessionKey)}/events/`, {
      credentials: 'same-origin', headers: { Accept: 'application/json' },
    });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const events = await res.json();
    if (shownFor !== marker) return; // another conversation or change meanwhile
    list.replaceChildren(...events.slice().reverse().map((e) => h('li', { class: 'audit-item' },
      h('span', { class: 'audit-what', text: `${LABELS[e.field] || e.field}: ${e.old_value || '—'} → ${e.new_value || '—'}` }),
      h('span', { class: 'audit-who muted small', text: `${e.actor} · ${formatDateTime(e.created_at)}` }))));
    byId('audit-empty').hidden = events.length > 0;
  } catch (_) {
    if (shownFor === marker) shownFor = null; // try again on the next render
  }
}

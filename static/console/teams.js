// Teams in the console: my away/online switch (REST /api/v1/agents/me/status/), my teams (for the "My team" filter), team chips, and `assigned` frames (routing gave me a conversation).
import { h } from '../common/realtime.js';
import { alertEscalation } from './alerts.js';
import { showNotice } from './notice.js';
import { customerName, keyOf } from './sessions.js';
import { byId, state } from './state.js';

const STATUS_URL = '/api/v1/agents/me/status/';
const TEAMS_URL = '/api/v1/teams/';

// The ids of the teams I belong to; "My team" filters live updates with them.
export const myTeams = new Set();

function csrfToken() {
  const input = document.querySelector('input[name="csrfmiddlewaretoken"]');
  return input ? input.value : '';
}

async function requestJson(method, url, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    headers['X-CSRFToken'] = csrfToken();
  }
  const res = await fetch(url, {
    method, credentials: 'same-origin', headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return res.json();
}

export const teamOf = (s) => (s && s.team && typeof s.team === 'object' && s.team.id !== undefined ? s.team : null);
export const inMyTeam = (s) => { const t = teamOf(s); return !!t && myTeams.has(String(t.id)); };

// A small chip with the session's team, or nothing (general queue).
export function teamChip(s) {
  const t = teamOf(s);
  return t ? h('span', { class: 'team-chip', title: `Team: ${t.name}`, text: String(t.name) }) : null;
}

function renderAway(status) {
  const toggle = byId('away-toggle');
  if (!toggle) return;
  toggle.checked = status === 'away';
  toggle.closest('.switch').dataset.away = status === 'away' ? 'true' : 'false';
}

async function setAway(away) {
  const toggle = byId('away-toggle');
  toggle.disabled = true;
  try {
    const profile = await requestJson('PUT', STATUS_URL, { status: away ? 'away' : 'online' });
    renderAway(profile.status);
    showNotice(profile.status === 'away'
      ? 'You are away: no new conversations are routed to you.'
      : 'You are online: conversations are routed to you again.', { tone: 'info' });
  } catch (_) {
    renderAway(away ? 'online' : 'away');
    showNotice('Could not change your status. Try again.');
  } finally {
    toggle.disabled = false;
  }
}

async function loadMyTeams() {
  try {
    const teams = await requestJson('GET', TEAMS_URL);
    myTeams.clear();
    for (const team of teams) {
      if ((team.members || []).some((m) => String(m.id) === String(state.me.id))) myTeams.add(String(team.id));
    }
  } catch (_) { /* the filter then shows nothing of mine; the rest of the console works */ }
}

export function onAssigned(s, upsertSummary) {
  if (!s || s.id === undefined) return;
  upsertSummary(s);
  state.alerts.add(keyOf(s.id));
  showNotice(`New conversation assigned to you: ${customerName(s)}`, { tone: 'info' });
  alertEscalation(s, 'assigned to you');
}

export function bindTeams() {
  const toggle = byId('away-toggle');
  if (toggle) {
    toggle.addEventListener('change', () => setAway(toggle.checked));
    requestJson('GET', STATUS_URL).then((p) => renderAway(p.status)).catch(() => {});
  }
  loadMyTeams();
}

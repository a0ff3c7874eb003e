// Triage of the open conversation (priority, labels, snooze) in the details panel, label/priority chips on inbox rows, and the inbox's label/priority filters.
import { h } from '../common/realtime.js';
import { apiList, apiSend, sessionPath } from './api.js';
import { showNotice } from './notice.js';
import { formatDateTime, isClosed } from './sessions.js';
import { byId, state } from './state.js';

export const PRIORITIES = ['none', 'low', 'high', 'urgent'];
const t = {
  section: byId('triage-section'),
  priority: byId('priority-select'),
  labels: byId('session-labels'),
  labelAdd: byId('label-add'),
  snooze: byId('snooze-select'),
  unsnooze: byId('unsnooze'),
  snoozedUntil: byId('snoozed-until'),
  inboxLabel: byId('inbox-label'),
  inboxPriority: byId('inbox-priority'),
};

state.labels = [];           // the label catalogue [{id, name, color}]
state.labelFilter = '';      // inbox: a label's name, '' = any
state.priorityFilter = '';   // inbox: a priority, '' = any

export function labelsOf(s) {
  return Array.isArray(s && s.labels) ? s.labels.filter((l) => l && l.name) : [];
}

export function isSnoozed(s) {
  return !!(s && s.snoozed_until);
}

// The inbox's extra narrowing, mirrored client-side for live updates.
export function matchesTriage(s) {
  if (state.priorityFilter && (s.priority || 'none') !== state.priorityFilter) return false;
  if (state.labelFilter) {
    const want = state.labelFilter.toLowerCase();
    if (!labelsOf(s).some((l) => String(l.name).toLowerCase() === want)) return false;
  }
  return true;
}

export function chip(label, onRemove) {
  const item = h('li', { class: 'label-chip' },
    h('span', { class: 'label-dot', 'aria-hidden': 'true' }),
    h('span', { text: String(label.name) }));
  // CSSOM, not a style attribute: only a validated #rrggbb reaches it.
  item.style.setProperty('--label-color', /^#[0-9a-f]{6}$/i.test(label.color) ? label.color : '#64748b');
  if (onRemove) {
    const remove = h('button', { type: 'button', class: 'label-remove', 'aria-label': `Remove label ${label.name}`, text: '×' });
    remove.addEventListener('click', onRemove);
    item.append(remove);
  }
  return item;
}

// Chips for an inbox row: the priority (unless none) and the labels.
export function triageBadges(s) {
  const list = h('ul', { class: 'label-chips inbox-labels', 'aria-label': 'Labels' });
  for (const label of labelsOf(s).slice(0, 4)) list.append(chip(label));
  const priority = s.priority && s.priority !== 'none'
    ? h('span', { class: 'priority-badge', dataset: { priority: s.priority }, text: s.priority })
    : null;
  return [priority, labelsOf(s).length ? list : null];
}

function fillLabelSelect(select, first, names) {
  const keep = select.value;
  select.replaceChildren(h('option', { value: '', text: first }),
    ...names.map((n) => h('option', { value: n, text: n })));
  select.value = names.includes(keep) ? keep : '';
}

export function renderLabelOptions() {
  const names = state.labels.map((l) => String(l.name));
  if (t.inboxLabel) fillLabelSelect(t.inboxLabel, 'All labels', names);
  renderTriage();
}

export async function loadLabels() {
  try {
    state.labels = await apiList('/api/v1/labels/');
    renderLabelOptions();
  } catch (_) { /* the rest of the console works without labels */ }
}

export function renderTriage() {
  if (!t.section) return;
  const cur = state.current;
  if (!cur) {
    t.section.hidden = true;
    return;
  }
  const info = cur.info || {};
  t.section.hidden = false;
  const closed = isClosed(info);
  t.priority.value = PRIORITIES.includes(info.priority) ? info.priority : 'none';
  const mine = labelsOf(info);
  t.labels.replaceChildren(...mine.map((l) => chip(l, () => setLabels(mine.filter((x) => x.name !== l.name).map((x) => x.name)))));
  if (!mine.length) t.labels.append(h('li', { class: 'muted small', text: 'None' }));
  const have = new Set(mine.map((l) => String(l.name).toLowerCase()));
  fillLabelSelect(t.labelAdd, 'Add a label…', state.labels.map((l) => String(l.name)).filter((n) => !have.has(n.toLowerCase())));
  t.snooze.disabled = closed;
  t.snooze.value = '';
  t.unsnooze.hidden = !isSnoozed(info);
  t.snoozedUntil.hidden = !isSnoozed(info);
  t.snoozedUntil.textContent = isSnoozed(info) ? `Snoozed until ${formatDateTime(info.snoozed_until)}` : '';
}

async function act(action, body) {
  const cur = state.current;
  if (!cur) return;
  try {
    // The answer is the session; the `session` frame brings the same to every console.
    const session = await apiSend('POST', sessionPath(cur.id, action), body);
    if (state.current === cur) {
      cur.info = Object.assign({}, cur.info, { priority: session.priority, labels: session.labels, snoozed_until: session.snoozed_until });
      renderTriage();
    }
  } catch (error) {
    showNotice(error.message || 'That change failed.');
    renderTriage();
  }
}

export const setLabels = (names) => act('labels', { labels: names });

export function snoozeUntil(choice, now = new Date()) {
  const d = new Date(now.getTime());
  if (choice === '1h') return new Date(d.getTime() + 3600e3);
  if (choice === '4h') return new Date(d.getTime() + 4 * 3600e3);
  d.setHours(9, 0, 0, 0);
  if (choice === 'tomorrow') d.setDate(d.getDate() + 1);
  else if (choice === 'week') d.setDate(d.getDate() + (((8 - d.getDay()) % 7) || 7)); // next Monday
  else return null;
  return d;
}

export function bindTriage(requestInbox) {
  if (!t.section) return;
  t.priority.addEventListener('change', () => act('priority', { priority: t.priority.value }));
  t.labelAdd.addEventListener('change', () => {
    const name = t.labelAdd.value;
    if (!name || !state.current) return;
    setLabels([...labelsOf(state.current.info).map((l) => l.name), name]);
  });
  t.snooze.addEventListener('change', () => {
    const until = snoozeUntil(t.snooze.value);
    if (until) act('snooze', { until: until.toISOString() });
  });
  t.unsnooze.addEventListener('click', () => act('unsnooze'));
  if (t.inboxLabel) {
    t.inboxLabel.addEventListener('change', () => { state.labelFilter = t.inboxLabel.value; requestInbox(); });
    t.inboxPriority.addEventListener('change', () => { state.priorityFilter = t.inboxPriority.value; requestInbox(); });
  }
  loadLabels();
}

// The console's contact panel: who the customer is (name, email, external id, attributes) and their earlier conversations, from /api/v1/contacts/.
import { h } from '../common/realtime.js';
import { joinSession } from './conversation.js';
import { byId } from './state.js';

const panel = byId('contact-panel');
let shownFor = null; // "<session key>|<contact id>": refetch only when either changes

// Server data is text, never markup.
const text = (tag, value, attrs = {}) => h(tag, { ...attrs, text: value });

async function getJson(path) {
  const res = await fetch(path, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return res.json();
}

function renderAttributes(attributes) {
  const list = byId('contact-attributes');
  const entries = Object.entries(attributes || {});
  list.replaceChildren(...entries.map(([k, v]) => {
    const row = document.createElement('div');
    row.append(text('dt', k), text('dd', typeof v === 'string' ? v : JSON.stringify(v)));
    return row;
  }));
  if (!entries.length) list.append(text('div', 'None.', { class: 'muted small' }));
}

function renderSessions(sessionKey, sessions) {
  const list = byId('contact-sessions');
  const earlier = sessions.filter((s) => String(s.id) !== sessionKey);
  list.replaceChildren(...earlier.map((s) => {
    const when = new Date(s.created_at);
    const label = `${Number.isNaN(when.getTime()) ? s.created_at : when.toLocaleString()} · ${s.status}`;
    // The admin page works in any tab; a plain click opens it right here in the console.
    const link = text('a', label, { href: `/admin/sessions_app/supportsession/${encodeURIComponent(s.id)}/change/` });
    link.addEventListener('click', (event) => {
      if (event.ctrlKey || event.metaKey || event.shiftKey) return;
      event.preventDefault();
      joinSession(String(s.id));
    });
    const item = document.createElement('li');
    item.append(link);
    return item;
  }));
  byId('contact-sessions-empty').hidden = earlier.length > 0;
}

export async function showContact(sessionKey, info) {
  const contactId = (info && (info.contact ? info.contact.id : info.contact_id)) || null;
  const marker = `${sessionKey}|${contactId}`;
  if (marker === shownFor) return;
  shownFor = marker;
  if (!contactId) {
    panel.hidden = true;
    return;
  }
  try {
    const [contact, sessions] = await Promise.all([
      getJson(`/api/v1/contacts/${encodeURIComponent(contactId)}/`),
      getJson(`/api/v1/contacts/${encodeURIComponent(contactId)}/sessions/?limit=20`),
    ]);
    if (shownFor !== marker) return; // another conversation was opened meanwhile
    byId('contact-external-id').textContent = contact.external_id || '—';
    renderAttributes(contact.attributes);
    renderSessions(sessionKey, sessions.results || []);
    panel.hidden = false;
  } catch (_) {
    if (shownFor === marker) panel.hidden = true; // the rest of the panel still works
  }
}

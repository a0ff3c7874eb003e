// Macros in the composer: the Macros button lists them; one click applies a macro to the open conversation (reply, labels, priority, status) through REST.
import { h } from '../common/realtime.js';
import { apiList, apiSend, sessionPath } from './api.js';
import { showNotice } from './notice.js';
import { isClosed } from './sessions.js';
import { byId, state } from './state.js';

const button = byId('macro-button');
const menu = byId('macro-menu');
state.macros = [];

export async function loadMacros() {
  try {
    state.macros = await apiList('/api/v1/macros/');
  } catch (_) {
    state.macros = [];
  }
  renderMacroMenu();
}

function describe(m) {
  const parts = [];
  if (m.body) parts.push('reply');
  if (m.labels && m.labels.length) parts.push('label ' + m.labels.map((l) => l.name).join(', '));
  if (m.priority) parts.push('priority ' + m.priority);
  if (m.status === 'closed') parts.push('close');
  else if (m.status === 'escalated') parts.push('to the human queue');
  else if (m.status === 'open') parts.push('back to AI');
  return parts.join(' · ');
}

export function renderMacroMenu() {
  if (!menu) return;
  menu.replaceChildren(...state.macros.map((m) => {
    const item = h('button', { type: 'button', class: 'macro-item', dataset: { macroId: String(m.id) } },
      h('span', { class: 'macro-name', text: String(m.name) }),
      h('span', { class: 'macro-what', text: describe(m) }));
    item.addEventListener('click', () => applyMacro(m));
    return item;
  }));
  if (!state.macros.length) menu.append(h('p', { class: 'muted small', text: 'No macros yet: add them under Manage.' }));
}

export function closeMacroMenu() {
  if (!menu) return;
  menu.hidden = true;
  button.setAttribute('aria-expanded', 'false');
}

export function renderMacroButton() {
  if (!button) return;
  const cur = state.current;
  button.disabled = !cur || isClosed(cur.info);
  if (button.disabled) closeMacroMenu();
}

async function applyMacro(macro) {
  const cur = state.current;
  closeMacroMenu();
  if (!cur) return;
  button.disabled = true;
  try {
    // The reply and the session changes come back over the socket like any other.
    await apiSend('POST', sessionPath(cur.id, `macros/${macro.id}/apply`));
    showNotice(`Macro “${macro.name}” applied.`, { tone: 'info' });
  } catch (error) {
    showNotice(error.message || 'The macro could not be applied.');
  } finally {
    renderMacroButton();
  }
}

export function bindMacros() {
  if (!button) return;
  button.addEventListener('click', () => {
    const open = menu.hidden;
    menu.hidden = !open;
    button.setAttribute('aria-expanded', String(open));
    if (open) {
      renderMacroMenu();
      const first = menu.querySelector('button');
      if (first) first.focus();
    }
  });
  menu.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      closeMacroMenu();
      button.focus();
    }
  });
  loadMacros();
}

// Canned responses: the listbox above the composer, opened by "/" or its button, filtered, and inserted at the caret.
import { h } from '../common/realtime.js';
import { apiGet } from './api.js';
import { autoGrow, noteTyping, updateComposer } from './composer.js';
import { el, state } from './state.js';

export function cannedMatches(query) {
  const q = query.toLowerCase();
  const list = state.canned.filter((c) => !q ||
    String(c.shortcut || '').toLowerCase().includes(q) || String(c.title || '').toLowerCase().includes(q));
  // Shortcuts that start with the query come first.
  return list.sort((a, b) => {
    const sa = String(a.shortcut || '').toLowerCase().startsWith(q) ? 0 : 1;
    const sb = String(b.shortcut || '').toLowerCase().startsWith(q) ? 0 : 1;
    return sa - sb;
  });
}

export function openMenu(query, slash) {
  state.menu = { open: true, items: cannedMatches(query), active: 0, slash };
  renderMenu(query);
}

export function closeMenu() {
  if (!state.menu.open && el.menu.hidden) return;
  state.menu = { open: false, items: [], active: 0, slash: false };
  el.menu.hidden = true;
  el.menu.textContent = '';
  el.input.removeAttribute('aria-activedescendant');
  el.cannedBtn.setAttribute('aria-expanded', 'false');
}

export function renderMenu(query) {
  const { items, active } = state.menu;
  el.menu.textContent = '';
  if (!items.length) {
    // A listbox must hold options (axe: aria-required-children): the empty state is a disabled one.
    el.menu.append(h('li', { class: 'canned-empty', role: 'option', 'aria-disabled': 'true', 'aria-selected': 'false',
      text: state.canned.length ? `No canned response matches “/${query}”.` : 'No canned responses yet.' }));
  }
  items.forEach((c, i) => {
    const li = h('li', {
      class: 'canned-item' + (i === active ? ' is-active' : ''),
      id: 'canned-option-' + i,
      role: 'option',
      'aria-selected': String(i === active),
      dataset: { shortcut: String(c.shortcut || ''), index: String(i) },
    },
    h('span', { class: 'canned-head' },
      h('span', { class: 'canned-shortcut', text: '/' + String(c.shortcut || '') }),
      h('span', { class: 'canned-title', text: String(c.title || '') })),
    h('span', { class: 'canned-body', text: String(c.body || '') }));
    el.menu.append(li);
  });
  el.menu.hidden = false;
  el.cannedBtn.setAttribute('aria-expanded', 'true');
  if (items.length) el.input.setAttribute('aria-activedescendant', 'canned-option-' + active);
  else el.input.removeAttribute('aria-activedescendant');
}

export function moveMenu(delta) {
  const n = state.menu.items.length;
  if (!n) return;
  state.menu.active = (state.menu.active + delta + n) % n;
  const items = el.menu.querySelectorAll('.canned-item');
  items.forEach((li, i) => {
    li.classList.toggle('is-active', i === state.menu.active);
    li.setAttribute('aria-selected', String(i === state.menu.active));
  });
  el.input.setAttribute('aria-activedescendant', 'canned-option-' + state.menu.active);
  const act = items[state.menu.active];
  if (act) act.scrollIntoView({ block: 'nearest' });
}

// The body with its placeholders filled in by the server for this conversation
// ({{customer.name}}, {{agent.name}}, {{article.url}} …); the raw body if that fails.
async function renderedBody(c) {
  const cur = state.current;
  if (!cur || c.id === undefined) return String(c.body || '');
  try {
    const data = await apiGet(`/api/v1/sessions/${encodeURIComponent(cur.id)}/canned-responses/${encodeURIComponent(c.id)}/`);
    return typeof data.text === 'string' ? data.text : String(c.body || '');
  } catch (_) {
    return String(c.body || '');
  }
}

export async function insertCanned(c) {
  if (!c) return;
  const slash = state.menu.slash;
  closeMenu();
  const body = await renderedBody(c);
  const value = el.input.value;
  if (slash || /^\/\S*$/.test(value)) {
    el.input.value = body;
    el.input.setSelectionRange(body.length, body.length);
  } else {
    const start = el.input.selectionStart != null ? el.input.selectionStart : value.length;
    const end = el.input.selectionEnd != null ? el.input.selectionEnd : value.length;
    el.input.value = value.slice(0, start) + body + value.slice(end);
    const caret = start + body.length;
    el.input.setSelectionRange(caret, caret);
  }
  closeMenu();
  el.input.focus();
  autoGrow();
  updateComposer();
  noteTyping();
}

// "/" at the very start (one word, no spaces) opens and filters the menu.
export function syncMenuWithInput() {
  const m = /^\/(\S*)$/.exec(el.input.value);
  if (m && !el.input.disabled) openMenu(m[1], true);
  else if (state.menu.open) closeMenu();
}


export function bindCanned() {
  el.menu.addEventListener('mousedown', (e) => e.preventDefault()); // keep focus in the textarea
  el.menu.addEventListener('click', (e) => {
    const li = e.target.closest('.canned-item');
    if (!li) return;
    insertCanned(state.menu.items[Number(li.dataset.index)]);
  });
  el.cannedBtn.addEventListener('click', () => {
    if (state.menu.open) {
      closeMenu();
      el.input.focus();
      return;
    }
    if (!el.input.value) {
      el.input.value = '/';
      el.input.focus();
      el.input.setSelectionRange(1, 1);
      openMenu('', true);
    } else {
      el.input.focus();
      openMenu('', false);
    }
  });
}

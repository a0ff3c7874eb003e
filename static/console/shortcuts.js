// Global keyboard shortcuts: Ctrl+K to search, Alt+Up/Down to the previous/next conversation.
import { joinSession } from './conversation.js';
import { el, state } from './state.js';

export function focusSearch() {
  el.search.focus();
  el.search.select();
}

export function moveConversation(delta) {
  const items = Array.from(el.inbox.children);
  if (!items.length) return;
  const at = state.current ? items.findIndex((li) => li.dataset.sessionId === state.current.key) : -1;
  const next = items[Math.min(items.length - 1, Math.max(0, at + delta))];
  if (next) {
    joinSession(next.dataset.sessionId);
    next.scrollIntoView({ block: 'nearest' });
  }
}


export function bindShortcuts() {
  document.addEventListener('keydown', (e) => {
    if ((e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey && (e.key === 'k' || e.key === 'K')) {
      e.preventDefault();
      focusSearch();
    } else if (e.altKey && !e.ctrlKey && !e.metaKey && (e.key === 'ArrowDown' || e.key === 'ArrowUp')) {
      e.preventDefault();
      moveConversation(e.key === 'ArrowDown' ? 1 : -1);
    }
  });
}

// Quick replies under the AI's latest message: each button sends its text as an ordinary customer message (the one message path).
import { h } from '../common/realtime.js';
import { sendText } from './composer.js';
import { el, state } from './state.js';

const MAX_SUGGESTIONS = 4;

// Only well-formed items with a label and a text become buttons; everything is rendered as text.
export function suggestionsOf(m) {
  const list = Array.isArray(m && m.suggestions) ? m.suggestions : [];
  return list
    .filter((s) => s && typeof s.label === 'string' && s.label && typeof s.text === 'string' && s.text)
    .slice(0, MAX_SUGGESTIONS);
}

export function suggestionsEl(m) {
  const items = suggestionsOf(m);
  if (!items.length) return null;
  const group = h('div', { class: 'msg-suggestions', role: 'group', 'aria-label': 'Suggested replies' });
  for (const s of items) {
    const btn = h('button', {
      type: 'button',
      class: 'msg-suggestion' + (s.action === 'handover' ? ' is-handover' : ''),
      text: s.label,
      dataset: { action: s.action === 'handover' ? 'handover' : 'message' },
    });
    btn.addEventListener('click', () => {
      if (state.closed) return;
      group.remove(); // one press, one message
      sendText(s.text);
    });
    group.append(btn);
  }
  return group;
}

// The customer wrote (or pressed a button): every offer has been answered.
export function clearSuggestions() {
  for (const group of el.messages.querySelectorAll('.msg-suggestions')) group.remove();
}

// Buttons belong to the latest message only: an older offer is stale once the conversation moved on.
export function pruneSuggestions() {
  const stored = el.messages.querySelectorAll('li[data-seq]');
  const last = stored.length ? stored[stored.length - 1] : null;
  for (const group of el.messages.querySelectorAll('.msg-suggestions')) {
    if (state.closed || group.closest('li') !== last) group.remove();
  }
}

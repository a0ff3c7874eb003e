// The composer: submit (text and attached files), Enter to send, character counter, auto-grow and typing frames.
import { charCount, TYPING_IDLE_MS, TYPING_THROTTLE_MS } from '../common/realtime.js';
import { growTextarea, isComposing, updateCharCounter } from '../common/ui.js';
import { bindAttachments, setAttachmentsEnabled, tray } from './files.js';
import { afterRender } from './messages.js';
import { flushOutbox, queueMessage } from './outbox.js';
import { sendFrame } from './socket.js';
import { clearSuggestions } from './suggestions.js';
import { config, el, mayWrite, state, TEXT } from './state.js';
import { clearNotice, showNotice } from './status.js';

export function submitComposer() {
  const content = el.input.value.trim();
  const files = tray ? tray.readyIds() : [];
  if (tray && tray.busy()) {
    showNotice('Please wait until your files have finished uploading.', { key: 'composer', tone: 'info' });
    return;
  }
  if (!content && !files.length) return;
  if (charCount(content) > config.maxChars) {
    showNotice(`Your message is too long. Please keep it under ${config.maxChars.toLocaleString()} characters.`, { key: 'composer' });
    return;
  }
  if (!sendText(content, files, tray ? tray.readyPreview() : [])) return;
  if (tray) tray.clear();
  el.input.value = '';
  autoGrow();
  updateCounter();
  stopTyping();
}

// Queue one customer message (typed with its files, or a quick reply pressed); false when the conversation is closed for good.
export function sendText(content, files = [], previews = []) {
  if (!mayWrite()) {
    showNotice(TEXT.closed, { key: 'composer' });
    return false;
  }
  clearNotice('composer');
  queueMessage(content, undefined, files, previews);
  clearSuggestions();
  state.stickToBottom = true;
  afterRender();
  flushOutbox();
  return true;
}

export function autoGrow() {
  growTextarea(el.input, 0, 160);
}

export function updateCounter() {
  const over = updateCharCounter(el.input, el.counter, config.maxChars);
  el.send.disabled = over || !mayWrite();
}

export function noteTyping() {
  if (state.closed || !el.input.value.trim()) {
    stopTyping();
    return;
  }
  const now = Date.now();
  if (now - state.typingSentAt >= TYPING_THROTTLE_MS) {
    if (sendFrame({ type: 'typing', is_typing: true })) {
      state.typingSent = true;
      state.typingSentAt = now;
    }
  }
  clearTimeout(state.typingIdleTimer);
  state.typingIdleTimer = setTimeout(stopTyping, TYPING_IDLE_MS);
}

export function stopTyping() {
  clearTimeout(state.typingIdleTimer);
  state.typingIdleTimer = null;
  if (state.typingSent) {
    sendFrame({ type: 'typing', is_typing: false });
    state.typingSent = false;
  }
}

export function setComposerEnabled(enabled, placeholder = 'Type your message…') {
  el.input.disabled = !enabled;
  el.input.placeholder = enabled ? placeholder : 'Conversation closed';
  el.composer.classList.toggle('is-disabled', !enabled);
  el.send.disabled = !enabled;
  setAttachmentsEnabled(enabled);
  if (enabled) updateCounter();
}


export function bindComposer() {
  bindAttachments(() => clearNotice('composer'));
  el.composer.addEventListener('submit', (e) => {
    e.preventDefault();
    submitComposer();
    el.input.focus();
  });

  el.input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !isComposing(e)) {
      e.preventDefault();
      submitComposer();
    }
  });

  el.input.addEventListener('input', () => {
    autoGrow();
    updateCounter();
    noteTyping();
  });
}

// The composer: reply/note mode, submit (with attached files), character counter, auto-grow, typing frames and the customer's typing indicator.
import { charCount, TYPING_IDLE_MS, TYPING_THROTTLE_MS } from '../common/realtime.js';
import { growTextarea, isComposing, showPeerTyping, updateCharCounter } from '../common/ui.js';
import { closeMenu, insertCanned, moveMenu, syncMenuWithInput } from './canned.js';
import { renderConversationState } from './conversation.js';
import { bindAttachments, syncAttachments, tray } from './files.js';
import { showNotice } from './notice.js';
import { queueOutgoing } from './outbox.js';
import { canReply, isClosed } from './sessions.js';
import { sendFrame } from './socket.js';
import { config, el, state } from './state.js';
import { queueScrollToBottom } from './transcript.js';

export function submitComposer() {
  const cur = state.current;
  const content = el.input.value.trim();
  const files = tray && state.mode === 'reply' ? tray.readyIds() : [];
  if (tray && tray.busy()) {
    showNotice('Wait until the files have finished uploading.');
    return;
  }
  if (!cur || (!content && !files.length)) return;
  if (state.forbidden) return;
  if (isClosed(cur.info)) {
    showNotice('This conversation is closed.');
    return;
  }
  if (charCount(content) > config.maxChars) {
    showNotice(`Too long: keep it under ${config.maxChars.toLocaleString()} characters.`);
    return;
  }
  if (state.mode === 'reply' && !canReply(cur.info)) {
    showNotice('Another agent is handling this conversation: add a note instead.');
    return;
  }
  queueOutgoing(state.mode === 'reply' ? 'message' : 'note', content, files, files.length ? tray.readyPreview() : []);
  if (files.length) tray.clear();
  el.input.value = '';
  state.drafts.delete(cur.key);
  stopTyping();
  closeMenu();
  autoGrow();
  updateComposer();
}

export function autoGrow() {
  growTextarea(el.input, 44, 220);
}

export function updateComposer() {
  const over = updateCharCounter(el.input, el.counter, config.maxChars);
  const cur = state.current;
  el.send.disabled = state.forbidden || !cur || isClosed(cur.info) || over || (state.mode === 'reply' && !canReply(cur.info));
  el.send.textContent = state.mode === 'note' ? 'Add note' : 'Send';
  syncAttachments();
}

export function setMode(mode) {
  const cur = state.current;
  if (mode === 'reply' && !(cur && canReply(cur.info))) mode = 'note';
  if (mode !== state.mode) stopTyping();
  state.mode = mode;
  renderConversationState();
}

export function noteTyping() {
  const cur = state.current;
  if (!cur || state.mode !== 'reply' || !canReply(cur.info) || !el.input.value.trim() || el.input.value.startsWith('/')) {
    stopTyping();
    return;
  }
  const now = Date.now();
  if (!state.typingSent || now - state.typingSentAt >= TYPING_THROTTLE_MS) {
    if (sendFrame({ type: 'typing', session_id: cur.id, is_typing: true })) {
      state.typingSent = true;
      state.typingSentAt = now;
      state.typingSessionId = cur.id;
    }
  }
  clearTimeout(state.typingIdleTimer);
  state.typingIdleTimer = setTimeout(stopTyping, TYPING_IDLE_MS);
}

export function stopTyping() {
  clearTimeout(state.typingIdleTimer);
  state.typingIdleTimer = null;
  if (state.typingSent) {
    sendFrame({ type: 'typing', session_id: state.typingSessionId, is_typing: false });
    state.typingSent = false;
  }
}

export function setCustomerTyping(on) {
  showPeerTyping(state, el.typing, on, () => { if (state.stickToBottom) queueScrollToBottom(); });
}


export function bindComposer() {
  bindAttachments(updateComposer);
  el.composer.addEventListener('submit', (e) => {
    e.preventDefault();
    submitComposer();
    el.input.focus();
  });
  el.modeReply.addEventListener('change', () => { if (el.modeReply.checked) setMode('reply'); });
  el.modeNote.addEventListener('change', () => { if (el.modeNote.checked) setMode('note'); });
  el.input.addEventListener('keydown', (e) => {
    const composing = isComposing(e);
    if (state.menu.open) {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        moveMenu(e.key === 'ArrowDown' ? 1 : -1);
        return;
      }
      if ((e.key === 'Enter' || e.key === 'Tab') && !e.shiftKey && !composing && state.menu.items.length) {
        e.preventDefault();
        insertCanned(state.menu.items[state.menu.active]);
        return;
      }
      if (e.key === 'Escape') {
        e.preventDefault();
        closeMenu();
        return;
      }
    }
    if (e.key === 'Enter' && !e.shiftKey && !composing) {
      e.preventDefault();
      submitComposer();
    }
  });
  el.input.addEventListener('input', () => {
    autoGrow();
    updateComposer();
    syncMenuWithInput();
    noteTyping();
  });
  el.input.addEventListener('blur', () => {
    // Let a click on a menu item land before the menu goes away.
    setTimeout(() => {
      if (document.activeElement !== el.input && !el.menu.contains(document.activeElement) &&
          document.activeElement !== el.cannedBtn) closeMenu();
    }, 150);
  });
}

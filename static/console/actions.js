// Session actions (take over, back to AI, assign, close): sent as control frames, buttons busy until the server answers.
import { renderConversationState } from './conversation.js';
import { showNotice } from './notice.js';
import { customerName } from './sessions.js';
import { isOnline, queueCtrl } from './socket.js';
import { ACTION_BUSY_MS, el, root, state } from './state.js';
import { offerUndo } from './undo.js';

export function doAction(type, extra) {
  const cur = state.current;
  if (!cur) return;
  if (!isOnline()) {
    showNotice("You're offline. Try again once the console has reconnected.");
    return;
  }
  queueCtrl(Object.assign({ type, session_id: cur.id }, extra || {}));
  setBusy();
}

// Action buttons wait for the server's answer (a session frame or an error) to avoid double clicks.
export function setBusy() {
  root.classList.add('is-busy');
  clearTimeout(state.busyTimer);
  state.busyTimer = setTimeout(clearBusy, ACTION_BUSY_MS);
  renderConversationState();
}

export function clearBusy() {
  clearTimeout(state.busyTimer);
  state.busyTimer = null;
  if (!root.classList.contains('is-busy')) return;
  root.classList.remove('is-busy');
  renderConversationState();
}


export function bindActions() {
  el.takeOver.addEventListener('click', () => doAction('take_over'));
  el.release.addEventListener('click', () => doAction('release'));
  el.closeBtn.addEventListener('click', () => {
    const cur = state.current;
    if (!cur || !isOnline()) {
      doAction('close'); // explains being offline
      return;
    }
    doAction('close');
    // One click closes; the toast's Undo reopens it as it was (undo.js).
    offerUndo(cur.id, customerName(cur.info));
  });
  el.assignSelect.addEventListener('change', () => {
    el.assignBtn.disabled = el.assignSelect.disabled || !el.assignSelect.value || root.classList.contains('is-busy');
  });
  el.assignBtn.addEventListener('click', () => {
    const value = el.assignSelect.value;
    if (!value) return;
    const agent = state.agents.find((a) => String(a.id) === value);
    doAction('assign', { user_id: agent ? agent.id : Number(value) });
    el.assignSelect.value = '';
  });
  el.convBack.addEventListener('click', () => root.classList.remove('show-conversation'));
  el.detailsToggle.addEventListener('click', () => {
    const open = root.classList.toggle('show-details');
    el.detailsToggle.setAttribute('aria-expanded', String(open));
  });
}

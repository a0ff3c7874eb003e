// Close with an undo toast: for UNDO_MS after "Close" the agent can take it back; Undo sends `reopen`, which restores the status and assignee the close ended.
import { isClosed } from './sessions.js';
import { isOnline, queueCtrl } from './socket.js';
import { byId, state } from './state.js';

export const UNDO_MS = 10000;
const toast = byId('undo-toast');
let pending = null; // {sessionId, timer}

export function hideUndo() {
  if (pending) clearTimeout(pending.timer);
  pending = null;
  if (toast) toast.hidden = true;
}

export function offerUndo(sessionId, name) {
  if (!toast) return;
  hideUndo();
  byId('undo-text').textContent = `Conversation with ${name} closed.`;
  toast.hidden = false;
  pending = { sessionId, timer: setTimeout(hideUndo, UNDO_MS) };
}

// "Reopen" on a closed conversation, any time later: the same `reopen` as Undo.
const reopenBtn = byId('reopen-session');

export function renderReopen() {
  if (!reopenBtn) return;
  const cur = state.current;
  reopenBtn.hidden = !cur || !isClosed(cur.info);
  reopenBtn.disabled = !isOnline();
}

export function bindUndo() {
  if (reopenBtn) {
    reopenBtn.addEventListener('click', () => {
      const cur = state.current;
      if (cur && isClosed(cur.info)) queueCtrl({ type: 'reopen', session_id: cur.id });
    });
  }
  if (!toast) return;
  byId('undo-button').addEventListener('click', () => {
    if (!pending) return;
    queueCtrl({ type: 'reopen', session_id: pending.sessionId });
    hideUndo();
  });
  byId('undo-dismiss').addEventListener('click', hideUndo);
}

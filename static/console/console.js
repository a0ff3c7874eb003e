// Agent console entry point: wires the modules of static/console/ together and connects /ws/agent/ (module map: docs/console.md).
import { bindActions } from './actions.js';
import { bindAlerts, loadNotifyPref } from './alerts.js';
import { bindCanned } from './canned.js';
import { bindComposer } from './composer.js';
import { joinSession, renderConversationState, saveDraft } from './conversation.js';
import { bindInbox, refreshWaitTimes, renderInbox, requestInbox } from './inbox.js';
import { bindMacros } from './macros.js';
import { bindManage } from './manage.js';
import { setConn } from './notice.js';
import { keyOf } from './sessions.js';
import { bindShortcuts } from './shortcuts.js';
import { checkIdle, connect, reconnectNow } from './socket.js';
import { root, state, WAIT_REFRESH_MS } from './state.js';
import { bindTeams } from './teams.js';
import { bindTranscript, queueScrollToBottom, sendRead } from './transcript.js';
import { bindTriage } from './triage.js';
import { bindUndo } from './undo.js';

export function bindWindow() {
  window.addEventListener('resize', () => { if (state.stickToBottom) queueScrollToBottom(); });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState !== 'visible') return;
    sendRead();
    checkIdle();
    reconnectNow();
  });
  window.addEventListener('online', reconnectNow);
  window.addEventListener('offline', () => { if (!state.ready) setConn('offline'); });
  window.addEventListener('beforeunload', () => saveDraft());
}

if (root) {
  // contact-panel.js imports joinSession directly; the global is for debugging and scripts.
  window.supportdeskConsole = { state, joinSession: (id) => joinSession(keyOf(id)) };
  state.notify = loadNotifyPref();
  bindInbox();
  bindActions();
  bindComposer();
  bindCanned();
  bindTranscript();
  bindAlerts();
  bindShortcuts();
  bindTeams();
  bindUndo();
  bindTriage(requestInbox);
  bindMacros();
  bindManage();
  bindWindow();
  renderConversationState();
  renderInbox();
  setInterval(refreshWaitTimes, WAIT_REFRESH_MS);
  connect();
}

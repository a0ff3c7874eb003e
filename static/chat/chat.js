// Customer chat entry point (the chat page and the widget frame): wires the modules of static/chat/ together and boots the session.
import { bindComposer, updateCounter } from './composer.js';
import { bindFollowUp } from './followup.js';
import { bindTranscript, queueScrollToBottom } from './messages.js';
import { bindClosedPanel } from './rating.js';
import { boot } from './session.js';
import { checkIdle, reconnectNow } from './socket.js';
import { root, state } from './state.js';
import { bindNotice, sendRead, setConn } from './status.js';

export function bindWindow() {
  // Keep the newest message in view when the mobile keyboard or window resizes the transcript.
  window.addEventListener('resize', () => {
    if (state.stickToBottom) queueScrollToBottom();
  });

  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState !== 'visible') return;
    sendRead();
    checkIdle(); // background tabs throttle timers; re-check liveness on return
    reconnectNow();
  });

  window.addEventListener('online', reconnectNow);
  window.addEventListener('offline', () => {
    if (!state.authed) setConn('offline');
  });
}

if (root) {
  window.supportdesk = { state }; // for debugging
  bindComposer();
  bindTranscript();
  bindNotice();
  bindClosedPanel();
  bindFollowUp();
  bindWindow();
  updateCounter();
  boot();
}

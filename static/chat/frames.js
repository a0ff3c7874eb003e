// Incoming server frames, one handler per type, and which outgoing message an error belongs to.
import { dispatchFrame, toSeq } from '../common/realtime.js';
import { afterRender, buildProvisional, receiveMessage, updateSeen } from './messages.js';
import { confirmPending, flushOutbox, markFailed } from './outbox.js';
import { applySession, closeForGood } from './session.js';
import { el, ERROR_FALLBACKS, state, STREAM_ORPHAN_MS } from './state.js';
import {
  scheduleRead, setAgentThinking, setConn, setPeerTyping, setStatusNotice, showNotice,
} from './status.js';

export const frameHandlers = {
  ready(f) {
    state.authed = true;
    state.attempts = 0;
    state.resets = 0;
    state.everOnline = true;
    // f.last_seq is only where the replay starts; the session's own last_seq marks the end of history.
    state.liveAfterSeq = (f.session && toSeq(f.session.last_seq)) || 0;
    setConn('online');
    if (f.session) applySession(f.session);
    flushOutbox();
    scheduleRead();
  },

  message(f) {
    if (f.message && typeof f.message === 'object') receiveMessage(f.message);
  },

  ack(f) {
    if (f.client_msg_id) confirmPending(String(f.client_msg_id), toSeq(f.seq), f.id, null);
  },

  stream(f) {
    const key = f.reply_to === null || f.reply_to === undefined ? '' : String(f.reply_to);
    let li = state.streams.get(key);
    if (!li) {
      li = buildProvisional();
      state.streams.set(key, li);
      el.messages.appendChild(li);
    }
    if (li.orphanTimer) { clearTimeout(li.orphanTimer); li.orphanTimer = null; }
    if (f.delta) li.querySelector('.msg-content').append(String(f.delta));
    afterRender();
  },

  agent_status(f) {
    const thinking = f.state === 'thinking';
    setAgentThinking(thinking);
    // If generation ended without a final message (error), don't leave a half reply behind forever.
    if (!thinking) {
      for (const [key, li] of state.streams) {
        if (!li.orphanTimer) {
          li.orphanTimer = setTimeout(() => {
            if (state.streams.get(key) === li) { state.streams.delete(key); li.remove(); }
          }, STREAM_ORPHAN_MS);
        }
      }
    }
  },

  typing(f) {
    if (f.role === 'agent') setPeerTyping(!!f.is_typing);
  },

  read(f) {
    if (f.role !== 'agent' && f.role !== 'assistant') return;
    const seq = toSeq(f.seq);
    if (seq && seq > state.peerReadSeq) {
      state.peerReadSeq = seq;
      updateSeen();
    }
  },

  session(f) {
    applySession(f.session);
  },

  pong() { /* any frame already refreshed the idle watchdog */ },
  // A human agent opened or left this conversation in the console.
  presence(frame) {
    if (frame.role !== 'agent' || typeof frame.name !== 'string') return;
    setStatusNotice(frame.present ? `${frame.name} is here with you.` : '');
  },

  error(f) {
    const code = String(f.code || '');
    showNotice(f.detail || ERROR_FALLBACKS[code] || 'Something went wrong.', { key: 'frame' });
    attributeError(f, code);
    if (code === 'session_closed') {
      if (!state.closed) applySession({ status: 'closed' });
      closeForGood(); // the window has passed server-side: no more writing
    }
  },
};

export function handleFrame(frame) {
  dispatchFrame(frameHandlers, frame);
}

// Errors don't always say which message they refer to; assume the most recent one in flight.
export function attributeError(f, code) {
  let p = f.client_msg_id ? state.outbox.get(String(f.client_msg_id)) : null;
  if (!p && ['too_long', 'rate_limited', 'invalid_field', 'session_closed'].includes(code)) {
    for (const candidate of state.outbox.values()) if (candidate.status === 'sending') p = candidate;
  }
  if (!p) return;
  const canRetry = code !== 'too_long' && code !== 'session_closed';
  markFailed(p, code === 'too_long' ? 'Not sent: too long' : 'Not sent', canRetry);
}

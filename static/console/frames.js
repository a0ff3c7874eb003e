// Incoming server frames, one handler per type, dispatched to the inbox, conversation and transcript modules.
import { dispatchFrame, toSeq } from '../common/realtime.js';
import { clearBusy } from './actions.js';
import { alertEscalation } from './alerts.js';
import { setCustomerTyping } from './composer.js';
import { applyCurrentInfo, renderAgents, renderConversationState } from './conversation.js';
import { placeInInbox, renderInbox, requestInbox, updateAlerts, upsertSummary } from './inbox.js';
import { clearNotice, setConn, showNotice } from './notice.js';
import { attributeError, confirmPending, flushOutbox } from './outbox.js';
import { isClosed, keyOf, pickSessionFields } from './sessions.js';
import { queueCtrl } from './socket.js';
import { el, ERROR_FALLBACKS, FILTERS, state } from './state.js';
import { onAssigned } from './teams.js';
import { queueScrollToBottom, receiveMessage, scheduleRead, updateSeen } from './transcript.js';

export const frameHandlers = {
  ready(f) {
    state.ready = true;
    state.attempts = 0;
    state.everOnline = true;
    if (f.user && f.user.id !== undefined) state.me = { id: f.user.id, name: f.user.name || state.me.name };
    if (Array.isArray(f.agents)) state.agents = f.agents.filter((a) => a && a.id !== undefined);
    if (Array.isArray(f.canned)) state.canned = f.canned.filter((c) => c && typeof c.body === 'string');
    setConn('online');
    if (!state.forbidden) clearNotice();
    renderAgents();
    // Re-sync: the inbox, then the open conversation from the last seq this page shows.
    state.inboxPending = 0;
    requestInbox();
    const cur = state.current;
    if (cur) {
      cur.joined = false;
      queueCtrl({ type: 'join', session_id: cur.id, last_seq: cur.lastSeq });
    }
    flushOutbox();
    renderConversationState();
  },

  inbox(f) {
    if (f.filter && FILTERS.has(f.filter) && f.filter !== state.filter) return; // answer to an older request
    state.inboxPending = Math.max(0, state.inboxPending - 1);
    // A newer request is on its way: skip this answer (unless the newer one looks lost).
    if (state.inboxPending > 0 && Date.now() - state.inboxRequestedAt < 5000) return;
    state.inboxPending = 0;
    const list = Array.isArray(f.sessions) ? f.sessions.filter((s) => s && s.id !== undefined) : [];
    if (state.filter !== 'closed' && list.some(isClosed)) state.closedInFilter[state.filter] = true;
    for (const s of list) state.sessions.set(keyOf(s.id), s);
    state.order = list.map((s) => keyOf(s.id));
    renderInbox();
  },

  inbox_update(f) {
    if (f.session && f.session.id !== undefined) upsertSummary(f.session);
  },

  escalation(f) {
    const s = f.session;
    if (!s || s.id === undefined) return;
    const key = keyOf(s.id);
    upsertSummary(s);
    if (!(state.current && state.current.key === key)) state.alerts.add(key);
    updateAlerts();
    alertEscalation(s, f.reason);
  },

  assigned(f) {
    onAssigned(f.session, upsertSummary);
    updateAlerts();
  },

  session(f) {
    const s = f.session;
    if (!s || s.id === undefined) return;
    const key = keyOf(s.id);
    const known = state.sessions.get(key);
    if (known) {
      const merged = Object.assign({}, known, pickSessionFields(s));
      state.sessions.set(key, merged);
      placeInInbox(key, merged);
    }
    if (state.current && state.current.key === key) {
      applyCurrentInfo(s);
      clearBusy();
    }
  },

  message(f) {
    if (f.message && typeof f.message === 'object') receiveMessage(f.message);
  },

  joined(f) {
    const cur = state.current;
    if (!cur || keyOf(f.session_id) !== cur.key) return;
    cur.joined = true;
    el.loading.hidden = true;
    state.stickToBottom = true;
    queueScrollToBottom();
    scheduleRead();
    updateSeen();
  },

  ack(f) {
    if (f.client_msg_id) confirmPending(String(f.client_msg_id), toSeq(f.seq), f.id, null);
  },

  typing(f) {
    const cur = state.current;
    if (!cur || keyOf(f.session_id) !== cur.key) return;
    if (f.role === 'customer') setCustomerTyping(!!f.is_typing);
  },

  read(f) {
    const cur = state.current;
    if (!cur || keyOf(f.session_id) !== cur.key || f.role !== 'customer') return;
    const seq = toSeq(f.seq);
    if (seq && seq > cur.peerReadSeq) {
      cur.peerReadSeq = seq;
      updateSeen();
    }
  },

  presence(f) {
    if (Array.isArray(f.agents)) {
      state.agents = f.agents.filter((a) => a && a.id !== undefined);
      renderAgents();
    }
  },

  pong() { /* any frame refreshes the idle watchdog */ },

  error(f) {
    const code = String(f.code || '');
    clearBusy();
    if (['invalid_field', 'rate_limited', 'invalid_json', 'unknown_type'].includes(code)) state.inboxPending = 0;
    showNotice(f.detail || ERROR_FALLBACKS[code] || 'Something went wrong.');
    attributeError(f, code);
    if (code === 'not_found' && state.current && !state.current.joined) el.loading.hidden = true;
    if (code === 'session_closed' && state.current && (!f.session_id || keyOf(f.session_id) === state.current.key)) {
      applyCurrentInfo({ status: 'closed' });
    }
  },
};

export function handleFrame(frame) {
  dispatchFrame(frameHandlers, frame);
}

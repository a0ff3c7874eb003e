// The session's lifecycle: boot (resume or create, with retry), abandon, status changes and their notices, closed and reopened.
import { backoff } from '../common/realtime.js';
import { api, storage } from './api.js';
import { setComposerEnabled, stopTyping } from './composer.js';
import { embed, notifyEmbed } from './embed.js';
import {
  hideTranscriptOffer, redeemResumeLink, showTranscriptOffer, updateFollowUp,
} from './followup.js';
import { markFailed, queueMessage } from './outbox.js';
import { showRatingResult } from './rating.js';
import { connect, teardownSocket } from './socket.js';
import { el, isValidSession, REST_REJECT_STATUSES, sleep, state, TEXT } from './state.js';
import {
  clearNotice, setAgentThinking, setConn, setPeerTyping, setStatusNotice, showNotice,
} from './status.js';
import { pruneSuggestions } from './suggestions.js';

export async function boot() {
  setConn('connecting');
  if (embed) await embed.ready;
  else await redeemResumeLink(); // a link from a "new reply" email replaces the stored session
  const stored = storage.load();
  if (stored) {
    const res = await api.getSession(stored);
    if (res.ok) {
      state.session = stored;
      if (res.data) applySession(res.data);
      connect();
      return;
    }
    if (REST_REJECT_STATUSES.has(res.status)) {
      storage.clear();
    } else {
      // Server or network trouble, not a verdict on the session: keep it and let the socket retry.
      state.session = stored;
      connect();
      return;
    }
  }
  await startNewSession();
}

export let creating = null;
// Coalesces concurrent callers (e.g. a reject close and a button click) into one POST.
export function startNewSession() {
  if (!creating) creating = createSessionWithRetry().finally(() => { creating = null; });
  return creating;
}

export async function createSessionWithRetry() {
  setConn(state.everOnline ? 'reconnecting' : 'connecting');
  for (let attempt = 0; ; attempt++) {
    const res = await api.createSession();
    if (res.ok && isValidSession(res.data)) {
      clearNotice('create');
      const s = { id: res.data.id, token: res.data.token };
      storage.save(s);
      state.session = s;
      const { token, ...info } = res.data; // keep the secret out of the debug-visible session info
      applySession(info);
      connect();
      return;
    }
    if (res.status === 400 || res.status === 403) {
      // A verdict on the request (unknown site, origin not allowed, forged identity):
      // retrying the same request cannot succeed, so say why and stop.
      showNotice((res.error && res.error.detail) || 'This chat could not be started.', { key: 'create' });
      setConn('offline');
      setComposerEnabled(false);
      notifyEmbed('refused', res.error);
      return;
    }
    let delay;
    if (res.status === 429) {
      delay = res.retryAfter || backoff(attempt, 2000, 30000);
      showNotice(`We're a little busy right now. Trying again in ${Math.ceil(delay / 1000)} s…`, { key: 'create', tone: 'info' });
    } else {
      delay = backoff(attempt, 1000, 15000);
      showNotice(res.status === 0
        ? "Can't reach support right now. Retrying…"
        : 'Something went wrong starting the chat. Retrying…', { key: 'create', tone: 'info' });
      setConn(navigator.onLine === false ? 'offline' : 'reconnecting');
    }
    await sleep(delay);
  }
}

// Forget the current session and its transcript; optionally keep unsent messages for the next one.
export function abandonSession({ keepOutbox }) {
  teardownSocket();
  clearTimeout(state.reconnectTimer);
  state.reconnectTimer = null;
  storage.clear();
  endReopenWindow();
  const carry = keepOutbox ? Array.from(state.outbox.values()) : [];
  Object.assign(state, {
    session: null, info: null, lastSeq: 0, liveAfterSeq: 0,
    readSeqSent: 0, peerReadSeq: 0, closed: false,
  });
  state.seqs.clear();
  state.ids.clear();
  state.streams.clear();
  state.outbox.clear();
  el.messages.textContent = '';
  // Uploads belonged to the abandoned session: the text goes on, a files-only message cannot.
  for (const p of carry) if (p.content) queueMessage(p.content, p.cid);
  setStatusNotice('');
  clearNotice();
  setAgentThinking(false);
  setPeerTyping(false);
  hideClosedUi();
  setComposerEnabled(true);
}

// Applies a (possibly partial) session object and announces meaningful transitions.
export function applySession(info) {
  if (!info || typeof info !== 'object') return;
  const prev = state.info;
  const cur = Object.assign({}, prev || {}, info);
  state.info = cur;
  updateFollowUp(cur);

  if (cur.status === 'closed') {
    if (!state.closed) showClosed(cur);
    return;
  }
  if (state.closed) reopen();

  const human = isHumanHandled(cur);
  const prevHuman = prev ? isHumanHandled(prev) : false;
  if (human && cur.assignee_name && (!prevHuman || prev.assignee_name !== cur.assignee_name)) {
    setStatusNotice(TEXT.joined(cur.assignee_name));
  } else if (cur.status === 'escalated' && !human && (!prev || prev.status !== 'escalated' || prevHuman)) {
    setStatusNotice(TEXT.escalated);
  } else if (!human && cur.status !== 'escalated' && prev &&
             (prev.status === 'escalated' || prev.status === 'closed' || prevHuman)) {
    setStatusNotice(TEXT.backToAi);
  }
}

export function isHumanHandled(s) {
  return String(s.handled_by || '').toLowerCase() === 'human';
}

export function showClosed(info) {
  state.closed = true;
  setStatusNotice(TEXT.closed);
  setAgentThinking(false);
  setPeerTyping(false);
  stopTyping();
  setComposerEnabled(false);
  pruneSuggestions();
  // Messages still waiting can never be delivered to a closed session.
  for (const p of state.outbox.values()) markFailed(p, 'Not sent', false);
  el.rating.hidden = false;
  const rated = Number(info.csat) >= 1;
  showRatingResult(rated ? Number(info.csat) : 0);
  showTranscriptOffer(info);
  el.newConv.hidden = false;
  // Within SESSION_REOPEN_WITHIN the customer may simply write on: the message reopens it.
  const until = Date.parse(info.reopen_until || '');
  if (until > Date.now()) {
    state.reopenUntil = until;
    setComposerEnabled(true, TEXT.reopenPlaceholder);
    clearTimeout(state.reopenTimer);
    state.reopenTimer = setTimeout(closeForGood, Math.min(until - Date.now(), 2 ** 31 - 1));
  }
}

function endReopenWindow() {
  clearTimeout(state.reopenTimer);
  state.reopenTimer = null;
  state.reopenUntil = 0;
}

// The reopen window passed (or the server said the conversation is closed): the composer goes.
export function closeForGood() {
  endReopenWindow();
  if (state.closed) setComposerEnabled(false);
}

export function reopen() {
  endReopenWindow();
  state.closed = false;
  hideClosedUi();
  setComposerEnabled(true);
}

export function hideClosedUi() {
  el.rating.hidden = true;
  el.newConv.hidden = true;
  el.newConv.disabled = false;
  showRatingResult(0);
  hideTranscriptOffer();
  el.emailDone.hidden = true;
}

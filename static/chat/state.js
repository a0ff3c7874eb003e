// The chat's shared state: configuration from #chat-app's data attributes, texts, the state object every module reads and writes, and the DOM references.

export const root = document.getElementById('chat-app');
// Any other page (no #chat-app): the modules load but chat.js starts nothing.
const data = root ? root.dataset : {};

// The widget frame keeps one session per site (data-storage-key); the chat page has one.
export const STORAGE_KEY = data.storageKey || 'supportdesk.session';
export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Close codes meaning "this session/token is no good": retrying the same session would loop forever.
export const SESSION_REJECT_CODES = new Set([4001, 4003, 4004]);
export const REST_REJECT_STATUSES = new Set([400, 401, 403, 404]);

export const STREAM_ORPHAN_MS = 4000;    // drop a provisional reply that never got its final message

export const TEXT = {
  escalated: "We're connecting you with a person. An agent will reply here shortly.",
  backToAi: "You're chatting with our assistant again.",
  closed: 'This conversation has been closed.',
  reopenPlaceholder: 'Write to reopen this conversation…',
  joined: (name) => `${name} joined the conversation`,
};

export const ERROR_FALLBACKS = {
  invalid_json: 'Your message could not be read. Please try again.',
  unknown_type: 'Something went wrong. Please try again.',
  invalid_field: 'Your message could not be sent. Please try again.',
  too_long: 'That message is too long.',
  rate_limited: "You're sending messages too quickly. Please wait a moment.",
  session_closed: TEXT.closed,
};

// Whether the customer may send: the conversation is open, or closed but still reopenable.
export function mayWrite() {
  return !state.closed || Date.now() < state.reopenUntil;
}

export function readCookie(name) {
  const match = document.cookie.match(new RegExp('(?:^|;\\s*)' + name + '=([^;]*)'));
  return match ? decodeURIComponent(match[1]) : '';
}

export const config = {
  maxChars: parseInt(data.maxChars, 10) || 4000,
  // The cookie is a fallback for pages served from a cache without a fresh token.
  csrf: data.csrf || readCookie('csrftoken'),
  apiBase: (data.apiBase || '/api/v1').replace(/\/+$/, ''),
  attachmentMaxBytes: parseInt(data.attachmentMaxBytes, 10) || 10 * 1024 * 1024,
  attachmentMaxFiles: parseInt(data.attachmentMaxFiles, 10) || 5,
};

export const state = {
  session: null,          // {id, token} currently in use
  info: null,             // last session object the server sent
  lastSeq: 0,             // highest seq received as a message; memory only so a reload replays everything
  liveAfterSeq: 0,        // session.last_seq at auth time: higher seqs are live, not replay
  conn: 'connecting',
  everOnline: false,
  ws: null,
  wsGen: 0,               // bumps per socket so late events from an old socket are ignored
  authed: false,
  attempts: 0,
  resets: 0,
  reconnectTimer: null,
  pingTimer: null,
  watchdogTimer: null,
  lastFrameAt: 0,
  sentAt: [],             // timestamps of recent non-auth frames (client-side rate budget)
  flushTimer: null,
  outbox: new Map(),      // client_msg_id -> {cid, content, status: queued|sending|failed, el}
  seqs: new Set(),
  ids: new Set(),
  streams: new Map(),     // reply_to -> provisional <li>
  readSeqSent: 0,
  peerReadSeq: 0,
  readTimer: null,
  typingSent: false,
  typingSentAt: 0,
  typingIdleTimer: null,
  peerTypingTimer: null,
  closed: false,
  reopenUntil: 0,         // closed: until when (ms) a message from us reopens it (server's reopen_until)
  reopenTimer: null,
  rating: 0,              // the star chosen, not yet sent
  stickToBottom: true,
  scrollQueued: false,
};

export const byId = (id) => document.getElementById(id);
export const el = {
  messages: byId('messages'),
  transcript: byId('transcript'),
  jump: byId('jump-latest'),
  composer: byId('composer'),
  input: byId('message-input'),
  send: byId('send-button'),
  counter: byId('char-counter'),
  agentStatus: byId('agent-status'),
  typing: byId('typing-indicator'),
  statusNotice: byId('status-notice'),
  notice: byId('notice'),
  noticeText: byId('notice-text'),
  noticeDismiss: byId('notice-dismiss'),
  pill: byId('connection-state'),
  rating: byId('rating'),
  ratingThanks: byId('rating-thanks'),
  newConv: byId('new-conversation'),
  attachButton: byId('attach-button'),
  attachInput: byId('attach-input'),
  attachTray: byId('attachment-tray'),
  chatBody: root ? root.querySelector('.chat-body') : null,
  ratingForm: byId('rating-form'),
  ratingComment: byId('rating-comment'),
  emailAsk: byId('email-ask'),
  emailForm: byId('email-form'),
  emailInput: byId('email-input'),
  emailDone: byId('email-done'),
  transcriptOffer: byId('transcript-offer'),
  transcriptForm: byId('transcript-form'),
  transcriptEmail: byId('transcript-email'),
  transcriptEmailLabel: byId('transcript-email-label'),
  transcriptDone: byId('transcript-done'),
};

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function isValidSession(s) {
  return !!s && typeof s.id === 'string' && UUID_RE.test(s.id) &&
    typeof s.token === 'string' && s.token.length > 0;
}

// The console's shared state: configuration from #console-app's data attributes, the state object every module reads and writes, and the DOM references.

export const root = document.getElementById('console-app');
// Any other page (no #console-app): the modules load but console.js starts nothing.
const data = root ? root.dataset : {};

export const FORBIDDEN_CLOSE = 4003;
export const FILTERS = new Set(['all', 'mine', 'team', 'unassigned', 'escalated', 'ai', 'closed', 'snoozed']);

export const WAIT_REFRESH_MS = 30000;
export const SEARCH_DEBOUNCE_MS = 250;
export const ACTION_BUSY_MS = 6000;
export const NOTIFY_KEY = 'supportdesk.console.notify';

export const ERROR_FALLBACKS = {
  invalid_json: 'The server could not read that request.',
  unknown_type: 'The server did not understand that request.',
  invalid_field: 'That request was incomplete or invalid.',
  too_long: 'That message is too long.',
  rate_limited: 'Too many actions at once. Please wait a moment.',
  session_closed: 'This conversation is closed.',
  already_assigned: 'Another agent is already handling this conversation.',
  not_found: 'That conversation no longer exists.',
};

export const config = {
  userId: data.userId || '',
  userName: data.userName || '',
  maxChars: parseInt(data.maxChars, 10) || 4000,
  csrf: data.csrf || '',
  attachmentMaxBytes: parseInt(data.attachmentMaxBytes, 10) || 10 * 1024 * 1024,
  attachmentMaxFiles: parseInt(data.attachmentMaxFiles, 10) || 5,
  loginUrl: data.loginUrl || '/console/login/',
  wsPath: data.wsPath || '/ws/agent/',
};


export const state = {
  me: { id: config.userId, name: config.userName },
  agents: [],
  canned: [],
  conn: 'connecting',
  everOnline: false,
  forbidden: false,
  ws: null,
  wsGen: 0,
  ready: false,
  attempts: 0,
  reconnectTimer: null,
  pingTimer: null,
  watchdogTimer: null,
  lastFrameAt: 0,
  sentAt: [],
  ctrlQueue: [],          // join/leave/inbox/actions waiting for frame budget (dropped on reconnect)
  ctrlTimer: null,
  outbox: new Map(),      // client_msg_id -> {cid, sessionKey, sessionId, kind, content, status, el}
  flushTimer: null,
  // Inbox
  filter: 'all',
  search: '',
  sessions: new Map(),    // String(id) -> latest SUMMARY
  order: [],              // keys of the sessions shown, in display order
  inboxPending: 0,        // inbox requests still unanswered: only the newest answer is applied
  inboxRequestedAt: 0,
  closedInFilter: {},     // filters whose server answers included closed sessions
  alerts: new Set(),      // keys of new escalations not yet opened
  searchTimer: null,
  // Conversation
  current: null,          // see newConversation()
  drafts: new Map(),      // key -> unsent composer text
  mode: 'note',
  noteRole: 'system',     // the role the server gives internal notes (learned from the transcript)
  typingSent: false,
  typingSentAt: 0,
  typingSessionId: null,
  typingIdleTimer: null,
  peerTypingTimer: null,
  readTimer: null,
  busyTimer: null,
  stickToBottom: true,
  scrollQueued: false,
  // Canned responses menu
  menu: { open: false, items: [], active: 0, slash: false },
  // Alerts
  notify: true,
  audio: null,
};

export const byId = (id) => document.getElementById(id);
export const el = {
  attachButton: byId('attach-button'),
  attachInput: byId('attach-input'),
  attachTray: byId('composer-attachments'),
  pill: byId('connection-state'),
  notice: byId('console-notice'),
  notifyToggle: byId('notify-toggle'),
  inbox: byId('inbox'),
  inboxEmpty: byId('inbox-empty'),
  inboxCount: byId('inbox-count'),
  search: byId('inbox-search'),
  filters: Array.from(document.querySelectorAll('button[data-filter]')),
  conversation: byId('conversation'),
  convEmpty: byId('conversation-empty'),
  convCustomer: byId('conv-customer'),
  convBack: byId('conv-back'),
  status: byId('session-status'),
  assignee: byId('session-assignee'),
  takeOver: byId('take-over'),
  release: byId('release'),
  closeBtn: byId('close-session'),
  assignSelect: byId('assign-select'),
  assignBtn: byId('assign-button'),
  detailsToggle: byId('details-toggle'),
  scroll: byId('transcript-scroll'),
  transcript: byId('transcript'),
  loading: byId('transcript-loading'),
  typing: byId('customer-typing'),
  jump: byId('jump-latest'),
  composer: byId('composer'),
  input: byId('composer-input'),
  send: byId('composer-send'),
  modeReply: byId('mode-reply'),
  modeNote: byId('mode-note'),
  modeHint: byId('composer-mode-hint'),
  counter: byId('composer-counter'),
  menu: byId('canned-menu'),
  cannedBtn: byId('canned-button'),
  detailsSession: byId('details-session'),
  detailName: byId('detail-name'),
  detailEmail: byId('detail-email'),
  detailStatus: byId('detail-status'),
  detailHandled: byId('detail-handled-by'),
  detailAssignee: byId('detail-assignee'),
  detailCreated: byId('detail-created'),
  detailActivity: byId('detail-activity'),
  detailClosedRow: byId('detail-closed-row'),
  detailClosed: byId('detail-closed'),
  csatStars: byId('csat-stars'),
  csat: byId('session-csat'),
  csatNone: byId('csat-none'),
  csatCommentRow: byId('csat-comment-row'),
  csatComment: byId('csat-comment'),
  agentsOnline: byId('agents-online'),
  agentsEmpty: byId('agents-empty'),
};

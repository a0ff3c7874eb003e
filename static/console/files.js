// The console composer's attachments: the shared tray (button, drag and drop, paste) uploading into the open conversation; replies only.
import { AttachmentTray, uploadFile } from '../common/attachments.js';
import { showNotice } from './notice.js';
import { isClosed, isMine } from './sessions.js';
import { config, el, state } from './state.js';

export let tray = null;
let traySession = null; // uploads belong to one session: switching conversations drops them

function uploadToCurrent(file) {
  const cur = state.current;
  if (!cur) return Promise.resolve({ ok: false, error: { code: 'no_session', detail: 'Open a conversation first.' } });
  traySession = cur.key;
  const headers = { Accept: 'application/json', 'X-CSRFToken': config.csrf };
  return uploadFile(`/api/v1/sessions/${encodeURIComponent(cur.id)}/attachments/`, file, headers);
}

export function bindAttachments(onChange) {
  if (!el.attachButton || !el.attachInput || !el.attachTray) return;
  tray = new AttachmentTray({
    list: el.attachTray,
    input: el.attachInput,
    button: el.attachButton,
    dropZone: el.composer,
    pasteTarget: el.input,
    upload: uploadToCurrent,
    onError: (text) => showNotice(text),
    onChange,
    maxBytes: config.attachmentMaxBytes,
    maxFiles: config.attachmentMaxFiles,
  });
}

// Files go with replies to a conversation this agent holds; called whenever the composer's state changes.
export function syncAttachments() {
  if (!tray) return;
  const cur = state.current;
  if (traySession && (!cur || cur.key !== traySession)) {
    tray.clear();
    traySession = null;
  }
  const on = !!cur && !state.forbidden && state.mode === 'reply' && isMine(cur.info) && !isClosed(cur.info);
  tray.enabled = on;
  el.attachButton.disabled = !on;
  if (!on && tray.items.length) tray.clear();
}

// The chat composer's attachments: the shared tray (button, drag and drop, paste) uploading into the customer's session.
import { AttachmentTray, uploadFile } from '../common/attachments.js';
import { config, el, isValidSession, root, state } from './state.js';
import { showNotice } from './status.js';

export let tray = null;

function uploadToSession(file) {
  const s = state.session;
  if (!isValidSession(s)) {
    return Promise.resolve({ ok: false, error: { code: 'not_ready', detail: 'The conversation is still starting. Please try again in a moment.' } });
  }
  const headers = { Accept: 'application/json', Authorization: 'Session ' + s.token };
  if (config.csrf) headers['X-CSRFToken'] = config.csrf;
  return uploadFile(`${config.apiBase}/sessions/${s.id}/attachments/`, file, headers);
}

export function bindAttachments(onChange) {
  if (!el.attachButton || !el.attachInput || !el.attachTray) return;
  tray = new AttachmentTray({
    list: el.attachTray,
    input: el.attachInput,
    button: el.attachButton,
    dropZone: root,
    pasteTarget: el.input,
    upload: uploadToSession,
    onError: (text) => showNotice(text, { key: 'attachments' }),
    onChange,
    maxBytes: config.attachmentMaxBytes,
    maxFiles: config.attachmentMaxFiles,
  });
}

export function setAttachmentsEnabled(enabled) {
  if (!tray) return;
  tray.setEnabled(enabled);
  el.attachButton.disabled = !enabled;
}

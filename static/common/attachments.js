// Attachments shared by the chat and the console: the composer's tray (button, drag and drop, paste, upload) and the files shown in a message.
import { h } from './realtime.js';

export const ACCEPT = 'image/png,image/jpeg,image/gif,image/webp,application/pdf';
const ACCEPTED = new Set(ACCEPT.split(','));

export function humanSize(bytes) {
  const n = Number(bytes) || 0;
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

// Only our own relative paths: a URL from a frame never becomes javascript: or another origin.
function safePath(url) {
  return typeof url === 'string' && url.startsWith('/') && !url.startsWith('//') ? url : null;
}

// The files of a stored message: image thumbnails that open the full picture, PDFs as download links.
export function attachmentsEl(list) {
  if (!Array.isArray(list) || !list.length) return null;
  const ul = h('ul', { class: 'msg-attachments', 'aria-label': 'Attachments' });
  for (const a of list) {
    const url = a && safePath(a.url);
    if (!url) continue;
    const name = typeof a.name === 'string' ? a.name : 'attachment';
    const thumb = safePath(a.thumbnail_url);
    let link;
    if (thumb) {
      link = h('a', { class: 'att-image', href: url, target: '_blank', rel: 'noopener' },
        h('img', { class: 'att-thumb', src: thumb, alt: name, loading: 'lazy' }));
    } else {
      link = h('a', { class: 'att-file', href: url, download: name },
        h('span', { class: 'att-icon', 'aria-hidden': 'true', text: 'PDF' }),
        h('span', { class: 'att-name', text: name }),
        h('span', { class: 'att-size', text: humanSize(a.size) }));
    }
    ul.append(h('li', { class: 'att', dataset: { attachmentId: String(a.id || '') } }, link));
  }
  return ul.childElementCount ? ul : null;
}

// POST one file as multipart; resolves to {ok, status, data, error} like the pages' JSON calls.
export async function uploadFile(url, file, headers) {
  const body = new FormData();
  body.append('file', file, file.name || 'pasted-image');
  let res;
  try {
    res = await fetch(url, { method: 'POST', body, headers, credentials: 'same-origin', cache: 'no-store' });
  } catch (_) {
    return { ok: false, status: 0, data: null, error: { code: 'network_error', detail: 'Network error.' } };
  }
  let data = null;
  try { data = await res.json(); } catch (_) { /* not JSON (a proxy's page) */ }
  const error = res.ok ? null
    : (data && data.error) || { code: 'http_' + res.status, detail: res.statusText || 'Upload failed.' };
  return { ok: res.ok, status: res.status, data, error };
}

const MESSAGES = {
  too_large: (max) => `That file is too large (the limit is ${humanSize(max)}).`,
  unsupported_media_type: () => 'Only images (PNG, JPEG, GIF, WebP) and PDF files can be attached.',
  type_mismatch: () => "That file's name doesn't match its content, so it can't be attached.",
  too_many: (max) => `You can attach up to ${max} files to one message.`,
};

// The composer's pending files: each is uploaded at once and sent by id with the next message.
export class AttachmentTray {
  constructor({ list, input, button, dropZone, pasteTarget, upload, onError, onChange, maxBytes, maxFiles }) {
    Object.assign(this, { list, input, upload, onError, onChange });
    this.maxBytes = maxBytes || 10 * 1024 * 1024;
    this.maxFiles = maxFiles || 5;
    this.items = [];
    this.enabled = true;
    input.accept = ACCEPT;
    button.addEventListener('click', () => { if (this.enabled) input.click(); });
    input.addEventListener('change', () => {
      this.add(input.files);
      input.value = ''; // choosing the same file again fires "change" again
    });
    // A file dropped here never makes the browser leave the page to show it, even while
    // attaching is off (a closed conversation): it is then simply ignored.
    dropZone.addEventListener('dragover', (e) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      if (this.enabled) dropZone.classList.add('is-dropping');
    });
    dropZone.addEventListener('dragleave', (e) => {
      if (!dropZone.contains(e.relatedTarget)) dropZone.classList.remove('is-dropping');
    });
    dropZone.addEventListener('drop', (e) => {
      dropZone.classList.remove('is-dropping');
      if (!hasFiles(e)) return;
      e.preventDefault();
      if (this.enabled) this.add(e.dataTransfer.files);
    });
    pasteTarget.addEventListener('paste', (e) => {
      const files = Array.from((e.clipboardData && e.clipboardData.files) || []);
      if (!this.enabled || !files.length) return; // plain text pastes as usual
      e.preventDefault();
      this.add(files);
    });
  }

  setEnabled(on) {
    this.enabled = on;
    if (!on) this.clear();
  }

  add(fileList) {
    for (const file of Array.from(fileList || [])) {
      if (this.items.length >= this.maxFiles) { this.onError(MESSAGES.too_many(this.maxFiles)); break; }
      // Quick checks for a friendly message; the server checks the content itself.
      if (file.type && !ACCEPTED.has(file.type)) { this.onError(MESSAGES.unsupported_media_type()); continue; }
      if (file.size > this.maxBytes) { this.onError(MESSAGES.too_large(this.maxBytes)); continue; }
      this.start(file);
    }
  }

  start(file) {
    const item = { file, status: 'uploading', id: null };
    const remove = h('button', { type: 'button', class: 'att-remove', 'aria-label': `Remove ${file.name || 'image'}`, text: '×' });
    remove.addEventListener('click', () => this.remove(item));
    item.label = h('span', { class: 'att-status', text: 'Uploading…' });
    item.li = h('li', { class: 'att-pending is-uploading' },
      h('span', { class: 'att-name', text: file.name || 'Pasted image' }), item.label, remove);
    this.items.push(item);
    this.list.append(item.li);
    this.list.hidden = false;
    this.changed();
    this.upload(file).then((result) => {
      if (!this.items.includes(item)) return; // removed meanwhile: the server's cleanup deletes it
      if (result.ok && result.data && result.data.id) {
        item.status = 'ready';
        item.id = result.data.id;
        item.li.classList.remove('is-uploading');
        item.label.textContent = humanSize(result.data.size);
        if (safePath(result.data.thumbnail_url)) {
          item.li.prepend(h('img', { class: 'att-pending-thumb', src: result.data.thumbnail_url, alt: '' }));
        }
      } else {
        const code = result.error && result.error.code;
        const text = MESSAGES[code] ? MESSAGES[code](this.maxBytes)
          : (result.error && result.error.detail) || 'The upload failed.';
        this.onError(text);
        this.remove(item);
      }
      this.changed();
    });
  }

  remove(item) {
    this.items = this.items.filter((x) => x !== item);
    item.li.remove();
    this.list.hidden = this.items.length === 0;
    this.changed();
  }

  busy() { return this.items.some((x) => x.status === 'uploading'); }
  readyIds() { return this.items.filter((x) => x.status === 'ready').map((x) => x.id); }
  // What an optimistic bubble shows until the stored message (with signed links) replaces it.
  readyPreview() { return this.items.filter((x) => x.status === 'ready').map((x) => ({ name: x.file.name || 'image' })); }

  clear() {
    for (const item of this.items) item.li.remove();
    this.items = [];
    this.list.hidden = true;
    this.changed();
  }

  changed() { if (this.onChange) this.onChange(); }
}

function hasFiles(e) {
  return !!e.dataTransfer && Array.from(e.dataTransfer.types || []).includes('Files');
}

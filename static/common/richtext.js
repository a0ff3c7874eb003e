// Message text on the page: the server's sanitised content_html (supportdesk/richtext.py) when present, else plain text.
import { h, safeHref } from './realtime.js';

// The same allowlist as the server's renderer. The server's output is already clean; this
// second pass means a bug there (or a hostile server in the middle) still cannot run script.
const TAGS = new Set(['P', 'BR', 'STRONG', 'EM', 'UL', 'OL', 'LI', 'CODE', 'PRE', 'A']);
const ATTRS = { A: new Set(['href', 'target', 'rel']), OL: new Set(['start']) };
const LINK_REL = 'noopener noreferrer nofollow';

// DOMParser builds an inert document: no script runs and no image loads while we read it.
const parser = typeof DOMParser === 'function' ? new DOMParser() : null;

// Copies only allowed elements and attributes into this document; anything else keeps its text.
function copyClean(source, target) {
  for (const node of source.childNodes) {
    if (node.nodeType === Node.TEXT_NODE) {
      target.append(document.createTextNode(node.textContent));
    } else if (node.nodeType === Node.ELEMENT_NODE) {
      if (!TAGS.has(node.tagName)) {
        copyClean(node, target);
        continue;
      }
      const clean = document.createElement(node.tagName.toLowerCase());
      const allowed = ATTRS[node.tagName];
      if (allowed) {
        for (const attr of Array.from(node.attributes)) {
          if (allowed.has(attr.name)) clean.setAttribute(attr.name, attr.value);
        }
      }
      if (node.tagName === 'A') {
        const href = clean.getAttribute('href');
        const safe = href === null ? null : safeHref(href);
        if (safe === null) clean.removeAttribute('href');
        clean.setAttribute('target', '_blank');
        clean.setAttribute('rel', LINK_REL);
      }
      copyClean(node, clean);
      target.append(clean);
    }
  }
}

// Fills a .msg-content element from a message: rich when the server rendered it, else text.
export function setContent(contentEl, m) {
  const text = m && typeof m.content === 'string' ? m.content : '';
  const html = m && typeof m.content_html === 'string' ? m.content_html : null;
  contentEl.textContent = '';
  if (html === null || parser === null) {
    contentEl.classList.remove('is-rich');
    contentEl.textContent = text;
    return contentEl;
  }
  const doc = parser.parseFromString(`<body>${html}</body>`, 'text/html');
  copyClean(doc.body, contentEl);
  contentEl.classList.add('is-rich');
  return contentEl;
}

export function contentEl(m) {
  return setContent(h('div', { class: 'msg-content' }), m);
}

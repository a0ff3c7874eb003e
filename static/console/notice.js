// The console's notice bar (server errors, connection problems) and the connection pill.
import { h } from '../common/realtime.js';
import { setConnPill } from '../common/ui.js';
import { el, state } from './state.js';

export let noticeTimer = null;
export function showNotice(text, { tone = 'error', link = null, sticky = false } = {}) {
  clearTimeout(noticeTimer);
  el.notice.textContent = '';
  el.notice.dataset.tone = tone;
  el.notice.append(h('span', { class: 'notice-text', text }));
  if (link) el.notice.append(' ', h('a', { class: 'notice-link', href: link.href, text: link.text }));
  const dismiss = h('button', { type: 'button', class: 'notice-dismiss', 'aria-label': 'Dismiss notice' });
  dismiss.append(svgClose());
  dismiss.addEventListener('click', clearNotice);
  el.notice.append(dismiss);
  el.notice.hidden = false;
  if (!sticky) noticeTimer = setTimeout(clearNotice, tone === 'info' ? 5000 : 12000);
}

export function clearNotice() {
  if (state.forbidden) return; // the "not authorised" notice stays: nothing else works
  clearTimeout(noticeTimer);
  el.notice.hidden = true;
  el.notice.textContent = '';
}

export function svgClose() {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 16 16');
  svg.setAttribute('width', '14');
  svg.setAttribute('height', '14');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const path = document.createElementNS(ns, 'path');
  path.setAttribute('d', 'M3.5 3.5l9 9m0-9l-9 9');
  path.setAttribute('stroke', 'currentColor');
  path.setAttribute('stroke-width', '1.8');
  path.setAttribute('stroke-linecap', 'round');
  svg.append(path);
  return svg;
}

export function setConn(conn) {
  state.conn = conn;
  setConnPill(el.pill, conn);
}

// After a hand-over: ask for an email address if none is known; when closed, offer the transcript by email; restore a session from an emailed resume link.
import { api, storage } from './api.js';
import { el, state } from './state.js';
import { showNotice } from './status.js';

const RESUME_PREFIX = '#resume=';

function knownEmail(info) {
  if (!info) return '';
  return info.customer_email || (info.contact && info.contact.email) || '';
}

// Called with every session update: the form shows only while waiting for a person without an address.
export function updateFollowUp(info) {
  const email = knownEmail(info);
  const waiting = info && info.status === 'escalated';
  el.emailAsk.hidden = !(waiting && !email);
  if (email && !el.emailDone.hidden) return;
  if (!waiting) el.emailDone.hidden = true;
}

export function showTranscriptOffer(info) {
  const email = knownEmail(info);
  el.transcriptOffer.hidden = false;
  el.transcriptDone.hidden = true;
  el.transcriptForm.hidden = false;
  // With an address on file the button alone sends it there; otherwise ask where.
  el.transcriptEmail.hidden = !!email;
  el.transcriptEmailLabel.hidden = !!email;
  el.transcriptEmail.value = '';
}

export function hideTranscriptOffer() {
  el.transcriptOffer.hidden = true;
}

async function saveEmail() {
  const email = el.emailInput.value.trim();
  if (!email || !el.emailInput.checkValidity()) {
    showNotice('Please enter a valid email address.', { key: 'email' });
    return;
  }
  const res = await api.setEmail(state.session, email);
  if (!res.ok) {
    showNotice((res.error && res.error.detail) || "We couldn't save your email. Please try again.", { key: 'email' });
    return;
  }
  state.info = Object.assign({}, state.info || {}, res.data || {});
  el.emailAsk.hidden = true;
  el.emailDone.textContent = `Thanks! We'll email ${email} when we reply.`;
  el.emailDone.hidden = false;
}

async function sendTranscript() {
  const email = el.transcriptEmail.hidden ? '' : el.transcriptEmail.value.trim();
  if (!el.transcriptEmail.hidden && (!email || !el.transcriptEmail.checkValidity())) {
    showNotice('Please enter a valid email address.', { key: 'transcript' });
    return;
  }
  const res = await api.transcript(state.session, email);
  if (!res.ok) {
    showNotice((res.error && res.error.detail) || "We couldn't send the transcript. Please try again.", { key: 'transcript' });
    return;
  }
  el.transcriptForm.hidden = true;
  el.transcriptDone.textContent = 'The transcript is on its way to your inbox.';
  el.transcriptDone.hidden = false;
}

export function bindFollowUp() {
  el.emailForm.addEventListener('submit', (e) => { e.preventDefault(); saveEmail(); });
  el.transcriptForm.addEventListener('submit', (e) => { e.preventDefault(); sendTranscript(); });
}

// An emailed link opens /#resume=<signed>: the fragment never reaches a server log. Drop it
// from the address bar at once, exchange it for the session, and store that as this browser's.
export async function redeemResumeLink() {
  const hash = window.location.hash || '';
  if (!hash.startsWith(RESUME_PREFIX)) return false;
  const link = decodeURIComponent(hash.slice(RESUME_PREFIX.length));
  window.history.replaceState(null, '', window.location.pathname + window.location.search);
  const res = await api.resume(link);
  if (!res.ok || !res.data || !res.data.id || !res.data.token) {
    showNotice((res.error && res.error.detail) || 'This link no longer works.', { key: 'resume' });
    return false;
  }
  storage.save({ id: res.data.id, token: res.data.token });
  return true;
}

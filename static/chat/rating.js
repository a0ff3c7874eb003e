// The closed conversation's panel: the star rating with an optional comment, and "Start a new conversation".
import { api } from './api.js';
import { abandonSession, startNewSession } from './session.js';
import { el, state } from './state.js';
import { showNotice } from './status.js';

function lightStars(n, { locked }) {
  for (const b of el.rating.querySelectorAll('button[data-rating]')) {
    const value = Number(b.dataset.rating);
    b.setAttribute('aria-pressed', String(n > 0 && value === n));
    b.classList.toggle('is-lit', n > 0 && value <= n);
    b.disabled = locked;
  }
}

export function showRatingResult(csat) {
  lightStars(csat, { locked: csat > 0 });
  el.ratingThanks.hidden = !(csat > 0);
  if (csat > 0 || !state.rating) el.ratingForm.hidden = true;
  if (!(csat > 0)) state.rating = 0;
}

// A star chooses; the comment box appears; "Send rating" stores both in one request.
export function chooseRating(csat) {
  state.rating = csat;
  lightStars(csat, { locked: false });
  el.ratingForm.hidden = false;
}

export async function submitRating() {
  if (!state.session || !state.rating) return;
  const csat = state.rating;
  const send = el.ratingForm.querySelector('button[type="submit"]');
  send.disabled = true;
  const res = await api.rate(state.session, csat, el.ratingComment.value.trim());
  send.disabled = false;
  if (res.ok) {
    if (res.data && typeof res.data === 'object') state.info = Object.assign({}, state.info || {}, res.data);
    showRatingResult(csat);
  } else {
    showNotice((res.error && res.error.detail) || "We couldn't save your rating. Please try again.", { key: 'rating' });
  }
}

export function bindClosedPanel() {
  el.rating.addEventListener('click', (e) => {
    const btn = e.target.closest('button[data-rating]');
    if (btn && !btn.disabled) chooseRating(Number(btn.dataset.rating));
  });
  el.ratingForm.addEventListener('submit', (e) => {
    e.preventDefault();
    submitRating();
  });

  el.newConv.addEventListener('click', async () => {
    el.newConv.disabled = true;
    abandonSession({ keepOutbox: false });
    await startNewSession();
    el.input.focus();
  });
}

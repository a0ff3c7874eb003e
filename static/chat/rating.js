// The closed conversation's panel: the star rating and "Start a new conversation".
import { api } from './api.js';
import { abandonSession, startNewSession } from './session.js';
import { el, state } from './state.js';
import { showNotice } from './status.js';

export function showRatingResult(csat) {
  const stars = el.rating.querySelectorAll('button[data-rating]');
  for (const b of stars) {
    const n = Number(b.dataset.rating);
    b.setAttribute('aria-pressed', String(csat > 0 && n === csat));
    b.classList.toggle('is-lit', csat > 0 && n <= csat);
    b.disabled = csat > 0;
  }
  el.ratingThanks.hidden = !(csat > 0);
}

export async function submitRating(csat) {
  if (!state.session) return;
  const stars = el.rating.querySelectorAll('button[data-rating]');
  for (const b of stars) b.disabled = true;
  const res = await api.rate(state.session, csat);
  if (res.ok) {
    if (res.data && typeof res.data === 'object') state.info = Object.assign({}, state.info || {}, res.data);
    showRatingResult(csat);
  } else {
    for (const b of stars) b.disabled = false;
    showNotice((res.error && res.error.detail) || "We couldn't save your rating. Please try again.", { key: 'rating' });
  }
}


export function bindClosedPanel() {
  el.rating.addEventListener('click', (e) => {
    const btn = e.target.closest('button[data-rating]');
    if (btn && !btn.disabled) submitRating(Number(btn.dataset.rating));
  });

  el.newConv.addEventListener('click', async () => {
    el.newConv.disabled = true;
    abandonSession({ keepOutbox: false });
    await startNewSession();
    el.input.focus();
  });
}

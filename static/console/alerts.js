// Escalation alerts: the sound, desktop notifications and the Alerts switch (its choice kept in localStorage).
import { joinSession } from './conversation.js';
import { showNotice } from './notice.js';
import { customerName, humanize, keyOf } from './sessions.js';
import { el, NOTIFY_KEY, state } from './state.js';

export function loadNotifyPref() {
  try { return window.localStorage.getItem(NOTIFY_KEY) !== 'off'; } catch (_) { return true; }
}

export function saveNotifyPref(on) {
  try { window.localStorage.setItem(NOTIFY_KEY, on ? 'on' : 'off'); } catch (_) { /* this page only */ }
}

export function unlockAudio() {
  const Ctx = window.AudioContext || window.webkitAudioContext;
  if (!Ctx) return null;
  try {
    if (!state.audio) state.audio = new Ctx();
    if (state.audio.state === 'suspended') state.audio.resume().catch(() => {});
  } catch (_) { return null; }
  return state.audio;
}

export function beep() {
  const ctx = unlockAudio();
  if (!ctx) return;
  try {
    const t = ctx.currentTime + 0.02;
    [[880, 0], [1320, 0.17]].forEach(([freq, at]) => {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = 'sine';
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, t + at);
      gain.gain.exponentialRampToValueAtTime(0.18, t + at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + at + 0.15);
      osc.connect(gain);
      gain.connect(ctx.destination);
      osc.start(t + at);
      osc.stop(t + at + 0.16);
    });
  } catch (_) { /* no sound is not an error */ }
}

export function alertEscalation(s, reason) {
  if (!state.notify) return;
  beep();
  if (!('Notification' in window) || window.Notification.permission !== 'granted') return;
  try {
    const why = reason ? humanize(reason) : 'needs a person';
    const preview = s.last_message && s.last_message.content ? '\n' + String(s.last_message.content) : '';
    const n = new window.Notification(`Escalated: ${customerName(s)}`, {
      body: `Reason: ${why}${preview}`,
      tag: 'supportdesk-escalation-' + keyOf(s.id),
    });
    n.onclick = () => {
      try { window.focus(); } catch (_) { /* ignore */ }
      joinSession(keyOf(s.id));
      n.close();
    };
  } catch (_) { /* some browsers only allow notifications from a service worker */ }
}

export function onNotifyToggle() {
  state.notify = el.notifyToggle.checked;
  saveNotifyPref(state.notify);
  if (!state.notify) return;
  unlockAudio(); // a user gesture: the audio context may start now
  if ('Notification' in window && window.Notification.permission === 'default') {
    try {
      const p = window.Notification.requestPermission();
      if (p && typeof p.then === 'function') p.then(notifyPermissionHint, () => {});
    } catch (_) { /* old callback-only API: ignore */ }
  } else {
    notifyPermissionHint();
  }
}

export function notifyPermissionHint() {
  if ('Notification' in window && window.Notification.permission === 'denied') {
    showNotice('Desktop notifications are blocked by the browser; only the sound will play.', { tone: 'info' });
  }
}


export function bindAlerts() {
  el.notifyToggle.checked = state.notify;
  el.notifyToggle.addEventListener('change', onNotifyToggle);
  const unlock = () => {
    if (state.notify) unlockAudio();
    document.removeEventListener('pointerdown', unlock, true);
    document.removeEventListener('keydown', unlock, true);
  };
  document.addEventListener('pointerdown', unlock, true);
  document.addEventListener('keydown', unlock, true);
}

// supportdesk widget loader (served as /widget.js): draws the launcher in a shadow root on the host page and opens the desk's chat in an iframe. No dependencies.
(function () {
  'use strict';

  var script = document.currentScript;
  if (!script || window.Supportdesk && window.Supportdesk.loaded) return;
  var deskOrigin = new URL(script.src, document.baseURI).origin;
  var siteKey = script.getAttribute('data-site') || '';
  var stateKey = 'supportdesk.widget.' + siteKey;
  var identity = {
    user_id: script.getAttribute('data-user-id') || '',
    user_hash: script.getAttribute('data-user-hash') || '',
    name: script.getAttribute('data-user-name') || '',
    email: script.getAttribute('data-user-email') || '',
  };
  var ui = null;
  var frameInitialised = false;

  // Supportdesk.identify({user_id, user_hash, name, email}) before or after the loader ran.
  var api = window.Supportdesk = window.Supportdesk || {};
  var queued = Array.isArray(api.q) ? api.q : [];
  api.loaded = true;
  api.identify = function (who) {
    who = who || {};
    identity = {
      user_id: String(who.user_id || ''), user_hash: String(who.user_hash || ''),
      name: String(who.name || ''), email: String(who.email || ''),
    };
    if (ui && ui.iframe && frameInitialised) sendToFrame({ type: 'identify' });
  };
  api.open = function () { if (ui) openPanel(); };
  api.close = function () { if (ui) closePanel(false); };
  queued.forEach(function (call) { if (call && api[call[0]]) api[call[0]].apply(null, call[1] || []); });

  if (!siteKey) { console.warn('supportdesk: the script tag needs data-site="<site key>".'); return; }

  function loadState() {
    try { return JSON.parse(window.sessionStorage.getItem(stateKey)) || {}; } catch (_) { return {}; }
  }
  function saveState(patch) {
    var next = Object.assign(loadState(), patch);
    try { window.sessionStorage.setItem(stateKey, JSON.stringify(next)); } catch (_) { /* this page only */ }
  }

  fetch(deskOrigin + '/widget/' + encodeURIComponent(siteKey) + '/config', { mode: 'cors', credentials: 'omit' })
    .then(function (res) {
      if (!res.ok) throw new Error('HTTP ' + res.status);
      return res.json();
    })
    .then(build)
    .catch(function (err) {
      // The site does not list this page's origin (or the key is wrong): no launcher at all.
      console.warn('supportdesk: the chat widget is not enabled on ' + location.origin + ' (' + err.message + ').');
    });

  var CSS = [
    ':host { all: initial; }',
    '.launcher { position: fixed; right: 20px; bottom: 20px; z-index: 2147483646; width: 56px; height: 56px;',
    '  border-radius: 50%; border: 0; background: var(--accent); color: #fff; cursor: pointer;',
    '  box-shadow: 0 6px 20px rgba(0,0,0,.25); display: grid; place-items: center; }',
    '.launcher:focus-visible { outline: 3px solid #111; outline-offset: 3px; }',
    '.badge { position: absolute; top: -4px; right: -4px; min-width: 20px; height: 20px; padding: 0 5px;',
    '  box-sizing: border-box; border-radius: 10px; background: #c0261b; color: #fff;',
    '  font: 600 12px/20px system-ui, sans-serif; text-align: center; }',
    '.badge[hidden], .greeting[hidden], .panel[hidden] { display: none; }',
    '.greeting { position: fixed; right: 86px; bottom: 28px; z-index: 2147483646; max-width: 240px;',
    '  padding: 10px 14px; border-radius: 12px; background: #fff; color: #1b2230;',
    '  font: 14px/1.4 system-ui, sans-serif; box-shadow: 0 4px 16px rgba(0,0,0,.18); }',
    '.panel { position: fixed; right: 20px; bottom: 88px; z-index: 2147483647; width: 380px;',
    '  height: min(600px, calc(100vh - 110px)); border-radius: 16px; overflow: hidden; background: #fff;',
    '  box-shadow: 0 12px 40px rgba(0,0,0,.3); }',
    '.panel iframe { width: 100%; height: 100%; border: 0; display: block; }',
    '@media (max-width: 480px) { .panel { right: 0; bottom: 0; width: 100vw; height: 100vh; border-radius: 0; } }',
  ].join('\n');

  var ICON_CHAT = '<svg viewBox="0 0 24 24" width="28" height="28" aria-hidden="true" focusable="false"><path fill="currentColor" d="M12 3C6.9 3 3 6.6 3 11c0 2.3 1.1 4.4 2.9 5.9L5 21l4.3-2.3c.9.2 1.8.3 2.7.3 5.1 0 9-3.6 9-8s-3.9-8-9-8Z"/></svg>';
  var ICON_CLOSE = '<svg viewBox="0 0 24 24" width="24" height="24" aria-hidden="true" focusable="false"><path d="M6 6l12 12M18 6 6 18" stroke="currentColor" stroke-width="2.4" stroke-linecap="round"/></svg>';

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text) node.textContent = text;
    return node;
  }

  function build(config) {
    var host = el('div', { id: 'supportdesk-widget' });
    // Accent colour comes from the desk, validated as #rrggbb there; checked again here.
    var accent = /^#[0-9a-f]{6}$/i.test(config.accent_color) ? config.accent_color : '#2563eb';
    host.style.setProperty('--accent', accent);
    var shadow = host.attachShadow({ mode: 'open' });
    var style = el('style');
    style.textContent = CSS;
    var name = String(config.name || 'Support');
    var launcher = el('button', {
      type: 'button', class: 'launcher', 'aria-expanded': 'false',
      'aria-controls': 'supportdesk-panel', 'aria-haspopup': 'dialog',
    });
    var label = el('span', { class: 'label' });
    var icon = el('span', { 'aria-hidden': 'true' });
    var badge = el('span', { class: 'badge', 'aria-hidden': 'true', hidden: '' });
    launcher.append(icon, badge);
    var greeting = el('p', { class: 'greeting', 'aria-hidden': 'true' }, String(config.greeting || ''));
    if (!config.greeting) greeting.hidden = true;
    var panel = el('div', {
      id: 'supportdesk-panel', class: 'panel', role: 'dialog', 'aria-label': 'Chat with ' + name, hidden: '',
    });
    // A polite live region on the host page: unread messages are announced while closed.
    var live = el('span', { role: 'status', 'aria-live': 'polite', style: 'position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);' });
    shadow.append(style, greeting, panel, launcher, live);
    (document.body || document.documentElement).appendChild(host);
    ui = {
      host: host, launcher: launcher, label: label, icon: icon, badge: badge, greeting: greeting,
      panel: panel, live: live, iframe: null, frameUrl: config.frame_url, name: name,
      greetingText: String(config.greeting || ''), unread: 0, open: false,
    };
    launcher.addEventListener('click', function () { if (ui.open) closePanel(true); else openPanel(); });
    shadow.addEventListener('keydown', function (e) {
      if (e.key === 'Escape' && ui.open) { e.preventDefault(); closePanel(true); }
    });
    window.addEventListener('message', onFrameMessage);
    var saved = loadState();
    ui.unread = saved.unread || 0;
    render();
    // A conversation already going on (this tab): load it now so the badge stays live, and
    // reopen the panel if it was open on the previous page.
    if (saved.active) ensureFrame();
    if (saved.open) openPanel({ focus: false });
  }

  function render() {
    ui.icon.innerHTML = ui.open ? ICON_CLOSE : ICON_CHAT; // constant markup, not data
    ui.badge.textContent = ui.unread > 9 ? '9+' : String(ui.unread);
    ui.badge.hidden = ui.open || ui.unread === 0;
    ui.greeting.hidden = ui.open || !ui.greetingText || loadState().greeted === true;
    var text = ui.open ? 'Close chat with ' + ui.name : 'Open chat with ' + ui.name;
    if (!ui.open && ui.unread) text += ' (' + ui.unread + ' unread ' + (ui.unread === 1 ? 'message' : 'messages') + ')';
    ui.launcher.setAttribute('aria-label', text);
    ui.launcher.setAttribute('aria-expanded', ui.open ? 'true' : 'false');
  }

  function ensureFrame() {
    if (ui.iframe) return;
    var frame = el('iframe', {
      src: ui.frameUrl, title: 'Chat with ' + ui.name,
      allow: 'clipboard-write', referrerpolicy: 'origin',
    });
    ui.iframe = frame;
    ui.panel.appendChild(frame);
    saveState({ active: true });
  }

  function sendToFrame(message) {
    message.source = 'supportdesk-loader';
    if (ui.iframe && ui.iframe.contentWindow) ui.iframe.contentWindow.postMessage(message, deskOrigin);
  }

  function openPanel(options) {
    var focus = !options || options.focus !== false;
    ensureFrame();
    ui.open = true;
    ui.unread = 0;
    ui.panel.hidden = false;
    saveState({ open: true, unread: 0, greeted: true });
    render();
    if (focus) {
      ui.iframe.focus();
      sendToFrame({ type: 'open' });
    }
  }

  function closePanel(returnFocus) {
    ui.open = false;
    ui.panel.hidden = true;
    saveState({ open: false });
    render();
    if (returnFocus) ui.launcher.focus();
  }

  function onFrameMessage(event) {
    // Only our own iframe, from the desk's origin, may drive the launcher.
    if (!ui.iframe || event.source !== ui.iframe.contentWindow || event.origin !== deskOrigin) return;
    var data = event.data;
    if (!data || data.source !== 'supportdesk') return;
    if (data.type === 'hello') {
      frameInitialised = true;
      sendToFrame({ type: 'init', pageUrl: location.href, identity: identity });
      if (ui.open) sendToFrame({ type: 'open' });
    } else if (data.type === 'close') {
      closePanel(true);
    } else if (data.type === 'message' && !ui.open) {
      ui.unread += 1;
      saveState({ unread: ui.unread });
      render();
      ui.live.textContent = 'New message from ' + ui.name;
    }
  }
})();

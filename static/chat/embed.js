// The widget-frame hooks: static/widget/frame.js (loaded first, only in the widget's frame) sets window.supportdeskEmbed.

// Set by static/widget/frame.js when this page runs inside the embeddable widget: it says
// when to start (after the loader's handshake / pre-chat form), what to send when opening
// a session, and hears about new messages (unread badge) and refusals.
export const embed = window.supportdeskEmbed || null;
export const notifyEmbed = (type, detail) => { if (embed) embed.notify(type, detail); };

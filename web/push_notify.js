// Push notifications, the pure part: what a push payload turns into (a
// notification to show, notifications to close, the app badge), the messages
// the service worker and the page exchange, and small helpers for subscribing
// and for the per-chat settings. No DOM, no service worker globals: imported by
// sw.js, by the page (push.js, the chat info view) and by the node unit tests
// (tests/e2e/unit/push_notify.test.mjs).

// postMessage between the service worker and the page.
export const SW_MSG = {
  // SW -> page, with a MessagePort: "which chat do you show?" The page answers
  // {chat_id} (null when hidden or no conversation is open).
  WHICH_CHAT: 'chatd:which-chat',
  // SW -> page: a notification was clicked, open this chat.
  OPEN_CHAT: 'chatd:open-chat',
  // SW -> page: the browser renewed the push subscription, register it again.
  SUBSCRIPTION_CHANGED: 'chatd:subscription-changed',
};

export const GENERIC_BODY = 'New message';

// The payload as JSON text (PushMessageData.text()) or an object -> the payload,
// or null when it is not one of ours.
export function parsePayload(data) {
  let p = data;
  if (typeof data === 'string') {
    try { p = JSON.parse(data); } catch { return null; }
  }
  if (!p || typeof p !== 'object' || typeof p.chat_id !== 'string' || !p.chat_id) return null;
  if (p.type !== 'message' && p.type !== 'clear') return null;
  return p;
}

// The URL that opens a chat (app.js's hash routes).
export function chatUrl(chatId) {
  return `/#/chat/${encodeURIComponent(chatId)}`;
}

// The notification for a `message` payload: {title, options} for
// registration.showNotification(). One per chat (tag = chat_id): a newer
// message replaces the older one, and alerts again (renotify).
export function notificationFor(p) {
  const title = p.chat_title || p.sender_name || 'chatd';
  const body = typeof p.preview === 'string' && p.preview !== '' ? p.preview : GENERIC_BODY;
  return {
    title,
    options: {
      body,
      tag: p.chat_id,
      renotify: true,
      icon: '/icon.svg',
      timestamp: typeof p.ts === 'number' ? p.ts : undefined,
      data: { chat_id: p.chat_id, seq: p.seq },
    },
  };
}

// What to do with a payload.
//   openChats: chat ids shown by a visible page of this origin right now
//   shown:     the notifications currently shown for the payload's chat
//              (registration.getNotifications({tag: chat_id}); objects with
//              .tag and .data)
// -> {show: {title, options} | null, close: [items of `shown`], badge: n | null}
// badge: the user's total unread for navigator.setAppBadge (0 clears it), null
// when the payload carries none.
export function planPush(p, { openChats = [], shown = [] } = {}) {
  const plan = { show: null, close: [], badge: null };
  if (!p) return plan;
  if (Number.isInteger(p.unread) && p.unread >= 0) plan.badge = p.unread;
  if (p.type === 'message') {
    // The chat is on screen already: the page shows the message itself.
    if (!openChats.includes(p.chat_id)) plan.show = notificationFor(p);
  } else if (p.type === 'clear') {
    // Read elsewhere (or deleted) up to up_to_seq: close the chat's notification,
    // unless it is for a newer message than that.
    plan.close = shown.filter((n) => {
      if (n.tag !== p.chat_id) return false;
      const seq = n.data && n.data.seq;
      return !(Number.isInteger(seq) && Number.isInteger(p.up_to_seq) && seq > p.up_to_seq);
    });
  }
  return plan;
}

// ---- subscribing -----------------------------------------------------------

// base64url (padded or not) -> Uint8Array; throws on anything else.
export function base64UrlToBytes(s) {
  if (typeof s !== 'string' || !/^[A-Za-z0-9_-]*={0,2}$/.test(s)) throw new Error('not base64url');
  const b64 = s.replace(/=+$/, '').replace(/-/g, '+').replace(/_/g, '/');
  const padded = b64 + '='.repeat((4 - (b64.length % 4)) % 4);
  const bin = atob(padded);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

// The VAPID public key: an uncompressed P-256 point (65 bytes, 0x04 first).
export function vapidKeyBytes(publicKey) {
  const b = base64UrlToBytes(publicKey);
  if (b.length !== 65 || b[0] !== 4) throw new Error('The server sent an invalid push key.');
  return b;
}

export function sameBytes(a, b) {
  if (!a || !b) return false;
  const x = new Uint8Array(a);
  const y = new Uint8Array(b);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

// PushSubscription.toJSON() -> the body of PUT /v1/devices/{id}/push.
export function pushTarget(json) {
  const keys = (json && json.keys) || {};
  if (!json || !json.endpoint || !keys.p256dh || !keys.auth) throw new Error('The push subscription is incomplete.');
  return { kind: 'webpush', endpoint: json.endpoint, p256dh: keys.p256dh, auth: keys.auth };
}

// ---- per-chat settings -------------------------------------------------------

// "Always" is a mute until the last millisecond of year 9999 (UTC).
export const MUTE_FOREVER = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const HOUR = 3600 * 1000;
export const MUTE_CHOICES = [
  ['off', 'Off'],
  ['8h', 'For 8 hours'],
  ['1w', 'For 1 week'],
  ['always', 'Always'],
];

// A choice -> the muted_until to send.
export function muteUntil(choice, now = Date.now()) {
  if (choice === '8h') return now + 8 * HOUR;
  if (choice === '1w') return now + 7 * 24 * HOUR;
  if (choice === 'always') return MUTE_FOREVER;
  return null;
}

// A chat's settings (absent from older servers: the defaults) -> what the
// mute control shows: {choice: 'off' | 'always' | 'until', until: ms | null}.
export function muteState(settings, now = Date.now()) {
  const until = settings && Number.isFinite(settings.muted_until) ? settings.muted_until : null;
  if (until === null || until <= now) return { choice: 'off', until: null };
  // Anything beyond year 9000 is "always" (other clients may pick another far date).
  if (until >= Date.UTC(9000, 0, 1)) return { choice: 'always', until };
  return { choice: 'until', until };
}

export function previewOn(settings) {
  return !settings || settings.preview !== false;
}

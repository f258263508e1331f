// The service worker (a module worker, scope /): push notifications only, no
// fetch handler (the page's requests go straight to the network). The payload
// logic lives in push_notify.js; this file is the glue to the browser.
//
// Everything is reached through `self` (registration, clients, navigator), so
// the node unit tests can run this file against a fake `self`.

import { SW_MSG, parsePayload, planPush, chatUrl } from './push_notify.js';

const ASK_TIMEOUT_MS = 400;

self.addEventListener('install', () => { self.skipWaiting(); });
self.addEventListener('activate', (e) => { e.waitUntil(self.clients.claim()); });

async function windows() {
  return self.clients.matchAll({ type: 'window', includeUncontrolled: true });
}

// Asks one page which chat it shows; null if it does not answer in time.
function askChat(client) {
  return new Promise((resolve) => {
    const ch = new MessageChannel();
    const timer = setTimeout(() => { ch.port1.close(); resolve(null); }, ASK_TIMEOUT_MS);
    ch.port1.onmessage = (e) => {
      clearTimeout(timer);
      ch.port1.close();
      resolve(e.data && typeof e.data.chat_id === 'string' ? e.data.chat_id : null);
    };
    try {
      client.postMessage({ type: SW_MSG.WHICH_CHAT }, [ch.port2]);
    } catch {
      clearTimeout(timer);
      resolve(null);
    }
  });
}

// The chats visible pages have open right now.
async function openChats() {
  const visible = (await windows()).filter((c) => c.visibilityState === 'visible');
  const ids = await Promise.all(visible.map(askChat));
  return ids.filter(Boolean);
}

async function setBadge(n) {
  const nav = self.navigator;
  if (n === null || !nav || !nav.setAppBadge) return;
  try {
    if (n > 0) await nav.setAppBadge(n);
    else if (nav.clearAppBadge) await nav.clearAppBadge();
    else await nav.setAppBadge(0);
  } catch {
    /* badges unsupported here (not an installed app) */
  }
}

async function onPush(data) {
  let text = null;
  try { text = data ? data.text() : null; } catch { text = null; }
  const p = parsePayload(text);
  if (!p) return;
  const reg = self.registration;
  const plan = planPush(p, {
    openChats: p.type === 'message' ? await openChats() : [],
    shown: p.type === 'clear' ? await reg.getNotifications({ tag: p.chat_id }) : [],
  });
  for (const n of plan.close) n.close();
  if (plan.show) await reg.showNotification(plan.show.title, plan.show.options);
  await setBadge(plan.badge);
}

async function onClick(notification) {
  notification.close();
  const chatId = notification.data && notification.data.chat_id;
  const all = await windows();
  // Prefer a focused page, then a visible one, then any.
  const rank = (c) => (c.focused ? 0 : c.visibilityState === 'visible' ? 1 : 2);
  const win = all.slice().sort((a, b) => rank(a) - rank(b))[0];
  if (win) {
    try { await win.focus(); } catch { /* focus needs user activation; the message still goes */ }
    if (chatId) win.postMessage({ type: SW_MSG.OPEN_CHAT, chat_id: chatId });
    return;
  }
  await self.clients.openWindow(chatId ? chatUrl(chatId) : '/');
}

self.addEventListener('push', (e) => { e.waitUntil(onPush(e.data)); });
self.addEventListener('notificationclick', (e) => { e.waitUntil(onClick(e.notification)); });
// The browser renewed the subscription: open pages send the new one to the
// server now (push.js compares the endpoint with the one it registered, also
// whenever it starts, for when no page was open).
self.addEventListener('pushsubscriptionchange', (e) => {
  e.waitUntil(windows().then((all) => {
    for (const c of all) c.postMessage({ type: SW_MSG.SUBSCRIPTION_CHANGED });
  }));
});

// Unit tests (node:test) of web/sw.js, the service worker, run against a fake
// `self` (registration, clients, navigator): push -> showNotification / close /
// badge, a visible page with the chat open suppresses the notification, and
// notificationclick focuses a page or opens one.
import test from 'node:test';
import assert from 'node:assert/strict';

const listeners = {};
const shown = []; // notifications currently shown: {title, tag, data, body, closed}
const badges = [];
let windows = [];
const opened = [];

const fakeSelf = {
  addEventListener(type, fn) { listeners[type] = fn; },
  skipWaiting() {},
  registration: {
    async showNotification(title, options) {
      // Same tag replaces.
      for (let i = shown.length - 1; i >= 0; i--) if (shown[i].tag === options.tag) shown.splice(i, 1);
      const n = { title, ...options, close() { const i = shown.indexOf(n); if (i >= 0) shown.splice(i, 1); } };
      shown.push(n);
    },
    async getNotifications({ tag } = {}) { return shown.filter((n) => !tag || n.tag === tag); },
  },
  clients: {
    async matchAll(opts) {
      assert.equal(opts.type, 'window');
      return windows;
    },
    async openWindow(url) { opened.push(url); return null; },
    async claim() {},
  },
  navigator: {
    async setAppBadge(n) { badges.push(n); },
    async clearAppBadge() { badges.push(0); },
  },
};
globalThis.self = fakeSelf;
await import('../../../web/sw.js');

// A page: answers "which chat" with `chatId` (or never, with answer: false).
function page({ chatId = null, visible = true, focused = false, answer = true } = {}) {
  const w = {
    visibilityState: visible ? 'visible' : 'hidden', focused, messages: [], focusedCalls: 0,
    postMessage(msg, ports) {
      w.messages.push(msg);
      if (msg.type === 'chatd:which-chat' && answer) ports[0].postMessage({ chat_id: chatId });
    },
    async focus() { w.focusedCalls++; return w; },
  };
  return w;
}

async function fire(type, fields) {
  let done = null;
  const e = { ...fields, waitUntil(p) { done = p; } };
  listeners[type](e);
  await done;
}
const pushData = (obj) => ({ data: { text: () => JSON.stringify(obj) } });
const msg = (over = {}) => ({ type: 'message', user_id: 'u1', device_id: 'd1', chat_id: 'c1', seq: 1, message_id: 'm1',
  sender: 'u2', sender_name: 'Bob', chat_title: 'Bob', preview: 'hi', unread: 1, ts: 1, ...over });

test.beforeEach(() => { shown.length = 0; badges.length = 0; opened.length = 0; windows = []; });

test('a message push shows one notification per chat, newer replaces older', async () => {
  await fire('push', pushData(msg()));
  await fire('push', pushData(msg({ seq: 2, preview: 'second', unread: 2 })));
  await fire('push', pushData(msg({ chat_id: 'c2', chat_title: 'Team', preview: null, unread: 3 })));
  assert.deepEqual(shown.map((n) => [n.title, n.body, n.tag, n.data.seq, n.renotify]),
    [['Bob', 'second', 'c1', 2, true], ['Team', 'New message', 'c2', 1, true]]);
  assert.deepEqual(badges, [1, 2, 3]);
});

test('clear closes the chat notification and updates the badge', async () => {
  await fire('push', pushData(msg({ seq: 4 })));
  await fire('push', pushData(msg({ chat_id: 'c2', seq: 9 })));
  await fire('push', pushData({ type: 'clear', user_id: 'u1', device_id: 'd1', chat_id: 'c1', up_to_seq: 4, unread: 0 }));
  assert.deepEqual(shown.map((n) => n.tag), ['c2']);
  assert.equal(badges.at(-1), 0);
});

test('no notification when a visible page has the chat open; hidden pages do not count', async () => {
  windows = [page({ chatId: 'c1' })];
  await fire('push', pushData(msg()));
  assert.equal(shown.length, 0);
  assert.deepEqual(badges, [1]);
  windows = [page({ chatId: 'c1', visible: false }), page({ chatId: 'c9' })];
  await fire('push', pushData(msg()));
  assert.equal(shown.length, 1);
  assert.equal(windows[0].messages.length, 0, 'hidden pages are not asked');
});

test('a page that does not answer does not block the notification', async () => {
  windows = [page({ answer: false })];
  const t0 = Date.now();
  await fire('push', pushData(msg()));
  assert.equal(shown.length, 1);
  assert.ok(Date.now() - t0 < 2000);
});

test('garbage payloads are ignored', async () => {
  await fire('push', { data: { text: () => 'not json' } });
  await fire('push', { data: null });
  assert.equal(shown.length, 0);
});

test('notificationclick: focuses an open page and tells it the chat', async () => {
  const hidden = page({ visible: false });
  const visible = page({ visible: true });
  windows = [hidden, visible];
  let closed = false;
  await fire('notificationclick', { notification: { data: { chat_id: 'c7', seq: 3 }, close() { closed = true; } } });
  assert.ok(closed);
  assert.equal(visible.focusedCalls, 1);
  assert.deepEqual(visible.messages, [{ type: 'chatd:open-chat', chat_id: 'c7' }]);
  assert.equal(hidden.messages.length, 0);
  assert.deepEqual(opened, []);
});

test('notificationclick without a page opens /#/chat/<id>', async () => {
  await fire('notificationclick', { notification: { data: { chat_id: 'c 7' }, close() {} } });
  assert.deepEqual(opened, ['/#/chat/c%207']);
});

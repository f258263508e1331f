// Unit tests (node:test) of web/push_notify.js: what a push payload becomes.
//   node --test tests/e2e/unit
import test from 'node:test';
import assert from 'node:assert/strict';
import {
  SW_MSG, GENERIC_BODY, parsePayload, notificationFor, planPush, chatUrl,
  base64UrlToBytes, vapidKeyBytes, sameBytes, pushTarget,
  MUTE_FOREVER, MUTE_CHOICES, muteUntil, muteState, previewOn,
} from '../../../web/push_notify.js';

const message = (over = {}) => ({
  type: 'message', user_id: 'u1', device_id: 'd1', chat_id: 'c1', seq: 7, message_id: 'm7',
  sender: 'u2', sender_name: 'Bob', chat_title: 'Team', preview: 'See you at 5', unread: 3, ts: 1700000000000,
  ...over,
});
const clear = (over = {}) => ({ type: 'clear', user_id: 'u1', device_id: 'd1', chat_id: 'c1', up_to_seq: 7, unread: 1, ...over });

test('parsePayload: JSON text or object; anything else is null', () => {
  assert.deepEqual(parsePayload(JSON.stringify(message())), message());
  assert.deepEqual(parsePayload(clear()), clear());
  for (const bad of [null, undefined, '', 'not json', '42', '"x"', '{}', JSON.stringify({ type: 'message' }),
    JSON.stringify({ type: 'other', chat_id: 'c1' }), JSON.stringify({ type: 'message', chat_id: 5 })]) {
    assert.equal(parsePayload(bad), null, String(bad));
  }
});

test('message -> title is the chat title, body the preview, tag the chat, data chat_id and seq', () => {
  const n = notificationFor(message());
  assert.equal(n.title, 'Team');
  assert.equal(n.options.body, 'See you at 5');
  assert.equal(n.options.tag, 'c1');
  assert.equal(n.options.renotify, true);
  assert.deepEqual(n.options.data, { chat_id: 'c1', seq: 7 });
  assert.equal(n.options.timestamp, 1700000000000);
});

test('message without a chat title (direct chat) -> the sender name', () => {
  assert.equal(notificationFor(message({ chat_title: null })).title, 'Bob');
  assert.equal(notificationFor(message({ chat_title: '' })).title, 'Bob');
  assert.equal(notificationFor(message({ chat_title: null, sender_name: null })).title, 'chatd');
});

test('preview null (preview off, or media without caption) -> the generic body', () => {
  assert.equal(notificationFor(message({ preview: null })).options.body, GENERIC_BODY);
  assert.equal(notificationFor(message({ preview: undefined })).options.body, 'New message');
  assert.equal(notificationFor(message({ preview: '' })).options.body, 'New message');
});

test('planPush message: show, and the badge is the unread total', () => {
  const plan = planPush(message({ unread: 12 }));
  assert.equal(plan.show.title, 'Team');
  assert.equal(plan.show.options.tag, 'c1');
  assert.deepEqual(plan.close, []);
  assert.equal(plan.badge, 12);
});

test('planPush message for a chat open in a visible page: no notification, badge still set', () => {
  const plan = planPush(message(), { openChats: ['c1'] });
  assert.equal(plan.show, null);
  assert.equal(plan.badge, 3);
  assert.ok(planPush(message(), { openChats: ['c2'] }).show, 'another chat open: shown');
});

test('planPush clear: closes the notifications tagged with the chat', () => {
  const a = { tag: 'c1', data: { chat_id: 'c1', seq: 7 } };
  const b = { tag: 'c2', data: { chat_id: 'c2', seq: 3 } };
  const c = { tag: 'c1', data: null };
  const plan = planPush(clear(), { shown: [a, b, c] });
  assert.equal(plan.show, null);
  assert.deepEqual(plan.close, [a, c]);
  assert.equal(plan.badge, 1);
});

test('planPush clear keeps a notification of a newer message than up_to_seq', () => {
  const newer = { tag: 'c1', data: { chat_id: 'c1', seq: 9 } };
  const older = { tag: 'c1', data: { chat_id: 'c1', seq: 5 } };
  assert.deepEqual(planPush(clear({ up_to_seq: 7 }), { shown: [newer, older] }).close, [older]);
});

test('planPush badge: unread 0 clears it, missing or bad unread leaves it alone', () => {
  assert.equal(planPush(clear({ unread: 0 })).badge, 0);
  assert.equal(planPush(clear({ unread: undefined })).badge, null);
  assert.equal(planPush(message({ unread: -1 })).badge, null);
  assert.equal(planPush(message({ unread: '4' })).badge, null);
  assert.deepEqual(planPush(null), { show: null, close: [], badge: null });
});

test('chatUrl is the app hash route', () => {
  assert.equal(chatUrl('c1'), '/#/chat/c1');
  assert.equal(chatUrl('a/b c'), '/#/chat/a%2Fb%20c');
  assert.equal(typeof SW_MSG.WHICH_CHAT, 'string');
  assert.notEqual(SW_MSG.WHICH_CHAT, SW_MSG.OPEN_CHAT);
});

test('base64url and the VAPID key', () => {
  assert.deepEqual([...base64UrlToBytes('-_8')], [0xfb, 0xff]);
  assert.deepEqual([...base64UrlToBytes('AQID')], [1, 2, 3]);
  assert.deepEqual([...base64UrlToBytes('AQ==')], [1]);
  assert.throws(() => base64UrlToBytes('a+b/'));
  const point = new Uint8Array(65);
  point[0] = 4;
  point[64] = 9;
  const key = Buffer.from(point).toString('base64url');
  assert.ok(sameBytes(vapidKeyBytes(key), point));
  assert.throws(() => vapidKeyBytes(Buffer.from(point.subarray(0, 33)).toString('base64url')), /invalid push key/);
  assert.equal(sameBytes(point.buffer, point), true);
  assert.equal(sameBytes(null, point), false);
});

test('pushTarget: the PUT body from subscription.toJSON()', () => {
  const json = { endpoint: 'https://push.example/abc', expirationTime: null, keys: { p256dh: 'BPk', auth: 'xyz' } };
  assert.deepEqual(pushTarget(json), { kind: 'webpush', endpoint: 'https://push.example/abc', p256dh: 'BPk', auth: 'xyz' });
  assert.throws(() => pushTarget({ endpoint: 'https://x' }));
  assert.throws(() => pushTarget(null));
});

test('mute choices -> muted_until, and back', () => {
  const now = Date.UTC(2026, 0, 1, 12);
  assert.deepEqual(MUTE_CHOICES.map(([v]) => v), ['off', '8h', '1w', 'always']);
  assert.equal(muteUntil('off', now), null);
  assert.equal(muteUntil('8h', now), now + 8 * 3600e3);
  assert.equal(muteUntil('1w', now), now + 7 * 86400e3);
  assert.equal(muteUntil('always', now), MUTE_FOREVER);
  assert.equal(new Date(MUTE_FOREVER).getUTCFullYear(), 9999);
  assert.deepEqual(muteState(null, now), { choice: 'off', until: null });
  assert.deepEqual(muteState({ muted_until: null, preview: true }, now), { choice: 'off', until: null });
  assert.deepEqual(muteState({ muted_until: now - 1 }, now), { choice: 'off', until: null }, 'expired');
  assert.deepEqual(muteState({ muted_until: now + 5 }, now), { choice: 'until', until: now + 5 });
  assert.equal(muteState({ muted_until: MUTE_FOREVER }, now).choice, 'always');
  assert.equal(muteState({ muted_until: Date.UTC(9500, 0, 1) }, now).choice, 'always');
  assert.equal(previewOn(undefined), true);
  assert.equal(previewOn({ preview: true }), true);
  assert.equal(previewOn({ preview: false }), false);
});

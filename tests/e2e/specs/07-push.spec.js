// Push notifications, the page's side: the service worker registers and is
// served as JavaScript; the Settings switch in each state headless Chromium can
// be in (permission denied, no push service, no Push API at all, and with the
// browser's push service stood in for: subscribe -> PUT, unsubscribe -> DELETE);
// per-chat mute and preview in the chat info page (PATCH, kept across a
// reload); pushes delivered to the service worker through the DevTools protocol
// (notification per chat, clear, none for the chat on screen); and the whole
// path: chatd's real, encrypted push to a stand-in push service, decrypted
// here and handed to the service worker.
const { test, expect } = require('@playwright/test');
const h = require('./helpers');

const MUTE_FOREVER = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

const session = (page) => page.evaluate(() => JSON.parse(localStorage.getItem('chatd.session')));
async function meDevice(page) {
  const s = await session(page);
  const me = await (await page.request.get('/v1/me', { headers: { Authorization: `Bearer ${s.token}` } })).json();
  return me.devices.find((d) => d.device_id === s.device_id);
}
async function openSettings(page) {
  await page.getByTestId('open-settings').click();
  await expect(page.getByTestId('settings-page')).toBeVisible();
}

test('push: service worker, and the switch without permission or push service', async ({ browser, baseURL }) => {
  const alice = await h.signIn(browser, 'Alice');
  const a = alice.page;

  // sw.js and the module it imports are served as JavaScript; the worker
  // registers at scope / and is a module worker.
  for (const file of ['/sw.js', '/push_notify.js']) {
    const res = await a.request.get(file);
    expect(res.status()).toBe(200);
    expect(res.headers()['content-type']).toMatch(/^text\/javascript/);
  }
  const reg = await a.evaluate(async () => {
    const r = await navigator.serviceWorker.ready;
    return { script: r.active.scriptURL, scope: r.scope };
  });
  expect(reg).toEqual({ script: `${baseURL}/sw.js`, scope: `${baseURL}/` });

  // The key the browser would subscribe with: an uncompressed P-256 point.
  const vapid = await (await a.request.get('/v1/push/vapid')).json();
  expect(Buffer.from(vapid.public_key, 'base64url')).toHaveLength(65);
  expect(Buffer.from(vapid.public_key, 'base64url')[0]).toBe(4);

  // No permission granted: headless Chromium answers the prompt with "denied".
  await openSettings(a);
  const sw = a.getByTestId('push-switch');
  const status = a.getByTestId('push-status');
  await expect(sw).not.toBeChecked();
  await expect(sw).toBeEnabled();
  await expect(status).toHaveAttribute('data-state', 'off');
  await sw.click();
  await expect(status).toHaveAttribute('data-state', 'denied');
  await expect(status).toContainText('blocked');
  await expect(sw).not.toBeChecked();
  await expect(sw).toBeDisabled();
  expect((await meDevice(a)).push).toBeNull();

  // Permission granted, but this browser has no push service (Playwright's
  // contexts are incognito-like): subscribe() fails, the switch says so.
  const bob = await h.signIn(browser, 'Bob');
  const b = bob.page;
  await bob.context.grantPermissions(['notifications'], { origin: baseURL });
  await openSettings(b);
  await expect(b.getByTestId('push-status')).toHaveAttribute('data-state', 'off');
  const vapidAsked = b.waitForResponse((r) => r.url().endsWith('/v1/push/vapid'));
  await b.getByTestId('push-switch').click();
  expect((await vapidAsked).status()).toBe(200);
  await expect(b.getByTestId('push-status')).toHaveAttribute('data-state', 'error');
  await expect(b.getByTestId('push-status')).toContainText('could not subscribe');
  await expect(b.getByTestId('push-switch')).not.toBeChecked();
  await expect(b.getByTestId('push-switch')).toBeEnabled();
  expect(await b.evaluate(() => Notification.permission)).toBe('granted');
  expect((await meDevice(b)).push).toBeNull();
  await h.shot(b, 'settings-notifications');

  // A browser without the Push API: the switch is off and says why.
  await bob.context.addInitScript(() => { delete window.PushManager; });
  await b.reload();
  await h.expectOnline(b);
  await expect(b.getByTestId('push-status')).toHaveAttribute('data-state', 'unsupported');
  await expect(b.getByTestId('push-status')).toContainText('cannot show push notifications');
  await expect(b.getByTestId('push-switch')).toBeDisabled();

  for (const u of [alice, bob]) await u.context.close();
  expect(h.problems).toEqual([]);
});

test('push: the switch subscribes and registers the target, and back', async ({ browser, baseURL }) => {
  const carol = await h.signIn(browser, 'Carol');
  const c = carol.page;
  await carol.context.grantPermissions(['notifications'], { origin: baseURL });
  // The one thing headless Chromium lacks, the browser's push service, stood in
  // for: PushManager.subscribe/getSubscription give a subscription with real
  // P-256 keys (kept in localStorage so a reload still has it).
  const keys = h.webPushKeys();
  const endpoint = 'http://127.0.0.1:9/push/carol';
  await carol.context.addInitScript(({ endpoint: ep, p256dh, auth }) => {
    const KEY = 'e2e.fake-subscription';
    const make = (appKey) => ({
      endpoint: ep,
      expirationTime: null,
      options: { userVisibleOnly: true, applicationServerKey: Uint8Array.from(appKey).buffer },
      toJSON: () => ({ endpoint: ep, expirationTime: null, keys: { p256dh, auth } }),
      unsubscribe: async () => { localStorage.removeItem(KEY); return true; },
    });
    PushManager.prototype.subscribe = async function subscribe(opts) {
      if (!opts.userVisibleOnly) throw new DOMException('userVisibleOnly', 'NotAllowedError');
      const appKey = [...new Uint8Array(opts.applicationServerKey.buffer || opts.applicationServerKey)];
      localStorage.setItem(KEY, JSON.stringify(appKey));
      return make(appKey);
    };
    PushManager.prototype.getSubscription = async function getSubscription() {
      const k = localStorage.getItem(KEY);
      return k ? make(JSON.parse(k)) : null;
    };
  }, { endpoint, p256dh: keys.p256dh, auth: keys.auth });
  await c.reload();
  await h.expectOnline(c);
  const me = await session(c);

  await openSettings(c);
  const sw = c.getByTestId('push-switch');
  const status = c.getByTestId('push-status');
  await expect(status).toHaveAttribute('data-state', 'off');
  const put = c.waitForRequest((r) => r.method() === 'PUT' && r.url().endsWith(`/v1/devices/${me.device_id}/push`));
  const putDone = c.waitForResponse((r) => r.request().method() === 'PUT' && r.url().endsWith('/push'));
  await sw.click();
  expect((await put).postDataJSON()).toEqual({ kind: 'webpush', endpoint, p256dh: keys.p256dh, auth: keys.auth });
  expect((await putDone).status()).toBe(204);
  await expect(status).toHaveAttribute('data-state', 'on');
  await expect(sw).toBeChecked();
  // Subscribed with the server's VAPID key.
  const vapid = await (await c.request.get('/v1/push/vapid')).json();
  const used = await c.evaluate(() => JSON.parse(localStorage.getItem('e2e.fake-subscription')));
  expect(Buffer.from(used).toString('base64url')).toBe(vapid.public_key);
  expect((await meDevice(c)).push).toEqual({ kind: 'webpush' });
  await expect(c.getByTestId('device-list').locator('li', { hasText: '(this browser)' }).getByTestId('device-push')).toBeVisible();

  // Still on after a reload (the browser's subscription and the server's target).
  await c.reload();
  await h.expectOnline(c);
  await expect(c.getByTestId('push-status')).toHaveAttribute('data-state', 'on');
  await expect(c.getByTestId('push-switch')).toBeChecked();

  // Off: DELETE, and the browser unsubscribes.
  const del = c.waitForResponse((r) => r.request().method() === 'DELETE' && r.url().endsWith(`/v1/devices/${me.device_id}/push`));
  await c.getByTestId('push-switch').click();
  expect((await del).status()).toBe(204);
  await expect(c.getByTestId('push-status')).toHaveAttribute('data-state', 'off');
  await expect(c.getByTestId('push-switch')).not.toBeChecked();
  expect((await meDevice(c)).push).toBeNull();
  expect(await c.evaluate(() => localStorage.getItem('e2e.fake-subscription'))).toBeNull();
  await expect(c.getByTestId('device-push')).toHaveCount(0);

  await carol.context.close();
  expect(h.problems).toEqual([]);
});

test('push: mute and preview per chat, kept by the server', async ({ browser, request }) => {
  const dave = await h.signIn(browser, 'Dave');
  const d = dave.page;
  const erin = await h.apiUser(request, 'Erin');
  await h.startDirectChat(d, erin.phone);
  const chatId = decodeURIComponent(new URL(d.url()).hash.split('/')[2]);
  const { token } = await session(d);
  const settingsOf = async () => {
    const list = await (await d.request.get('/v1/chats', { headers: { Authorization: `Bearer ${token}` } })).json();
    return list.chats.find((x) => x.chat_id === chatId).settings;
  };
  expect(await settingsOf()).toEqual({ muted_until: null, preview: true });

  await d.getByTestId('chat-info').click();
  const panel = d.getByTestId('chat-notifications');
  await expect(panel).toBeVisible();
  const mute = d.getByTestId('mute-select');
  const preview = d.getByTestId('preview-switch');
  await expect(mute).toHaveValue('off');
  await expect(preview).toBeChecked();
  const patch = () => d.waitForResponse((r) => r.request().method() === 'PATCH' && r.url().endsWith(`/v1/chats/${chatId}/settings`));

  // Mute for 8 hours.
  let p = patch();
  const before = Date.now();
  await mute.selectOption('8h');
  let res = await p;
  expect(res.status()).toBe(200);
  const sent = res.request().postDataJSON();
  expect(Object.keys(sent)).toEqual(['muted_until']);
  expect(sent.muted_until).toBeGreaterThanOrEqual(before + 8 * 3600e3);
  expect(sent.muted_until).toBeLessThan(Date.now() + 8 * 3600e3 + 1000);
  expect((await res.json()).muted_until).toBe(sent.muted_until);
  await expect(d.getByTestId('mute-status')).toContainText('Muted until');
  await expect(d.getByTestId('chat-item').filter({ hasText: 'Erin' }).getByTestId('chat-muted')).toBeVisible();

  // Preview off.
  p = patch();
  await preview.uncheck();
  res = await p;
  expect(res.status()).toBe(200);
  expect(res.request().postDataJSON()).toEqual({ preview: false });
  expect(await res.json()).toEqual({ muted_until: sent.muted_until, preview: false });
  expect(await settingsOf()).toEqual({ muted_until: sent.muted_until, preview: false });
  await h.shot(d, 'chat-notifications');

  // A reload reads them back from GET /v1/chats.
  await d.reload();
  await h.expectOnline(d);
  await expect(d.getByTestId('chat-info-page')).toBeVisible();
  await expect(mute).toHaveValue('until');
  await expect(d.getByTestId('mute-until-option')).toHaveText(/^Until /);
  await expect(preview).not.toBeChecked();
  await expect(d.getByTestId('chat-item').filter({ hasText: 'Erin' }).getByTestId('chat-muted')).toBeVisible();

  // Always: a mute until the end of year 9999.
  p = patch();
  await mute.selectOption('always');
  res = await p;
  expect(res.request().postDataJSON()).toEqual({ muted_until: MUTE_FOREVER });
  expect((await res.json()).muted_until).toBe(MUTE_FOREVER);
  await d.reload();
  await h.expectOnline(d);
  await expect(mute).toHaveValue('always');
  await expect(d.getByTestId('mute-status')).toHaveText('Muted: no notifications from this chat.');

  // Off again, preview on again.
  p = patch();
  await mute.selectOption('off');
  expect((await p).request().postDataJSON()).toEqual({ muted_until: null });
  p = patch();
  await preview.check();
  expect((await p).request().postDataJSON()).toEqual({ preview: true });
  await expect(d.getByTestId('chat-muted')).toHaveCount(0);
  expect(await settingsOf()).toEqual({ muted_until: null, preview: true });
  await d.reload();
  await h.expectOnline(d);
  await expect(mute).toHaveValue('off');
  await expect(preview).toBeChecked();

  await dave.context.close();
  expect(h.problems).toEqual([]);
});

test('push: the service worker shows, replaces and clears notifications', async ({ browser, baseURL, request }) => {
  const frank = await h.signIn(browser, 'Frank');
  const f = frank.page;
  await frank.context.grantPermissions(['notifications'], { origin: baseURL });
  const gina = await h.apiUser(request, 'Gina');
  await h.startDirectChat(f, gina.phone);
  const chatId = decodeURIComponent(new URL(f.url()).hash.split('/')[2]);
  await f.goto('/#/settings');
  await h.expectOnline(f);
  const { user_id: uid, device_id: did } = await session(f);
  const sw = await h.serviceWorkerPush(f);
  const msg = (over) => ({
    type: 'message', user_id: uid, device_id: did, chat_id: chatId, seq: 1, message_id: 'm1',
    sender: gina.user_id, sender_name: 'Gina', chat_title: 'Gina', preview: 'Are you there?', unread: 1, ts: Date.now(), ...over,
  });

  // A message: one notification, titled with the chat, the preview as body.
  await sw.deliver(msg());
  await expect.poll(sw.notifications).toEqual([{ title: 'Gina', body: 'Are you there?', tag: chatId, data: { chat_id: chatId, seq: 1 } }]);
  // A newer one in the same chat replaces it; preview null -> "New message".
  await sw.deliver(msg({ seq: 2, message_id: 'm2', preview: null, unread: 2 }));
  await expect.poll(sw.notifications).toEqual([{ title: 'Gina', body: 'New message', tag: chatId, data: { chat_id: chatId, seq: 2 } }]);
  // Another chat: a second notification.
  await sw.deliver(msg({ chat_id: 'other-chat', chat_title: 'Book club', sender_name: 'Hal', preview: 'Chapter 3', unread: 3 }));
  await expect.poll(async () => (await sw.notifications()).map((n) => n.tag).sort()).toEqual([chatId, 'other-chat'].sort());
  // Read elsewhere: clear closes that chat's notification only.
  await sw.deliver({ type: 'clear', user_id: uid, device_id: did, chat_id: chatId, up_to_seq: 2, unread: 1 });
  await expect.poll(async () => (await sw.notifications()).map((n) => n.title)).toEqual(['Book club']);
  // Not ours: ignored.
  await sw.deliver('this is not json');

  // Opening a chat closes its notification.
  await sw.deliver(msg({ seq: 3, message_id: 'm3', preview: 'Hello?' }));
  await expect.poll(async () => (await sw.notifications()).length).toBe(2);
  await f.goto(`/#/chat/${encodeURIComponent(chatId)}`);
  await expect(f.getByTestId('conversation')).toBeVisible();
  await expect.poll(async () => (await sw.notifications()).map((n) => n.tag)).toEqual(['other-chat']);

  // While the chat is on screen, its messages bring no notification (the
  // worker asks the page); other chats still do.
  await sw.deliver(msg({ seq: 4, message_id: 'm4', preview: 'on screen' }));
  await sw.deliver(msg({ chat_id: 'third-chat', chat_title: 'Third', preview: 'elsewhere' }));
  await expect.poll(async () => (await sw.notifications()).map((n) => n.tag).sort()).toEqual(['other-chat', 'third-chat']);
  await h.sleep(800);
  expect((await sw.notifications()).map((n) => n.tag)).not.toContain(chatId);

  // A notification click makes the page open the chat (the worker's message to
  // the page, sent here by hand: a click cannot be made headless).
  await f.goto('/#/settings');
  await expect(f.getByTestId('settings-page')).toBeVisible();
  await f.evaluate((id) => navigator.serviceWorker.dispatchEvent(new MessageEvent('message', { data: { type: 'chatd:open-chat', chat_id: id } })), chatId);
  await expect(f.getByTestId('conv-title')).toHaveText('Gina');

  await frank.context.close();
  expect(h.problems).toEqual([]);
});

test('push: chatd pushes an encrypted payload the service worker understands', async ({ browser, baseURL, request }) => {
  test.setTimeout(120_000);
  const service = await h.fakePushService();
  try {
    // Ivy is a REST-only device (no socket, never acknowledges): every message
    // to her is pushed after --push-delay-ms (3 s by default).
    const ivy = await h.apiUser(request, 'Ivy');
    const ivyDev = await h.apiDevice(request, ivy.phone, 'Ivy phone');
    const keys = h.webPushKeys();
    const path = '/push/ivy';
    let res = await request.put(`/v1/devices/${ivyDev.device_id}/push`, {
      headers: ivyDev.headers, data: { kind: 'webpush', endpoint: service.origin + path, p256dh: keys.p256dh, auth: keys.auth },
    });
    expect(res.status()).toBe(204);
    const me = await (await request.get('/v1/me', { headers: ivyDev.headers })).json();
    expect(me.devices.find((x) => x.device_id === ivyDev.device_id).push).toEqual({ kind: 'webpush' });
    const { public_key: vapidKey } = await (await request.get('/v1/push/vapid')).json();

    const jack = await h.apiUser(request, 'Jack');
    const chat = await (await request.post('/v1/chats', { headers: jack.headers, data: { type: 'direct', user_id: ivy.user_id } })).json();
    const sendAsJack = async (body, id) => {
      const r = await request.post(`/v1/chats/${chat.chat_id}/messages`, { headers: jack.headers, data: { client_msg_id: id, body } });
      expect(r.status()).toBe(201);
      return r.json();
    };

    let seen = service.requests.length;
    const m1 = await sendAsJack('Dinner at eight?', 'push-e2e-1');
    const req = await service.next(path, seen);
    expect(req.method).toBe('POST');
    expect(req.headers['content-encoding']).toBe('aes128gcm');
    expect(Number(req.headers.ttl)).toBeGreaterThanOrEqual(0);
    expect(req.headers.urgency).toMatch(/^(very-low|low|normal|high)$/);
    const claims = h.checkVapid(req.headers.authorization, vapidKey);
    expect(claims.aud).toBe(service.origin);
    expect(claims.exp * 1000).toBeGreaterThan(Date.now());
    expect(claims.exp * 1000).toBeLessThanOrEqual(Date.now() + 24 * 3600e3 + 60e3);
    expect(typeof claims.sub).toBe('string');
    const payload = JSON.parse(h.decryptWebPush(req.body, keys));
    expect(payload).toMatchObject({
      type: 'message', user_id: ivy.user_id, device_id: ivyDev.device_id, chat_id: chat.chat_id,
      seq: m1.seq, message_id: m1.message_id, sender: jack.user_id, sender_name: 'Jack',
      preview: 'Dinner at eight?', unread: 1,
    });
    expect(typeof payload.ts).toBe('number');

    // That payload, handed to a browser's service worker, is the notification.
    const kim = await h.signIn(browser, 'Kim');
    await kim.context.grantPermissions(['notifications'], { origin: baseURL });
    const sw = await h.serviceWorkerPush(kim.page);
    await sw.deliver(payload);
    await expect.poll(sw.notifications).toEqual([{
      title: payload.chat_title || 'Jack', body: 'Dinner at eight?', tag: chat.chat_id, data: { chat_id: chat.chat_id, seq: m1.seq },
    }]);

    // Preview off for the chat: the next push carries no text, the worker says "New message".
    res = await request.patch(`/v1/chats/${chat.chat_id}/settings`, { headers: ivyDev.headers, data: { preview: false } });
    expect(res.status()).toBe(200);
    seen = service.requests.length;
    const m2 = await sendAsJack('Secret plans', 'push-e2e-2');
    const p2 = JSON.parse(h.decryptWebPush((await service.next(path, seen)).body, keys));
    expect(p2).toMatchObject({ type: 'message', seq: m2.seq, preview: null, unread: 2 });
    await sw.deliver(p2);
    await expect.poll(sw.notifications).toEqual([{
      title: payload.chat_title || 'Jack', body: 'New message', tag: chat.chat_id, data: { chat_id: chat.chat_id, seq: m2.seq },
    }]);

    // Read on another of Ivy's devices: a clear, which closes the notification.
    const ivyOther = await h.apiDevice(request, ivy.phone, 'Ivy laptop');
    seen = service.requests.length;
    res = await request.put(`/v1/chats/${chat.chat_id}/messages/${m2.seq}/status`, { headers: ivyOther.headers, data: { status: 'read' } });
    expect(res.status()).toBe(204);
    const clear = JSON.parse(h.decryptWebPush((await service.next(path, seen)).body, keys));
    expect(clear).toMatchObject({ type: 'clear', user_id: ivy.user_id, device_id: ivyDev.device_id, chat_id: chat.chat_id, up_to_seq: m2.seq, unread: 0 });
    await sw.deliver(clear);
    await expect.poll(sw.notifications).toEqual([]);

    // Muted: no push at all (checked after the delay has passed twice over).
    res = await request.patch(`/v1/chats/${chat.chat_id}/settings`, { headers: ivyDev.headers, data: { muted_until: MUTE_FOREVER } });
    expect(res.status()).toBe(200);
    seen = service.requests.length;
    await sendAsJack('You will not hear this', 'push-e2e-3');
    await h.sleep(7000);
    expect(service.requests.slice(seen).filter((r) => r.path === path)).toEqual([]);

    await kim.context.close();
  } finally {
    await service.close();
  }
  expect(h.problems).toEqual([]);
});

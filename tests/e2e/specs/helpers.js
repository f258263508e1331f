// Shared steps for the specs: users signing in through the UI, chats, messages,
// restarting chatd, screenshots.
const { expect } = require('@playwright/test');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

// Problems every spec checks for at its end: uncaught page errors and
// Content-Security-Policy violations (the server forbids inline code and styles).
const problems = [];

function watch(page, name) {
  page.on('pageerror', (e) => problems.push(`[${name}] page error: ${e.message}`));
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to (apply|execute|load|connect)/i.test(m.text())) {
      problems.push(`[${name}] ${m.text()}`);
    }
  });
}

let phoneCounter = 0;
// A fresh E.164 number per user per run.
function newPhone() {
  phoneCounter += 1;
  const base = (Date.now() % 1_000_000) * 10 + (process.pid % 10);
  return `+1555${String(base).padStart(7, '0').slice(-7)}${String(phoneCounter).padStart(2, '0')}`;
}

// A browser context + page for a new user, signed in through the UI with a name.
// With `existingPhone`, signs in as that (named) user on a new device instead.
async function signIn(browser, name, { viewport, screenshots, existingPhone } = {}) {
  const context = await browser.newContext({ viewport: viewport || { width: 1200, height: 800 } });
  const page = await context.newPage();
  watch(page, name);
  const phone = existingPhone || newPhone();
  await page.goto('/');
  await page.getByTestId('phone-input').fill(phone);
  if (screenshots) await shot(page, 'signin');
  await page.getByTestId('phone-submit').click();
  await expect(page.getByTestId('dev-code')).toBeVisible();
  await expect(page.getByTestId('code-input')).not.toHaveValue('');
  await page.getByTestId('code-submit').click();
  if (!existingPhone) {
    await page.getByTestId('name-input').fill(name);
    await page.getByTestId('name-submit').click();
  }
  await expect(page.getByTestId('main')).toBeVisible();
  await expect(page.getByTestId('me-name')).toHaveText(name);
  await expectOnline(page);
  return { context, page, phone, name };
}

// The page's WebSocket is authenticated (no offline banner, state online).
async function expectOnline(page, timeout = 20_000) {
  await expect(page.getByTestId('connection-status')).toHaveAttribute('data-state', 'online', { timeout });
}

async function startDirectChat(page, phone) {
  await page.getByTestId('new-chat').click();
  await page.getByTestId('new-chat-phone').fill(phone);
  await page.getByTestId('new-chat-submit').click();
  await expect(page.getByTestId('conversation')).toBeVisible();
}

async function openChat(page, title) {
  await page.getByTestId('chat-item').filter({ has: page.getByTestId('chat-title').getByText(title, { exact: true }) }).click();
  await expect(page.getByTestId('conv-title')).toHaveText(title);
}

async function send(page, text) {
  const box = page.getByTestId('composer');
  await box.fill(text);
  await box.press('Enter');
  await expect(box).toHaveValue('');
}

// The message bubble(s) in the open conversation whose body is exactly `text`.
function message(page, text) {
  return page.getByTestId('message').filter({ has: page.getByTestId('message-body').getByText(text, { exact: true }) });
}

async function expectTick(page, text, status, timeout) {
  await expect(message(page, text).getByTestId('tick')).toHaveAttribute('data-status', status, timeout ? { timeout } : undefined);
}

// All message bodies of the open conversation, in display order.
async function bodies(page) {
  return page.getByTestId('message-body').allTextContents();
}

async function shot(page, name) {
  const dir = process.env.SCREENSHOT_DIR;
  if (!dir) return;
  fs.mkdirSync(dir, { recursive: true });
  // Let fonts and the last render settle; hide the caret for stable pictures.
  await page.evaluate(() => document.fonts && document.fonts.ready);
  await page.screenshot({ path: path.join(dir, `${name}.png`), caret: 'hide', animations: 'disabled' });
}

// ---- chatd control ---------------------------------------------------------

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function alive(pid) {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // A zombie (exited, not yet reaped by the runner script) counts as gone.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.split(') ').pop()[0] !== 'Z';
  } catch {
    return false;
  }
}

async function stopServer() {
  const pid = Number(fs.readFileSync(process.env.CHATD_PIDFILE, 'utf8'));
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 15_000;
  while (alive(pid)) {
    if (Date.now() > deadline) throw new Error(`chatd ${pid} did not stop after SIGTERM`);
    await sleep(50);
  }
}

async function startServer() {
  const log = fs.openSync(process.env.CHATD_LOG, 'a');
  const child = spawn(process.env.CHATD_BIN, [
    '--listen', `127.0.0.1:${process.env.CHATD_PORT}`,
    '--data', process.env.CHATD_DATA,
    '--dev',
    '--web-dir', process.env.CHATD_WEB,
  ], { stdio: ['ignore', log, log], detached: true });
  child.unref();
  fs.closeSync(log);
  fs.writeFileSync(process.env.CHATD_PIDFILE, String(child.pid));
  let exited = null;
  child.on('exit', (code) => { exited = code; });
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (exited !== null) throw new Error(`chatd exited with ${exited} on restart`);
    try {
      const res = await fetch(`${process.env.CHATD_URL}/healthz`);
      if (res.ok) return;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error('chatd did not come back');
    await sleep(50);
  }
}

// ---- REST shortcuts (for setting up data quickly) ----------------------------

async function apiUser(request, name) {
  const phone = newPhone();
  const otp = await (await request.post('/v1/auth/otp', { data: { phone } })).json();
  const res = await request.post('/v1/auth/verify', { data: { phone, code: otp.dev_code, device_name: 'e2e script' } });
  const v = await res.json();
  const headers = { Authorization: `Bearer ${v.token}` };
  await request.patch('/v1/me', { data: { name }, headers });
  return { phone, name, token: v.token, user_id: v.user_id, headers };
}

// ---- media -----------------------------------------------------------------

const crypto = require('node:crypto');

function fixture(name) {
  return path.join(__dirname, '..', 'fixtures', name);
}

function sha256(buf) {
  return crypto.createHash('sha256').update(buf).digest('hex');
}

// Attaches fixture files through the composer's file picker.
async function attach(page, ...names) {
  await page.getByTestId('file-input').setInputFiles(names.map(fixture));
}

// A DataTransfer in the page holding the fixture files (for drop and paste).
async function dataTransfer(page, files) {
  const payload = files.map(({ name, type }) => ({ name, type, b64: fs.readFileSync(fixture(name)).toString('base64') }));
  return page.evaluateHandle((list) => {
    const dt = new DataTransfer();
    for (const f of list) {
      const bytes = Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0));
      dt.items.add(new File([bytes], f.name, { type: f.type }));
    }
    return dt;
  }, payload);
}

// Drags fixture files over `target` (a locator) and drops them there.
async function dropFiles(page, target, files) {
  const dt = await dataTransfer(page, files);
  await target.dispatchEvent('dragenter', { dataTransfer: dt });
  await target.dispatchEvent('dragover', { dataTransfer: dt });
  await expect(page.getByTestId('drop-hint')).toBeVisible();
  await target.dispatchEvent('drop', { dataTransfer: dt });
  await expect(page.getByTestId('drop-hint')).toBeHidden();
}

// Pastes fixture files (as a clipboard with only files, like a copied image) into `target`.
async function pasteFiles(page, target, files) {
  const dt = await dataTransfer(page, files);
  await target.evaluate((el, data) => {
    el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
  }, dt);
}

// The natural width of an <img> once it has loaded (0 until then).
async function naturalWidth(img) {
  return img.evaluate((el) => (el.complete ? el.naturalWidth : 0));
}

// The message bubble(s) that carry media, optionally with this caption.
function mediaMessage(page, caption) {
  const m = page.getByTestId('message').filter({ has: page.getByTestId('media') });
  return caption ? m.filter({ has: page.getByTestId('message-body').getByText(caption, { exact: true }) }) : m;
}

// ---- push notifications ------------------------------------------------------

// Signs in by REST as an existing phone number: a new device of that user.
async function apiDevice(request, phone, deviceName = 'e2e device') {
  const otp = await (await request.post('/v1/auth/otp', { data: { phone } })).json();
  const v = await (await request.post('/v1/auth/verify', { data: { phone, code: otp.dev_code, device_name: deviceName } })).json();
  return { phone, token: v.token, user_id: v.user_id, device_id: v.device_id, headers: { Authorization: `Bearer ${v.token}` } };
}

// A browser-side push subscription's keys, made here: {ecdh, p256dh, auth}
// (base64url), as PushSubscription.toJSON().keys would give them.
function webPushKeys() {
  const ecdh = crypto.createECDH('prime256v1');
  ecdh.generateKeys();
  const auth = crypto.randomBytes(16);
  return { ecdh, authBytes: auth, p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') };
}

// RFC 8291 (aes128gcm, one record): the plaintext of a Web Push body sent to
// the subscription whose keys are `keys` (from webPushKeys()).
function decryptWebPush(body, keys) {
  const salt = body.subarray(0, 16);
  const rs = body.readUInt32BE(16);
  const idlen = body[20];
  const asPublic = body.subarray(21, 21 + idlen);
  const ciphertext = body.subarray(21 + idlen);
  if (idlen !== 65 || asPublic[0] !== 4) throw new Error(`key id is not a P-256 point (${idlen} bytes)`);
  if (ciphertext.length > rs) throw new Error(`more than one record (rs ${rs}, ${ciphertext.length} bytes)`);
  const uaPublic = keys.ecdh.getPublicKey();
  const secret = keys.ecdh.computeSecret(asPublic);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), uaPublic, asPublic]);
  const ikm = Buffer.from(crypto.hkdfSync('sha256', secret, keys.authBytes, keyInfo, 32));
  const cek = Buffer.from(crypto.hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
  const nonce = Buffer.from(crypto.hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
  const d = crypto.createDecipheriv('aes-128-gcm', cek, nonce);
  d.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
  const padded = Buffer.concat([d.update(ciphertext.subarray(0, ciphertext.length - 16)), d.final()]);
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  if (padded[end] !== 2) throw new Error(`last record delimiter is ${padded[end]}, not 2`);
  return padded.subarray(0, end).toString('utf8');
}

// Checks a VAPID (RFC 8292) Authorization header: `vapid t=<ES256 JWT>, k=<key>`.
// Returns the JWT claims; throws when the signature does not verify with `k`
// or `k` is not `publicKey`.
function checkVapid(header, publicKey) {
  const m = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(header || '');
  if (!m) throw new Error(`Authorization is not "vapid t=..., k=...": ${header}`);
  const [, jwt, k] = m;
  if (k !== publicKey) throw new Error(`k=${k} is not the server's VAPID key ${publicKey}`);
  const [h64, c64, s64] = jwt.split('.');
  const head = JSON.parse(Buffer.from(h64, 'base64url').toString());
  if (head.alg !== 'ES256') throw new Error(`JWT alg ${head.alg}`);
  const point = Buffer.from(k, 'base64url');
  const key = crypto.createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33, 65).toString('base64url') }, format: 'jwk' });
  const ok = crypto.verify('sha256', Buffer.from(`${h64}.${c64}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(s64, 'base64url'));
  if (!ok) throw new Error('the VAPID JWT signature does not verify');
  return JSON.parse(Buffer.from(c64, 'base64url').toString());
}

// A stand-in push service on loopback (chatd --dev allows http and loopback
// targets): records every request {path, headers, body}; answers 201.
async function fakePushService() {
  const http = require('node:http');
  const requests = [];
  const waiters = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      requests.push({ method: req.method, path: req.url, headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(201, { Location: `${req.url}/msg${requests.length}` });
      res.end();
      for (const w of waiters.splice(0)) w();
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return {
    origin,
    requests,
    // The next request to `path` after the first `from` ones.
    async next(path, from, timeout = 20_000) {
      const deadline = Date.now() + timeout;
      for (;;) {
        const hit = requests.slice(from).find((r) => r.path === path);
        if (hit) return hit;
        if (Date.now() > deadline) throw new Error(`no push to ${path} within ${timeout} ms (${requests.length} requests seen)`);
        await new Promise((r) => { waiters.push(r); setTimeout(r, 250); });
      }
    },
    close: () => new Promise((r) => server.close(r)),
  };
}

// Chromium's DevTools protocol delivers a plaintext push to the page's service
// worker (ServiceWorker.deliverPushMessage), as if the push service had; and
// what the worker shows (registration.getNotifications()).
// getNotifications() drops from Chromium's store the notifications its display
// has not reported as shown yet, so one read right after a showNotification()
// can lose it: deliver() waits a moment before anything reads them.
async function serviceWorkerPush(page) {
  const origin = new URL(page.url()).origin;
  const cdp = await page.context().newCDPSession(page);
  const regs = new Map();
  cdp.on('ServiceWorker.workerRegistrationUpdated', (e) => {
    for (const r of e.registrations) regs.set(r.registrationId, r);
  });
  await cdp.send('ServiceWorker.enable');
  await page.evaluate(() => navigator.serviceWorker.ready);
  await expect.poll(() => [...regs.values()].filter((r) => !r.isDeleted && r.scopeURL === `${origin}/`).length).toBe(1);
  const reg = [...regs.values()].find((r) => !r.isDeleted && r.scopeURL === `${origin}/`);
  return {
    deliver: async (payload) => {
      await cdp.send('ServiceWorker.deliverPushMessage', {
        origin: `${origin}/`, registrationId: reg.registrationId,
        data: typeof payload === 'string' ? payload : JSON.stringify(payload),
      });
      await sleep(400);
    },
    notifications: () => page.evaluate(async () => {
      const r = await navigator.serviceWorker.ready;
      return (await r.getNotifications()).map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data }));
    }),
  };
}

module.exports = {
  problems, watch, apiUser,
  signIn, expectOnline, startDirectChat, openChat, send, message, expectTick, bodies, shot,
  stopServer, startServer, newPhone, sleep,
  fixture, sha256, attach, dropFiles, pasteFiles, naturalWidth, mediaMessage,
  apiDevice, webPushKeys, decryptWebPush, checkVapid, fakePushService, serviceWorkerPush,
};

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

module.exports = {
  problems, watch, apiUser,
  signIn, expectOnline, startDirectChat, openChat, send, message, expectTick, bodies, shot,
  stopServer, startServer, newPhone, sleep,
  fixture, sha256, attach, dropFiles, pasteFiles, naturalWidth, mediaMessage,
};

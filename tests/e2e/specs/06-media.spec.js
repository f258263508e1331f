// Media: Alice attaches a photo and a PDF with the file picker (upload progress
// shows, a third file is canceled mid-upload, the caption is typed while the
// uploads run and the message goes out once they are done); Bob sees the
// photo's thumbnail, opens it full size and downloads the PDF byte for byte.
// Then a voice note (its player loads), a photo by drag and drop and one by
// paste; chat list previews say what was sent; delete for everyone drops media.
const { test, expect } = require('@playwright/test');
const fs = require('node:fs');
const h = require('./helpers');

const PHOTO = { name: 'photo.png', type: 'image/png', width: 400, height: 300 };
const PDF = { name: 'report.pdf', type: 'application/pdf' };
const PASTED = { name: 'paste.png', type: 'image/png' };

test('media: photo and document, full size, download, voice note, drop and paste', async ({ browser }) => {
  const alice = await h.signIn(browser, 'Alice');
  const bob = await h.signIn(browser, 'Bob');
  const a = alice.page;
  const b = bob.page;

  await h.startDirectChat(a, bob.phone);
  await h.send(a, 'Files coming');
  await h.openChat(b, 'Alice');
  await expect(h.message(b, 'Files coming')).toBeVisible();

  // Hold Alice's uploads at the network until released, so they are seen in flight.
  let release;
  const gate = new Promise((r) => { release = r; });
  const isUpload = (url) => url.pathname === '/v1/media';
  await a.route(isUpload, async (route) => {
    await gate;
    try { await route.continue(); } catch { /* canceled meanwhile */ }
  });

  await h.attach(a, PHOTO.name, PDF.name);
  const strip = a.getByTestId('attachment-strip');
  await expect(strip.getByTestId('attachment')).toHaveCount(2);
  await expect(strip.getByTestId('upload-progress')).toHaveCount(2);
  await expect(strip.getByTestId('attachment').first()).toHaveAttribute('data-state', 'uploading');
  await expect(strip.getByTestId('attachment').first()).toContainText('photo.png');
  await expect(strip.getByTestId('attachment').nth(1)).toContainText('report.pdf');

  // A third one, canceled while it uploads.
  await h.attach(a, PASTED.name);
  await expect(strip.getByTestId('attachment')).toHaveCount(3);
  const third = strip.getByTestId('attachment').filter({ hasText: 'paste.png' });
  await expect(third.getByTestId('attachment-remove')).toHaveAttribute('aria-label', 'Cancel uploading paste.png');
  await third.getByTestId('attachment-remove').click();
  await expect(strip.getByTestId('attachment')).toHaveCount(2);

  // The caption is sent while the uploads still run: a pending bubble with progress.
  await h.send(a, 'Photo and report');
  await expect(strip).toBeHidden();
  const pending = a.locator('[data-testid="message"][data-pending="true"]');
  await expect(pending.getByTestId('pending-attachment')).toHaveCount(2);
  await expect(pending.getByTestId('upload-progress')).toHaveCount(2);
  await expect(pending.getByTestId('cancel-upload')).toBeVisible();
  release();
  await expect(pending).toHaveCount(0);
  await a.unroute(isUpload);
  const sent = h.mediaMessage(a, 'Photo and report');
  await expect(sent.getByTestId('tick')).toHaveAttribute('data-status', /sent|delivered|read/);

  // Bob: the thumbnail has loaded (at most 320 px wide), caption, document card.
  const got = h.mediaMessage(b, 'Photo and report');
  await expect(got).toBeVisible();
  const thumb = got.getByTestId('media-image');
  await expect.poll(() => h.naturalWidth(thumb)).toBeGreaterThan(0);
  expect(await h.naturalWidth(thumb)).toBeLessThanOrEqual(320);
  const doc = got.getByTestId('media-document');
  await expect(doc.getByTestId('document-name')).toHaveText('report.pdf');
  await expect(doc).toHaveAttribute('download', 'report.pdf');
  await expect(b.getByTestId('chat-item').filter({ hasText: 'Alice' }).getByTestId('chat-preview')).toHaveText('Photo and report');

  // Full size in the lightbox: the original's real width; Escape closes it.
  await got.getByTestId('media-open').click();
  const lightbox = b.getByTestId('lightbox');
  await expect(lightbox).toBeVisible();
  const full = lightbox.getByTestId('lightbox-image');
  await expect.poll(() => h.naturalWidth(full)).toBe(PHOTO.width);
  await expect(lightbox.getByTestId('lightbox-close')).toBeFocused();
  await b.keyboard.press('Escape');
  await expect(lightbox).toHaveCount(0);
  await expect(got.getByTestId('media-open')).toBeFocused();

  // The PDF downloads with the same bytes.
  const [download] = await Promise.all([b.waitForEvent('download'), doc.click()]);
  const saved = fs.readFileSync(await download.path());
  expect(h.sha256(saved)).toBe(h.sha256(fs.readFileSync(h.fixture(PDF.name))));

  // A voice note without a caption: an audio player that loads; preview "Voice note".
  await h.attach(a, 'voice-note.wav');
  await expect(a.getByTestId('attachment')).toHaveAttribute('data-state', 'done');
  await a.getByTestId('composer').press('Enter');
  const voice = b.getByTestId('message').filter({ has: b.getByTestId('media-audio') });
  await expect(voice).toHaveCount(1);
  await expect.poll(() => voice.locator('audio').evaluate((el) => el.readyState), { timeout: 15_000 }).toBeGreaterThan(0);
  await expect(b.getByTestId('chat-item').filter({ hasText: 'Alice' }).getByTestId('chat-preview')).toHaveText('Voice note');
  // Off the bubbles (no hover or focus actions in the picture).
  await b.mouse.move(600, 700);
  await b.evaluate(() => document.activeElement && document.activeElement.blur());
  await h.shot(b, 'media');

  // Bob drops a photo on the conversation and sends it without a caption.
  await h.dropFiles(b, b.getByTestId('message-list'), [PASTED]);
  await expect(b.getByTestId('attachment')).toHaveCount(1);
  await expect(b.getByTestId('attachment')).toHaveAttribute('data-state', 'done');
  await b.getByTestId('send-button').click();
  await expect(b.getByTestId('attachment-strip')).toBeHidden();
  const dropped = h.mediaMessage(a).last();
  await expect.poll(() => h.naturalWidth(dropped.getByTestId('media-image'))).toBeGreaterThan(0);
  await expect(a.getByTestId('chat-item').filter({ hasText: 'Bob' }).getByTestId('chat-preview')).toHaveText('Photo');

  // Alice pastes an image into the message box, with a caption.
  await h.pasteFiles(a, a.getByTestId('composer'), [PASTED]);
  await expect(a.getByTestId('attachment')).toHaveAttribute('data-state', 'done');
  await h.send(a, 'Pasted');
  const pasted = h.mediaMessage(b, 'Pasted');
  await expect.poll(() => h.naturalWidth(pasted.getByTestId('media-image'))).toBeGreaterThan(0);

  // Delete for everyone: the media goes with the message.
  await h.mediaMessage(a, 'Pasted').hover();
  await h.mediaMessage(a, 'Pasted').getByTestId('delete-button').click();
  await a.getByTestId('confirm-delete').click();
  await expect(h.mediaMessage(b, 'Pasted')).toHaveCount(0);
  await expect(b.getByTestId('message-deleted')).toHaveCount(1);

  expect(h.problems).toEqual([]);
  await alice.context.close();
  await bob.context.close();
});

// Media in the conversation: a message's photos and videos (inline, from their
// thumbnails), voice notes (<audio controls>) and documents (a download card);
// a pending message's attachments while they upload; the composer's strip of
// attachments. URLs are signed ones (media.js), asked for when an element
// first becomes visible, and asked again once if an element fails to load
// (they expire after an hour).

import { h } from '../dom.js';
import { formatBytes, formatDuration, mediaKind } from '../format.js';
import { icon } from '../icons.js';
import { cachedUrls, signedUrls } from '../media.js';
import { openLightbox } from './lightbox.js';
import { iconButton } from './widgets.js';

const SINGLE_MAX_W = 280;
const SINGLE_MAX_H = 320;
const GRID_CELL = 136;

// ---- loading when visible -----------------------------------------------------------

const waiting = new WeakMap(); // element -> callback
const observer = typeof IntersectionObserver === 'function'
  ? new IntersectionObserver((entries) => {
    for (const e of entries) {
      if (!e.isIntersecting) continue;
      observer.unobserve(e.target);
      const fn = waiting.get(e.target);
      waiting.delete(e.target);
      if (fn) fn();
    }
  }, { rootMargin: '400px 0px' })
  : null;

function whenVisible(el, fn) {
  if (!observer) return fn();
  waiting.set(el, fn);
  observer.observe(el);
}

// Puts `pick(urls)` into the element via `apply` as soon as it is visible (at
// once when the URLs are cached); on a load error asks for fresh URLs once.
function bindUrl(el, mediaId, pick, apply) {
  const set = (urls) => {
    const u = pick(urls);
    if (u) apply(u);
  };
  const fail = () => el.classList.add('media-error');
  const cached = cachedUrls(mediaId);
  if (cached) set(cached);
  else whenVisible(el, () => signedUrls(mediaId).then(set, fail));
  let renewed = false;
  el.addEventListener('error', () => {
    if (renewed) return fail();
    renewed = true;
    signedUrls(mediaId, { fresh: true }).then(set, fail);
  });
}

const thumbOf = (urls) => urls.thumbnail_url || urls.url;
const fullOf = (urls) => urls.url;

// ---- one item --------------------------------------------------------------------------

function displaySize(m, single) {
  if (!single) return { w: GRID_CELL, h: GRID_CELL };
  const w = m.width || 0;
  const ht = m.height || 0;
  if (!w || !ht) return { w: 240, h: 180 };
  const scale = Math.min(1, SINGLE_MAX_W / w, SINGLE_MAX_H / ht);
  return { w: Math.max(1, Math.round(w * scale)), h: Math.max(1, Math.round(ht * scale)) };
}

function imageTile(m, single) {
  const { w, h: ht } = displaySize(m, single);
  const img = h('img', { class: 'media-img', alt: '', width: w, height: ht, decoding: 'async', testid: 'media-image' });
  bindUrl(img, m.media_id, thumbOf, (u) => { img.src = u; });
  const label = `Open photo${m.filename ? ` ${m.filename}` : ''}${m.width ? `, ${m.width} × ${m.height}` : ''}`;
  const button = h('button', {
    type: 'button', class: 'media-tile', 'aria-label': label, title: 'Open full size', testid: 'media-open',
    onclick: () => openLightbox(m, button),
  }, img);
  return button;
}

function videoTile(m, single) {
  const { w, h: ht } = displaySize(m, single);
  const label = `Video${m.duration_ms ? `, ${formatDuration(m.duration_ms)}` : ''}${m.filename ? `, ${m.filename}` : ''}`;
  const video = h('video', {
    class: 'media-video', controls: true, preload: 'metadata', playsinline: true,
    width: w, height: ht, 'aria-label': label, testid: 'media-video',
  });
  bindUrl(video, m.media_id, (urls) => urls, (urls) => {
    if (urls.thumbnail_url) video.poster = urls.thumbnail_url;
    if (video.getAttribute('src') !== urls.url) video.src = urls.url;
  });
  return h('div', { class: 'media-tile video' }, video);
}

function audioItem(m) {
  const name = m.filename || 'Voice note';
  const meta = [m.duration_ms ? formatDuration(m.duration_ms) : null, formatBytes(m.size)].filter(Boolean).join(' · ');
  const audio = h('audio', {
    class: 'media-audio-player', controls: true, preload: 'metadata',
    'aria-label': `Voice note${m.duration_ms ? `, ${formatDuration(m.duration_ms)}` : ''}`,
  });
  bindUrl(audio, m.media_id, fullOf, (u) => { audio.src = u; });
  return h('div', { class: 'media-audio', testid: 'media-audio' },
    h('span', { class: 'media-badge' }, icon('audio')),
    h('div', { class: 'media-audio-main' },
      h('span', { class: 'media-audio-title' }, 'Voice note'),
      audio,
      h('span', { class: 'media-meta', title: name }, meta)));
}

function extension(m) {
  const dot = (m.filename || '').lastIndexOf('.');
  if (dot > 0) return m.filename.slice(dot + 1).toUpperCase().slice(0, 8);
  const sub = String(m.mime || '').split('/')[1] || '';
  return sub && sub !== 'octet-stream' ? sub.toUpperCase().slice(0, 8) : 'FILE';
}

function documentCard(m) {
  const name = m.filename || 'Document';
  const a = h('a', {
    class: 'doc-card', href: '#', download: name, testid: 'media-document',
    'aria-label': `Download ${name}, ${formatBytes(m.size)}`, title: `Download ${name}`,
  },
  h('span', { class: 'media-badge' }, icon('file')),
  h('span', { class: 'doc-text' },
    h('span', { class: 'doc-name', testid: 'document-name' }, name),
    h('span', { class: 'media-meta' }, `${extension(m)} · ${formatBytes(m.size)}`)),
  icon('download', 'icon doc-download'));
  bindUrl(a, m.media_id, fullOf, (u) => { a.href = u; });
  // The link may not have its URL yet, or an expired one: get a fresh one, then click again.
  a.addEventListener('click', (e) => {
    const urls = cachedUrls(m.media_id);
    if (urls && a.getAttribute('href') === urls.url) return;
    e.preventDefault();
    if (a.dataset.fetching) return;
    a.dataset.fetching = '1';
    signedUrls(m.media_id).then((u) => {
      delete a.dataset.fetching;
      a.href = u.url;
      a.click();
    }, () => {
      delete a.dataset.fetching;
      a.classList.add('media-error');
    });
  });
  return a;
}

// The media of a stored message: photos and videos in a grid, then voice
// notes and documents, one per line.
export function mediaBlock(media) {
  const visual = media.filter((m) => ['image', 'video'].includes(mediaKind(m.mime)));
  const rest = media.filter((m) => !['image', 'video'].includes(mediaKind(m.mime)));
  const single = visual.length === 1;
  return h('div', { class: 'media-block', testid: 'media' },
    visual.length
      ? h('div', { class: `media-grid${single ? ' single' : ''}` },
        visual.map((m) => (mediaKind(m.mime) === 'image' ? imageTile(m, single) : videoTile(m, single))))
      : null,
    rest.map((m) => (mediaKind(m.mime) === 'audio' ? audioItem(m) : documentCard(m))));
}

// ---- uploads --------------------------------------------------------------------------

const KIND_ICON = { image: 'image', video: 'video', audio: 'audio', document: 'file' };

function thumbOrIcon(upload, mime) {
  if (upload && upload.preview) return h('img', { class: 'attachment-thumb', src: upload.preview, alt: '' });
  return h('span', { class: 'attachment-icon' }, icon(KIND_ICON[mediaKind(mime)]));
}

// A pending message's attachments: what is being uploaded, with progress.
// `uploads` is empty after a reload (only the names are left then).
export function pendingMediaBlock(attachments, uploads) {
  return h('div', { class: 'media-block pending-media' },
    attachments.map((a, i) => {
      const u = uploads[i];
      return h('div', { class: 'pending-attachment', testid: 'pending-attachment' },
        thumbOrIcon(u, a.mime),
        h('span', { class: 'attachment-text' },
          h('span', { class: 'attachment-name' }, a.filename || 'file'),
          u && u.state === 'uploading' ? u.bar : h('span', { class: 'media-meta' }, formatBytes(a.size))));
    }));
}

// One chip of the composer's attachment strip.
export function attachmentChip(u, { onRemove, onRetry }) {
  const status = u.state === 'uploading'
    ? u.bar
    : u.state === 'failed'
      ? h('span', { class: 'attachment-error', role: 'alert', title: u.error }, u.error)
      : h('span', { class: 'media-meta' }, formatBytes(u.size));
  return h('li', { class: `attachment attachment-${u.state}`, testid: 'attachment', dataset: { state: u.state } },
    thumbOrIcon(u, u.mime),
    h('span', { class: 'attachment-text' },
      h('span', { class: 'attachment-name', title: u.name }, u.name),
      status),
    u.state === 'failed'
      ? iconButton(`Retry uploading ${u.name}`, 'retry', { class: 'icon-button small', testid: 'attachment-retry', onclick: onRetry })
      : null,
    iconButton(u.state === 'uploading' ? `Cancel uploading ${u.name}` : `Remove ${u.name}`, 'close', {
      class: 'icon-button small', testid: 'attachment-remove', onclick: onRemove,
    }));
}

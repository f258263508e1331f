// Media: uploads with per-file progress and cancel, the server's media limits,
// and a cache of signed download URLs.
//
// An Upload's life:  uploading --> done            (has `result`: the server's
//                        |  ^  \-> failed ---+      media object, whose media_id
//                        |  +--- retry() ----+      goes into the send)
//                        +-> canceled               (abort(), or removed)
// Listeners (onChange) hear every state change; progress goes straight to the
// upload's own <progress> element, so a 100 MB file does not re-render the page
// a thousand times.
//
// Signed URLs: <img>, <audio>, <video> and <a download> cannot send a bearer
// header, so each media id's URLs come from GET /v1/media/{id}/url (valid an
// hour) and are cached until a few minutes before they expire.

import { api } from './api.js';
import { h } from './dom.js';
import { formatBytes, mediaKind } from './format.js';

const DEFAULT_LIMITS = { max_media_bytes: 100 * 1024 * 1024, max_media_per_message: 10 };
const URL_MARGIN_MS = 5 * 60 * 1000; // renew this long before the server's expiry
const URL_MAX_LIFE_MS = 60 * 60 * 1000;

// ---- limits ---------------------------------------------------------------------

let limitsPromise = null;

// {max_media_bytes, max_media_per_message} from GET /v1/limits (asked once;
// the defaults if it fails, and it is asked again next time).
export function mediaLimits() {
  if (!limitsPromise) {
    limitsPromise = api.limits()
      .then((l) => ({
        max_media_bytes: l.max_media_bytes || DEFAULT_LIMITS.max_media_bytes,
        max_media_per_message: l.max_media_per_message || DEFAULT_LIMITS.max_media_per_message,
      }))
      .catch(() => {
        limitsPromise = null;
        return DEFAULT_LIMITS;
      });
  }
  return limitsPromise;
}

// ---- uploads --------------------------------------------------------------------

let nextUploadId = 1;

function uploadError(e, file, limits) {
  if (e.status === 413) return `Too large (the limit is ${formatBytes(limits.max_media_bytes)})`;
  if (e.status === 415) return 'Not a valid image';
  return e.message || 'Upload failed';
}

export class Upload {
  constructor(file, limits = DEFAULT_LIMITS) {
    this.id = nextUploadId++;
    this.file = file;
    this.name = file.name || 'file';
    this.size = file.size;
    this.mime = file.type || 'application/octet-stream';
    this.kind = mediaKind(this.mime);
    this.limits = limits;
    this.state = 'uploading'; // uploading | done | failed | canceled
    this.result = null; // the server's media object once done
    this.error = null;
    this.request = null;
    this.listeners = new Set();
    // A local preview for images (img-src allows blob:); revoked by dispose().
    this.preview = this.kind === 'image' ? URL.createObjectURL(file) : null;
    this.bar = h('progress', {
      class: 'upload-progress', max: '1', value: '0', testid: 'upload-progress', 'aria-label': `Uploading ${this.name}`,
    });
  }

  // What a message carries for this file: the server's object once uploaded,
  // else the local facts (a pending message shows these).
  get media() {
    return this.result || { media_id: null, mime: this.mime, size: this.size, filename: this.name };
  }

  onChange(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  set(state, fields = {}) {
    Object.assign(this, fields, { state });
    for (const fn of [...this.listeners]) fn(this);
  }

  start() {
    if (this.state === 'done' || this.state === 'canceled') return this;
    this.bar.value = 0;
    this.bar.removeAttribute('value'); // indeterminate until the first progress event
    this.set('uploading', { error: null });
    const req = api.uploadMedia(this.file, this.name, (loaded, total) => {
      if (req === this.request) this.bar.value = total ? loaded / total : 0;
    });
    this.request = req;
    req.promise.then(
      (result) => { if (req === this.request) this.set('done', { result, request: null }); },
      (e) => {
        if (req !== this.request || this.state === 'canceled') return;
        this.set('failed', { error: uploadError(e, this.file, this.limits), request: null });
      });
    return this;
  }

  retry() {
    if (this.state === 'failed') this.start();
  }

  cancel() {
    if (this.state === 'canceled') return;
    const req = this.request;
    this.request = null;
    this.set('canceled');
    if (req) req.abort();
    this.dispose();
  }

  dispose() {
    if (this.preview) URL.revokeObjectURL(this.preview);
    this.preview = null;
    this.listeners.clear();
  }
}

// Checks files against the limits and starts an upload for each that fits in
// the `room` left in the message. Returns {uploads, problems: [text]}.
export async function startUploads(files, room) {
  const limits = await mediaLimits();
  const uploads = [];
  const problems = [];
  for (const file of files) {
    if (uploads.length >= room) {
      problems.push(`At most ${limits.max_media_per_message} files per message`);
      break;
    }
    if (file.size > limits.max_media_bytes) {
      problems.push(`${file.name || 'File'} is too large (the limit is ${formatBytes(limits.max_media_bytes)})`);
      continue;
    }
    uploads.push(new Upload(file, limits).start());
  }
  return { uploads, problems };
}

// ---- signed URLs -------------------------------------------------------------------

const urlCache = new Map(); // media_id -> {urls, until} | {promise}

// The cached {url, thumbnail_url?, expires_ts} for a media id if still fresh, else null.
export function cachedUrls(mediaId) {
  const e = urlCache.get(mediaId);
  return e && e.urls && e.until > Date.now() ? e.urls : null;
}

// The signed URLs of a media id (from the cache, or asked once at a time).
// `fresh` drops the cached ones first (after an element failed to load them).
export function signedUrls(mediaId, { fresh = false } = {}) {
  const e = urlCache.get(mediaId);
  if (!fresh) {
    if (e && e.promise) return e.promise;
    const urls = cachedUrls(mediaId);
    if (urls) return Promise.resolve(urls);
  }
  const promise = api.mediaUrl(mediaId).then(
    (urls) => {
      // The server's clock may differ from ours: trust only the remaining
      // lifetime, capped at the default TTL; a nearly expired one is kept briefly.
      const left = Math.min(urls.expires_ts - Date.now(), URL_MAX_LIFE_MS);
      const life = left > 2 * URL_MARGIN_MS ? left - URL_MARGIN_MS : 60 * 1000;
      urlCache.set(mediaId, { urls, until: Date.now() + life });
      return urls;
    },
    (err) => {
      urlCache.delete(mediaId);
      throw err;
    });
  urlCache.set(mediaId, { promise });
  return promise;
}

export function forgetUrls() {
  urlCache.clear();
}

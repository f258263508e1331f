// A photo at full size over the page: a modal dialog with the image, its name
// and size, a download link and a close button. Escape, the close button, a
// click beside the image, or leaving the route close it; focus goes back to
// the thumbnail that opened it.

import { h } from '../dom.js';
import { formatBytes } from '../format.js';
import { icon } from '../icons.js';
import { signedUrls } from '../media.js';
import { iconButton } from './widgets.js';

let current = null; // the open lightbox's close function

export function closeLightbox() {
  if (current) current();
}

export function openLightbox(m, opener) {
  closeLightbox();
  const name = m.filename || 'Photo';
  const img = h('img', { class: 'lightbox-img', alt: name, testid: 'lightbox-image' });
  if (m.width && m.height) {
    img.width = m.width;
    img.height = m.height;
  }
  const status = h('p', { class: 'lightbox-status', role: 'status' }, 'Loading…');
  const download = h('a', {
    class: 'icon-button lightbox-button', download: name, 'aria-label': `Download ${name}`, title: 'Download',
    testid: 'lightbox-download', hidden: true,
  }, icon('download'));
  const closeButton = iconButton('Close', 'close', { class: 'icon-button lightbox-button', testid: 'lightbox-close' });
  const details = [m.width && m.height ? `${m.width} × ${m.height}` : null, m.size ? formatBytes(m.size) : null].filter(Boolean).join(' · ');
  const overlay = h('div', {
    class: 'lightbox', role: 'dialog', 'aria-modal': 'true', 'aria-label': name, testid: 'lightbox',
  },
  h('div', { class: 'lightbox-bar' },
    h('div', { class: 'lightbox-title' }, h('strong', {}, name), details ? h('span', {}, details) : null),
    download, closeButton),
  h('div', { class: 'lightbox-stage' }, img, status));

  function close() {
    if (current !== close) return;
    current = null;
    overlay.remove();
    document.removeEventListener('keydown', onKey, true);
    window.removeEventListener('hashchange', close);
    if (opener && opener.isConnected) opener.focus();
  }

  function onKey(e) {
    if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      close();
    } else if (e.key === 'Tab') {
      // Keep focus inside the dialog.
      const stops = [...overlay.querySelectorAll('a[href], button')].filter((el) => !el.hidden);
      if (!stops.length) return;
      const i = stops.indexOf(document.activeElement);
      const next = e.shiftKey ? (i <= 0 ? stops.length - 1 : i - 1) : (i === stops.length - 1 ? 0 : i + 1);
      e.preventDefault();
      stops[next].focus();
    }
  }

  closeButton.addEventListener('click', close);
  overlay.addEventListener('click', (e) => {
    if (e.target === overlay || e.target.classList.contains('lightbox-stage')) close();
  });
  img.addEventListener('load', () => { status.hidden = true; });
  let renewed = false;
  const load = (fresh) => signedUrls(m.media_id, { fresh }).then((u) => {
    img.src = u.url;
    download.href = u.url;
    download.hidden = false;
  }, () => { status.textContent = 'The photo could not be loaded.'; });
  img.addEventListener('error', () => {
    if (renewed) { status.hidden = false; status.textContent = 'The photo could not be loaded.'; return; }
    renewed = true;
    load(true);
  });

  current = close;
  document.addEventListener('keydown', onKey, true);
  window.addEventListener('hashchange', close);
  document.body.append(overlay);
  closeButton.focus();
  load(false);
  return close;
}

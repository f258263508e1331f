// Small pieces shared by several views: avatars, ticks, icons.

import { h } from '../dom.js';
import { initials } from '../format.js';
import { icon } from '../icons.js';

// A stable pastel color per id.
function hue(id) {
  let x = 0;
  for (const ch of String(id)) x = (x * 31 + ch.charCodeAt(0)) >>> 0;
  return x % 8;
}

export function avatar(id, name, { online = false, size = '' } = {}) {
  return h('span', { class: `avatar c${hue(id)} ${size}`, 'aria-hidden': 'true' },
    initials(name),
    online ? h('span', { class: 'online-dot', testid: 'online-dot' }) : null);
}

const TICK_LABEL = {
  pending: 'Waiting to send',
  sending: 'Sending',
  failed: 'Not sent',
  sent: 'Sent',
  delivered: 'Delivered',
  read: 'Read',
};

// ✓ sent, ✓✓ delivered, blue ✓✓ read, a clock while queued.
export function tick(status) {
  const glyph = status === 'sent' ? '✓' : status === 'delivered' || status === 'read' ? '✓✓' : status === 'failed' ? '!' : icon('clock', 'icon tick-clock');
  return h('span', {
    class: `tick tick-${status}`,
    testid: 'tick',
    dataset: { status },
    role: 'img',
    'aria-label': TICK_LABEL[status] || status,
    title: TICK_LABEL[status] || status,
  }, glyph);
}

export function iconButton(label, iconName, attrs = {}) {
  return h('button', { type: 'button', class: 'icon-button', 'aria-label': label, title: label, ...attrs },
    icon(iconName));
}

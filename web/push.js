// Push notifications, the page's side: registers the service worker (sw.js,
// a module worker, scope /), turns this browser's push subscription on and off
// (Notification permission, pushManager.subscribe with the server's VAPID key,
// PUT/DELETE /v1/devices/{device_id}/push), answers the service worker's
// questions (which chat is on screen) and follows its clicks (open a chat).
//
// `push.state` is what Settings shows:
//   status: unsupported | denied | off | working | on | error
//   message: a sentence for the user (why it is off, what went wrong)
// Every change calls store.changed(), so views re-render.

import { api } from './api.js';
import { load, save } from './persist.js';
import { SW_MSG, pushTarget, sameBytes, vapidKeyBytes } from './push_notify.js';

const SW_URL = '/sw.js';

export function pushSupported() {
  return typeof window !== 'undefined' && window.isSecureContext !== false
    && 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;
}

class Push {
  constructor() {
    this.state = { status: 'off', message: '' };
    this.store = null;
    this.currentChat = () => null;
    this.registration = null; // a promise of the ServiceWorkerRegistration
    this.busy = false;
  }

  // Once, at boot. `currentChat()` is the chat id of the open conversation (or null).
  init({ store, currentChat }) {
    this.store = store;
    this.currentChat = currentChat;
    if (!pushSupported()) {
      this.set('unsupported', 'This browser cannot show push notifications.');
      return;
    }
    navigator.serviceWorker.addEventListener('message', (e) => this.onMessage(e));
    navigator.serviceWorker.startMessages();
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') this.chatShown(this.currentChat());
    });
  }

  set(status, message = '') {
    if (this.state.status === status && this.state.message === message) return;
    this.state = { status, message };
    if (this.store) this.store.changed();
  }

  key() { return this.store && this.store.me ? `${this.store.me.user_id}.push` : null; }

  // The service worker, registered once per page load.
  register() {
    if (!pushSupported()) return Promise.reject(new Error('This browser cannot show push notifications.'));
    if (!this.registration) {
      this.registration = navigator.serviceWorker.register(SW_URL, { type: 'module', scope: '/' })
        .catch((e) => { this.registration = null; throw e; });
    }
    return this.registration;
  }

  // Signed in (boot or sign-in): register the worker, work out the state, and
  // send a renewed subscription to the server.
  async start() {
    if (!pushSupported()) return;
    try {
      await this.register();
    } catch (e) {
      console.warn('chatd: service worker registration failed', e);
      this.set('error', `The notification service worker could not start (${e.message}).`);
      return;
    }
    await this.resync();
  }

  async subscription() {
    const reg = await this.register();
    return reg.pushManager.getSubscription();
  }

  // The state from the permission, the browser's subscription and what the
  // server holds for this device (GET /v1/me); re-registers a subscription the
  // browser renewed.
  async resync() {
    if (!pushSupported() || this.busy) return;
    try {
      if (Notification.permission === 'denied') {
        this.set('denied', 'Notifications are blocked for this site. Allow them in the browser’s site settings to turn them on.');
        return;
      }
      const sub = await this.subscription();
      const saved = this.key() ? load(this.key(), null) : null;
      if (sub && saved && Notification.permission === 'granted' && sub.endpoint !== saved.endpoint) {
        await api.setPushTarget(this.store.me.device_id, pushTarget(sub.toJSON()));
        if (this.key()) save(this.key(), { endpoint: sub.endpoint });
      }
      this.refresh(sub);
    } catch (e) {
      if (!e.offline) console.warn('chatd: push state', e);
    }
  }

  // on when this browser has a subscription and the server a webpush target for this device.
  refresh(sub) {
    if (this.busy || this.state.status === 'unsupported' || this.state.status === 'error') return;
    if (typeof Notification !== 'undefined' && Notification.permission === 'denied') {
      this.set('denied', 'Notifications are blocked for this site. Allow them in the browser’s site settings to turn them on.');
      return;
    }
    const me = this.store && this.store.me;
    const dev = me && (me.devices || []).find((d) => d.device_id === me.device_id);
    const server = !!(dev && dev.push && dev.push.kind === 'webpush');
    if (sub && server) this.set('on', 'This browser shows a notification for new messages while chatd is closed.');
    else this.set('off', '');
  }

  async enable() {
    if (this.busy) return;
    if (!pushSupported()) {
      this.set('unsupported', 'This browser cannot show push notifications.');
      return;
    }
    this.busy = true;
    this.set('working', 'Turning notifications on…');
    let step = 'permission';
    let sub = null;
    try {
      const perm = await Notification.requestPermission();
      if (perm === 'denied') {
        this.busy = false;
        this.set('denied', 'Notifications are blocked for this site. Allow them in the browser’s site settings to turn them on.');
        return;
      }
      if (perm !== 'granted') {
        this.busy = false;
        this.set('off', 'Notifications were not allowed.');
        return;
      }
      step = 'worker';
      const reg = await this.register();
      await navigator.serviceWorker.ready;
      step = 'key';
      const { public_key: publicKey } = await api.vapidKey();
      const key = vapidKeyBytes(publicKey);
      step = 'subscribe';
      sub = await reg.pushManager.getSubscription();
      if (sub && !sameBytes(sub.options && sub.options.applicationServerKey, key)) {
        // Made with another server key (the server's key changed): start over.
        await sub.unsubscribe();
        sub = null;
      }
      if (!sub) sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
      step = 'server';
      await api.setPushTarget(this.store.me.device_id, pushTarget(sub.toJSON()));
      if (this.key()) save(this.key(), { endpoint: sub.endpoint });
      this.store.setMe(await api.me());
      this.busy = false;
      this.refresh(sub);
    } catch (e) {
      this.busy = false;
      console.warn(`chatd: enabling push failed at ${step}`, e);
      if (step === 'server' && sub) sub.unsubscribe().catch(() => {});
      this.set('error', enableError(step, e));
    }
  }

  async disable() {
    if (this.busy) return;
    this.busy = true;
    this.set('working', 'Turning notifications off…');
    try {
      try {
        await api.deletePushTarget(this.store.me.device_id);
      } catch (e) {
        if (e.status !== 404) throw e;
      }
      if (this.key()) save(this.key(), null);
      if (pushSupported()) {
        const sub = await this.subscription().catch(() => null);
        if (sub) await sub.unsubscribe().catch(() => {});
      }
      this.store.setMe(await api.me().catch(() => ({})));
      this.busy = false;
      this.set('off', '');
    } catch (e) {
      this.busy = false;
      this.set('error', `Could not turn notifications off: ${e.message}`);
    }
  }

  toggle(on) { return on ? this.enable() : this.disable(); }

  // Signed out: this browser stops receiving this account's pushes (the
  // server drops the revoked device's target itself).
  forget() {
    if (pushSupported() && this.registration) {
      this.subscription().then((sub) => sub && sub.unsubscribe()).catch(() => {});
    }
    this.busy = false;
    this.set(pushSupported() ? 'off' : 'unsupported', pushSupported() ? '' : 'This browser cannot show push notifications.');
  }

  // A chat is on screen: its notification is no longer needed.
  chatShown(chatId) {
    if (!chatId || !pushSupported() || !this.registration || document.visibilityState !== 'visible') return;
    this.registration
      .then((reg) => reg.getNotifications({ tag: chatId }))
      .then((list) => { for (const n of list) n.close(); })
      .catch(() => {});
  }

  // The total unread count on the app icon (installed apps; a no-op elsewhere).
  badge(unread) {
    if (unread === this.lastBadge || typeof navigator === 'undefined' || !navigator.setAppBadge) return;
    this.lastBadge = unread;
    const p = unread > 0 ? navigator.setAppBadge(unread) : navigator.clearAppBadge ? navigator.clearAppBadge() : navigator.setAppBadge(0);
    Promise.resolve(p).catch(() => {});
  }

  onMessage(e) {
    const d = e.data || {};
    if (d.type === SW_MSG.WHICH_CHAT && e.ports && e.ports[0]) {
      const chatId = document.visibilityState === 'visible' ? this.currentChat() : null;
      e.ports[0].postMessage({ chat_id: chatId || null });
    } else if (d.type === SW_MSG.OPEN_CHAT && typeof d.chat_id === 'string' && d.chat_id) {
      window.focus();
      location.hash = `#/chat/${encodeURIComponent(d.chat_id)}`;
    } else if (d.type === SW_MSG.SUBSCRIPTION_CHANGED) {
      this.resync();
    }
  }
}

function enableError(step, e) {
  const why = e && e.message ? e.message : String(e);
  switch (step) {
    case 'worker':
      return `The notification service worker could not start (${why}).`;
    case 'key':
      if (e.status === 404) return 'This server does not offer push notifications.';
      return `Could not get the server’s push key (${why}).`;
    case 'subscribe':
      return `This browser could not subscribe to push messages (${why}). Private windows and browsers without a push service cannot receive them.`;
    case 'server':
      return `The server did not accept this browser’s subscription (${why}).`;
    default:
      return `Could not turn notifications on (${why}).`;
  }
}

export const push = new Push();

// Boot, layout and routing. Routes (in the URL hash):
//   #/                the chat list (on wide screens with an empty pane)
//   #/chat/<id>       a conversation        #/chat/<id>/info  its info page
//   #/new             a direct chat         #/new-group       a new group
//   #/settings        settings
// A notification click opens `/#/chat/<id>` (or asks an open page to go there).

import { h, replace } from './dom.js';
import { session } from './persist.js';
import { store } from './store.js';
import { sync } from './sync.js';
import { push } from './push.js';
import { mountSignIn, mountNameStep } from './views/signin.js';
import { mountChatList } from './views/chatlist.js';
import { mountConversation } from './views/conversation.js';
import { mountChatInfo } from './views/chatinfo.js';
import { mountNewDirect, mountNewGroup } from './views/newchat.js';
import { mountSettings } from './views/settings.js';

const root = document.getElementById('app');
const statusEl = document.getElementById('status');
let main = null; // {layout, sidebar, pane, list, view, routeKey}

function parseRoute() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  if (parts[0] === 'chat' && parts[1]) return { name: parts[2] === 'info' ? 'info' : 'chat', chatId: parts[1] };
  if (parts[0] === 'new') return { name: 'new' };
  if (parts[0] === 'new-group') return { name: 'new-group' };
  if (parts[0] === 'settings') return { name: 'settings' };
  return { name: 'home' };
}

function emptyPane(pane) {
  pane.append(h('div', { class: 'empty-pane', testid: 'empty-pane' },
    h('div', { class: 'auth-logo', 'aria-hidden': 'true' }),
    h('p', {}, 'Pick a chat, or start a new one.')));
  return { update() {}, unmount() {} };
}

function route() {
  if (!main) return;
  const r = parseRoute();
  const key = `${r.name}:${r.chatId || ''}`;
  if (key === main.routeKey) return;
  main.routeKey = key;
  if (main.view) main.view.unmount();
  replace(main.pane);
  const ctx = { store, sync, chatId: r.chatId };
  const mounts = {
    home: emptyPane,
    chat: (pane) => mountConversation(pane, ctx),
    info: (pane) => mountChatInfo(pane, ctx),
    new: (pane) => mountNewDirect(pane, ctx),
    'new-group': (pane) => mountNewGroup(pane, ctx),
    settings: (pane) => mountSettings(pane, ctx),
  };
  if (r.name === 'home' || r.name === 'new' || r.name === 'new-group' || r.name === 'settings') {
    if (store.openChatId) {
      store.openChatId = null;
      store.changed();
    }
  }
  main.view = mounts[r.name](main.pane);
  main.layout.classList.toggle('pane-open', r.name !== 'home');
  main.layout.dataset.route = r.name;
  main.list.update();
  if (r.name === 'chat') push.chatShown(r.chatId);
}

// The conversation on screen (for the service worker: no notification for it).
function currentChat() {
  if (!main) return null;
  const r = parseRoute();
  return r.name === 'chat' ? r.chatId : null;
}

function showMain() {
  if (main && main.view) main.view.unmount();
  const sidebar = h('aside', { class: 'sidebar', 'aria-label': 'Chats' });
  const pane = h('div', { class: 'pane' });
  const layout = h('div', { class: 'layout', testid: 'main' }, sidebar, pane);
  replace(root, layout);
  root.setAttribute('aria-busy', 'false');
  main = { layout, sidebar, pane, list: mountChatList(sidebar, { store, sync }), view: null, routeKey: null };
  route();
}

function showSignIn() {
  if (main && main.view) main.view.unmount();
  main = null;
  root.setAttribute('aria-busy', 'false');
  mountSignIn(root, { onSignedIn });
}

async function onSignedIn(r) {
  const s = { token: r.token, user_id: r.user_id, device_id: r.device_id };
  session.set(s);
  await sync.start(s);
  push.start();
  if (!store.me || !store.me.name) {
    mountNameStep(root, {
      onDone: async (name) => {
        await sync.updateMe({ name });
        showMain();
      },
    });
    return;
  }
  showMain();
}

// ---- the connection banner and notices ------------------------------------

let bannerTimer = null;
function renderStatus() {
  const state = store.connection;
  const queued = store.outbox.filter((m) => m.state !== 'failed').length;
  statusEl.dataset.state = state;
  if (!main || state === 'online' || state === 'idle' || state === 'stopped') {
    clearTimeout(bannerTimer);
    bannerTimer = null;
    statusEl.hidden = true;
    statusEl.dataset.state = state;
    return;
  }
  const show = () => {
    const waiting = store.connection === 'waiting';
    const secs = Math.max(0, Math.ceil((store.retryAt - Date.now()) / 1000));
    statusEl.dataset.state = store.connection;
    statusEl.textContent = (waiting ? `Offline. Reconnecting${secs ? ` in ${secs} s` : ''}…` : 'Connecting…')
      + (queued ? ` ${queued} message${queued === 1 ? '' : 's'} will be sent when back online.` : '');
    statusEl.hidden = false;
  };
  if (!statusEl.hidden) return show();
  if (!bannerTimer) bannerTimer = setTimeout(() => { bannerTimer = null; if (store.connection !== 'online') show(); }, 700);
}
setInterval(() => { if (!statusEl.hidden) renderStatus(); }, 1000);

const toast = h('div', { class: 'toast', role: 'alert', testid: 'toast', hidden: true });
document.body.append(toast);
let lastFlash = null;
function renderFlash() {
  if (!store.flash || store.flash === lastFlash) return;
  lastFlash = store.flash;
  toast.textContent = store.flash.text;
  toast.dataset.kind = store.flash.kind;
  toast.hidden = false;
  clearTimeout(renderFlash.timer);
  renderFlash.timer = setTimeout(() => { toast.hidden = true; }, 4000);
}

function renderTitle() {
  let unread = 0;
  for (const c of store.chats.values()) unread += c.unread || 0;
  document.title = unread ? `(${unread}) chatd` : 'chatd';
  if (store.chatsLoaded) push.badge(unread);
}

store.subscribe(() => {
  renderStatus();
  renderFlash();
  if (!main) return;
  renderTitle();
  main.list.update();
  if (main.view) main.view.update();
});

sync.onSignedOut = () => {
  push.forget();
  history.replaceState(null, '', location.pathname);
  showSignIn();
};
window.addEventListener('hashchange', route);
// Files dropped beside the conversation's drop target must not make the browser
// leave the app to show them.
for (const type of ['dragover', 'drop']) {
  window.addEventListener(type, (e) => {
    if (e.dataTransfer && [...e.dataTransfer.types].includes('Files')) e.preventDefault();
  });
}

// ---- boot -------------------------------------------------------------------

push.init({ store, currentChat });
const saved = session.get();
if (saved) {
  sync.start(saved).then(() => push.start());
  showMain();
} else {
  showSignIn();
}

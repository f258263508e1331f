// The sidebar: who I am, actions, and the chat list (last message, unread
// badge, online dot), most recent activity first.

import { h, reconcile } from '../dom.js';
import { messageText, shortTime, snippet, systemText } from '../format.js';
import { avatar, tick, iconButton } from './widgets.js';
import { icon } from '../icons.js';
import { muteState } from '../push_notify.js';

function preview(store, chat) {
  const typers = store.typers(chat.chat_id);
  if (typers.length) {
    const who = chat.type === 'group' ? `${store.nameOf(typers[0])} is ` : '';
    return { text: `${who}typing…`, typing: true };
  }
  const pending = store.pendingIn(chat.chat_id);
  if (pending.length) return { text: messageText(pending[pending.length - 1]), status: 'pending' };
  const m = chat.last_message;
  if (!m) return { text: chat.type === 'group' ? 'No messages yet' : 'Say hello 👋' };
  if (m.kind === 'system') return { text: systemText(m.system, (id) => store.nameOf(id)) };
  const mine = m.sender === store.me.user_id;
  const body = m.deleted ? 'Message deleted' : messageText(m);
  const prefix = chat.type === 'group' && !mine ? `${store.nameOf(m.sender)}: ` : '';
  return { text: prefix + body, status: mine && !m.deleted ? store.tickOf(m) : null, deleted: m.deleted };
}

function row(store, chat) {
  const title = store.titleOf(chat);
  const peer = store.peerOf(chat);
  const online = !!(peer && store.users.get(peer)?.online);
  const p = preview(store, chat);
  const when = chat.last_message ? chat.last_message.ts : chat.created_ts;
  const open = store.openChatId === chat.chat_id;
  const unread = chat.unread || 0;
  const muted = muteState(chat.settings).choice !== 'off';
  const label = `${title}${unread ? `, ${unread} unread` : ''}${online ? ', online' : ''}${muted ? ', muted' : ''}`;
  return h('li', { class: 'chat-row-wrap' },
    h('a', {
      href: `#/chat/${encodeURIComponent(chat.chat_id)}`,
      class: `chat-row${open ? ' active' : ''}${unread ? ' has-unread' : ''}`,
      testid: 'chat-item',
      dataset: { chatId: chat.chat_id, title },
      'aria-current': open ? 'page' : false,
      'aria-label': label,
    },
    avatar(chat.type === 'group' ? chat.chat_id : peer || chat.chat_id, title, { online }),
    h('span', { class: 'chat-row-main' },
      h('span', { class: 'chat-row-top' },
        h('span', { class: 'chat-title', testid: 'chat-title' }, title),
        muted ? h('span', { class: 'chat-muted', testid: 'chat-muted', title: 'Muted' }, icon('muted', 'icon')) : null,
        when ? h('time', { class: 'chat-time', datetime: new Date(when).toISOString() }, shortTime(when)) : null),
      h('span', { class: 'chat-row-bottom' },
        h('span', { class: `chat-preview${p.typing ? ' typing' : ''}${p.deleted ? ' deleted' : ''}`, testid: 'chat-preview' },
          p.status ? tick(p.status) : null, snippet(p.text, 60)),
        unread ? h('span', { class: 'badge', testid: 'unread-badge', 'aria-label': `${unread} unread` }, String(unread)) : null))));
}

export function mountChatList(root, { store, sync }) {
  const list = h('ul', { class: 'chat-list', testid: 'chat-list', 'aria-label': 'Chats' });
  const empty = h('p', { class: 'empty muted', testid: 'chat-list-empty' },
    'No chats yet. Start one with the “New chat” button above.');
  const meName = h('span', { class: 'me-name', testid: 'me-name' });
  const meAvatar = h('span', { class: 'me-avatar' });
  const header = h('header', { class: 'sidebar-header' },
    meAvatar, meName,
    h('span', { class: 'spacer' }),
    iconButton('New chat', 'compose', { testid: 'new-chat', onclick: () => { location.hash = '#/new'; } }),
    iconButton('New group', 'group', { testid: 'new-group', onclick: () => { location.hash = '#/new-group'; } }),
    iconButton('Settings', 'settings', { testid: 'open-settings', onclick: () => { location.hash = '#/settings'; } }));
  root.append(header, h('nav', { class: 'chat-list-scroll', 'aria-label': 'Chat list' }, list, empty));

  function update() {
    const me = store.me;
    if (!me) return;
    meName.textContent = me.name || me.phone || '';
    meAvatar.replaceChildren(avatar(me.user_id, me.name || '?', { size: 'small' }));
    const chats = store.sortedChats();
    empty.hidden = chats.length > 0 || !store.chatsLoaded;
    const now = new Date();
    reconcile(list, chats, (c) => c.chat_id, (c) => {
      const p = preview(store, c);
      const peer = store.peerOf(c);
      return JSON.stringify([store.titleOf(c), p, c.unread, store.openChatId === c.chat_id,
        peer && store.users.get(peer)?.online, c.last_message?.ts, now.getDate(), muteState(c.settings).choice]);
    }, (c) => row(store, c));
  }
  update();
  return { update, unmount() {} };
}

// Chat info: for groups the title (admins rename), the members with roles,
// add by phone number and remove (admins), leave; for direct chats the peer.
// For both: my notification settings for the chat (mute, message preview).

import { h, replace, reconcile } from '../dom.js';
import { clock, day, presenceText } from '../format.js';
import { MUTE_CHOICES, muteState, muteUntil, previewOn } from '../push_notify.js';
import { avatar, iconButton } from './widgets.js';

export function mountChatInfo(root, { store, sync, chatId }) {
  const body = h('div', { class: 'pane-body' });
  const heading = h('h2', { id: 'info-title' }, 'Chat info');
  const section = h('section', { class: 'info', testid: 'chat-info-page', 'aria-labelledby': 'info-title' },
    h('header', { class: 'pane-header' },
      iconButton('Back to the conversation', 'back', { class: 'icon-button back-always', testid: 'info-back', onclick: () => { location.hash = `#/chat/${encodeURIComponent(chatId)}`; } }),
      heading),
    body);
  root.append(section);

  const err = h('p', { class: 'form-error', role: 'alert', testid: 'info-error', hidden: true });
  const fail = (e) => { err.textContent = e.message; err.hidden = false; };
  const ok = () => { err.hidden = true; };

  // Stable form elements, so typing is not interrupted by updates.
  const titleInput = h('input', { id: 'group-title', type: 'text', maxlength: '128', required: true, testid: 'group-title-input' });
  const renameForm = h('form', { class: 'inline-form' },
    h('label', { for: 'group-title' }, 'Group name'),
    h('div', { class: 'row' }, titleInput, h('button', { type: 'submit', class: 'primary', testid: 'rename-group' }, 'Rename')));
  renameForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const t = titleInput.value.trim();
    if (!t) return;
    try { await sync.renameChat(chatId, t); ok(); } catch (ex) { fail(ex); }
  });

  const addInput = h('input', { id: 'add-member', type: 'tel', placeholder: '+15551234567', testid: 'add-member-input', autocomplete: 'off' });
  const addForm = h('form', { class: 'inline-form' },
    h('label', { for: 'add-member' }, 'Add a member by phone number'),
    h('div', { class: 'row' }, addInput, h('button', { type: 'submit', class: 'primary', testid: 'add-member' }, 'Add')));
  addForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const phone = addInput.value.trim();
    if (!phone) return;
    try {
      await sync.addMember(chatId, phone);
      addInput.value = '';
      ok();
    } catch (ex) {
      fail(ex.code === 'not_found' ? new Error(`No user with the number ${phone}.`) : ex);
    }
  });

  const membersList = h('ul', { class: 'member-list', testid: 'member-list' });
  const leaveButton = h('button', { type: 'button', class: 'danger', testid: 'leave-group' }, 'Leave group');
  leaveButton.addEventListener('click', async () => {
    try {
      await sync.removeMember(chatId, store.me.user_id);
      location.hash = '#/';
    } catch (ex) { fail(ex); }
  });

  // Notifications for this chat: PATCH /v1/chats/{id}/settings. While a change
  // is being saved, store updates do not flip the controls back under the user.
  const muteSelect = h('select', { id: 'mute-select', testid: 'mute-select', 'aria-describedby': 'mute-status' },
    ...MUTE_CHOICES.map(([value, label]) => h('option', { value }, label)));
  const untilOption = h('option', { value: 'until', disabled: true, testid: 'mute-until-option' });
  const muteStatus = h('p', { id: 'mute-status', class: 'hint', testid: 'mute-status' });
  const previewSwitch = h('input', { type: 'checkbox', role: 'switch', id: 'preview-switch', class: 'switch', testid: 'preview-switch' });
  let pendingMute = null;
  let pendingPreview = null;
  muteSelect.addEventListener('change', async () => {
    const choice = muteSelect.value;
    if (choice === 'until') return;
    pendingMute = choice;
    try {
      await sync.updateChatSettings(chatId, { muted_until: muteUntil(choice) });
      ok();
    } catch (ex) { fail(ex); } finally {
      if (pendingMute === choice) pendingMute = null;
      update();
    }
  });
  previewSwitch.addEventListener('change', async () => {
    const on = previewSwitch.checked;
    pendingPreview = on;
    try {
      await sync.updateChatSettings(chatId, { preview: on });
      ok();
    } catch (ex) { fail(ex); } finally {
      if (pendingPreview === on) pendingPreview = null;
      update();
    }
  });
  const notifSection = h('section', { class: 'chat-notifications', testid: 'chat-notifications', 'aria-labelledby': 'chat-notif-title' },
    h('h3', { class: 'section-title', id: 'chat-notif-title' }, 'Notifications'),
    h('div', { class: 'field-row' }, h('label', { for: 'mute-select' }, 'Mute notifications'), muteSelect),
    muteStatus,
    h('div', { class: 'switch-row' }, previewSwitch, h('label', { for: 'preview-switch' }, 'Show message preview')),
    h('p', { class: 'hint' }, 'Push notifications of this chat show the message text, or only “New message”.'));

  function updateNotifications(chat) {
    const st = muteState(chat.settings);
    if (pendingMute === null) {
      if (st.choice === 'until') {
        untilOption.textContent = `Until ${untilText(st.until)}`;
        if (untilOption.parentNode !== muteSelect) muteSelect.append(untilOption);
      } else if (untilOption.parentNode) untilOption.remove();
      muteSelect.value = st.choice;
      muteStatus.textContent = st.choice === 'off' ? ''
        : st.choice === 'always' ? 'Muted: no notifications from this chat.'
          : `Muted until ${untilText(st.until)}.`;
      muteStatus.dataset.state = st.choice;
    }
    if (pendingPreview === null) previewSwitch.checked = previewOn(chat.settings);
  }

  let initialized = false;

  function memberRow(chat, m, admin) {
    const me = m.user_id === store.me.user_id;
    const u = store.users.get(m.user_id);
    return h('li', { class: 'member', testid: 'member', dataset: { userId: m.user_id } },
      avatar(m.user_id, me ? store.me.name : store.nameOf(m.user_id), { online: !!u?.online, size: 'small' }),
      h('span', { class: 'member-main' },
        h('span', { class: 'member-name', testid: 'member-name' }, me ? `${store.me.name || 'You'} (you)` : store.nameOf(m.user_id)),
        h('span', { class: 'muted small-text' }, me ? '' : presenceText(u))),
      m.role === 'admin' ? h('span', { class: 'role-badge', testid: 'member-role' }, 'admin') : null,
      admin && !me
        ? h('button', {
          type: 'button', class: 'small', testid: m.role === 'admin' ? 'dismiss-admin' : 'make-admin',
          onclick: async () => {
            try { await sync.setRole(chatId, m.user_id, m.role === 'admin' ? 'member' : 'admin'); ok(); } catch (ex) { fail(ex); }
          },
        }, m.role === 'admin' ? 'Dismiss as admin' : 'Make admin')
        : null,
      admin && !me
        ? h('button', {
          type: 'button', class: 'small danger', testid: 'remove-member', 'aria-label': `Remove ${store.nameOf(m.user_id)}`,
          onclick: async () => { try { await sync.removeMember(chatId, m.user_id); ok(); } catch (ex) { fail(ex); } },
        }, 'Remove')
        : null);
  }

  const card = h('div', { class: 'profile-card' });
  const membersTitle = h('h3', { class: 'section-title' }, 'Members');
  const leaveArea = h('div', { class: 'leave-area' });
  body.append(card, err, notifSection, renameForm, membersTitle, membersList, addForm, leaveArea);

  function update() {
    const chat = store.chats.get(chatId);
    if (!chat) return;
    const group = chat.type === 'group';
    updateNotifications(chat);
    for (const el of [membersTitle, membersList, leaveArea]) el.hidden = !group;
    if (!group) {
      heading.textContent = 'Contact info';
      renameForm.hidden = addForm.hidden = true;
      const peer = store.peerOf(chat);
      const u = store.users.get(peer);
      replace(card,
        avatar(peer, store.nameOf(peer), { size: 'large', online: !!u?.online }),
        h('h3', { testid: 'contact-name' }, store.nameOf(peer)),
        u?.phone ? h('p', { class: 'muted' }, u.phone) : null,
        h('p', { class: 'muted', testid: 'contact-presence' }, presenceText(u)));
      return;
    }
    heading.textContent = 'Group info';
    const admin = store.isAdmin(chat) && !chat.left;
    if (!initialized || document.activeElement !== titleInput) titleInput.value = chat.title;
    initialized = true;
    renameForm.hidden = addForm.hidden = !admin;
    replace(card,
      avatar(chat.chat_id, chat.title, { size: 'large' }),
      h('h3', { testid: 'group-title' }, chat.title),
      h('p', { class: 'muted' }, `${chat.members.length} member${chat.members.length === 1 ? '' : 's'}`));
    const members = chat.members.slice().sort((a, b) => (a.role === b.role
      ? store.nameOf(a.user_id).localeCompare(store.nameOf(b.user_id)) : a.role === 'admin' ? -1 : 1));
    reconcile(membersList, members, (m) => m.user_id, (m) => {
      const u = store.users.get(m.user_id);
      return JSON.stringify([m.role, admin, store.nameOf(m.user_id), u?.online, presenceText(u), store.me.name]);
    }, (m) => memberRow(chat, m, admin));
    if (chat.left) replace(leaveArea, h('p', { class: 'muted' }, 'You are no longer a member of this group.'));
    else if (leaveArea.firstChild !== leaveButton) replace(leaveArea, leaveButton);
  }

  if (!store.chats.has(chatId)) sync.fetchChat(chatId);
  // A mute "for 8 hours" ends by itself: refresh the text once a minute.
  const timer = setInterval(update, 60_000);
  update();
  return { update, unmount() { clearInterval(timer); } };
}

function untilText(ts) {
  const label = day(ts);
  return label === 'Today' ? clock(ts) : `${label}, ${clock(ts)}`;
}

// Starting chats: a direct chat by phone number, or a group with a title and members.

import { h, replace } from '../dom.js';
import { iconButton } from './widgets.js';

function paneShell(root, titleText, testid, ...content) {
  const section = h('section', { class: 'form-pane', testid, 'aria-labelledby': `${testid}-title` },
    h('header', { class: 'pane-header' },
      iconButton('Back to chats', 'back', { class: 'icon-button back', onclick: () => { location.hash = '#/'; } }),
      h('h2', { id: `${testid}-title` }, titleText)),
    h('div', { class: 'pane-body' }, ...content));
  root.append(section);
}

function explain(e, phone) {
  if (e.code === 'not_found') return `Nobody uses chatd with the number ${phone} yet.`;
  if (e.code === 'bad_request' && /phone/i.test(e.message)) return 'Enter the number in international format, e.g. +15551234567.';
  return e.message;
}

export function mountNewDirect(root, { sync }) {
  const input = h('input', { id: 'new-chat-phone', type: 'tel', placeholder: '+15551234567', required: true, testid: 'new-chat-phone', autocomplete: 'off' });
  const err = h('p', { class: 'form-error', role: 'alert', testid: 'new-chat-error', hidden: true });
  const button = h('button', { type: 'submit', class: 'primary', testid: 'new-chat-submit' }, 'Start chat');
  const form = h('form', { class: 'stack narrow' },
    h('label', { for: 'new-chat-phone' }, 'Phone number'), input,
    h('p', { class: 'hint' }, 'The person must have signed in to chatd once.'), err, button);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const phone = input.value.replace(/[\s().-]/g, '');
    if (!phone) return;
    button.disabled = true;
    try {
      const chatId = await sync.startDirect(phone);
      location.hash = `#/chat/${encodeURIComponent(chatId)}`;
    } catch (ex) {
      err.textContent = explain(ex, phone);
      err.hidden = false;
      button.disabled = false;
    }
  });
  paneShell(root, 'New chat', 'new-chat-page', form);
  input.focus();
  return { update() {}, unmount() {} };
}

export function mountNewGroup(root, { sync }) {
  const phones = [];
  const title = h('input', { id: 'new-group-title', type: 'text', maxlength: '128', required: true, testid: 'new-group-title', autocomplete: 'off' });
  const phoneInput = h('input', { id: 'new-group-phone', type: 'tel', placeholder: '+15551234567', testid: 'new-group-phone', autocomplete: 'off' });
  const chips = h('ul', { class: 'chips', testid: 'new-group-members', 'aria-label': 'Members to add' });
  const err = h('p', { class: 'form-error', role: 'alert', testid: 'new-group-error', hidden: true });
  const create = h('button', { type: 'submit', class: 'primary', testid: 'new-group-submit' }, 'Create group');

  function renderChips() {
    replace(chips, ...phones.map((p) => h('li', { class: 'chip' }, p,
      iconButton(`Remove ${p}`, 'close', { class: 'icon-button small', onclick: () => { phones.splice(phones.indexOf(p), 1); renderChips(); } }))));
  }

  async function addPhone() {
    const p = phoneInput.value.replace(/[\s().-]/g, '');
    if (!p) return;
    try {
      await sync.findUserByPhone(p);
      if (!phones.includes(p)) phones.push(p);
      phoneInput.value = '';
      err.hidden = true;
      renderChips();
    } catch (ex) {
      err.textContent = explain(ex, p);
      err.hidden = false;
    }
    phoneInput.focus();
  }

  const addButton = h('button', { type: 'button', testid: 'new-group-add', onclick: addPhone }, 'Add');
  phoneInput.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') { e.preventDefault(); addPhone(); }
  });
  const form = h('form', { class: 'stack narrow' },
    h('label', { for: 'new-group-title' }, 'Group name'), title,
    h('label', { for: 'new-group-phone' }, 'Members (phone numbers)'),
    h('div', { class: 'row' }, phoneInput, addButton),
    chips, err, create);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const t = title.value.trim();
    if (!t) {
      err.textContent = 'Give the group a name.';
      err.hidden = false;
      return title.focus();
    }
    if (phoneInput.value.trim()) await addPhone();
    create.disabled = true;
    try {
      const chatId = await sync.createGroup(t, phones);
      location.hash = `#/chat/${encodeURIComponent(chatId)}`;
    } catch (ex) {
      err.textContent = ex.message;
      err.hidden = false;
      create.disabled = false;
    }
  });
  paneShell(root, 'New group', 'new-group-page', form);
  title.focus();
  return { update() {}, unmount() {} };
}

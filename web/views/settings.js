// Settings: display name, who sees my last seen, push notifications in this
// browser, this account's devices, sign out.

import { h, replace } from '../dom.js';
import { api } from '../api.js';
import { shortTime } from '../format.js';
import { iconButton } from './widgets.js';
import { push } from '../push.js';

const PRIVACY = [
  ['everyone', 'Everyone'],
  ['contacts', 'My contacts', 'people you have a direct chat with'],
  ['nobody', 'Nobody', 'you will not see others’ last seen either'],
];

export function mountSettings(root, { store, sync }) {
  const status = h('p', { class: 'saved-note', role: 'status', testid: 'settings-status' });
  const say = (t) => {
    status.textContent = t;
    clearTimeout(say.timer);
    say.timer = setTimeout(() => { status.textContent = ''; }, 2500);
  };

  const nameInput = h('input', { id: 'settings-name', type: 'text', maxlength: '128', testid: 'settings-name', autocomplete: 'name' });
  const nameForm = h('form', { class: 'inline-form' },
    h('label', { for: 'settings-name' }, 'Display name'),
    h('div', { class: 'row' }, nameInput, h('button', { type: 'submit', class: 'primary', testid: 'settings-name-save' }, 'Save')));
  nameForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const name = nameInput.value.trim();
    if (!name) return;
    try { await sync.updateMe({ name }); say('Name saved'); } catch (ex) { say(ex.message); }
  });

  // The choice being saved: a store update that arrives meanwhile (an older
  // GET /v1/me answering late) must not flip the radios back under the user.
  let pendingPrivacy = null;
  const radios = PRIVACY.map(([value, label, hint]) => {
    const input = h('input', { type: 'radio', name: 'last-seen', id: `privacy-${value}`, value, testid: `privacy-${value}` });
    input.addEventListener('change', async () => {
      if (!input.checked) return;
      pendingPrivacy = value;
      try {
        await sync.updateMe({ last_seen_privacy: value });
        say('Privacy saved');
      } catch (ex) {
        say(ex.message);
      } finally {
        if (pendingPrivacy === value) pendingPrivacy = null;
        update();
      }
    });
    return { value, input, el: h('div', { class: 'radio-row' }, input, h('label', { for: `privacy-${value}` }, label, hint ? h('span', { class: 'hint' }, ` — ${hint}`) : null)) };
  });
  const privacy = h('fieldset', { class: 'privacy', testid: 'privacy-settings' },
    h('legend', {}, 'Who can see my last seen and online status'), ...radios.map((r) => r.el));

  // Notifications: one switch; push.state says what it can do and why not.
  const pushSwitch = h('input', { type: 'checkbox', role: 'switch', id: 'push-switch', class: 'switch', testid: 'push-switch', 'aria-describedby': 'push-status' });
  const pushStatus = h('p', { id: 'push-status', class: 'hint push-status', role: 'status', testid: 'push-status' });
  pushSwitch.addEventListener('change', () => { push.toggle(pushSwitch.checked); });
  const notifications = h('div', { class: 'switch-row', testid: 'push-settings' },
    pushSwitch, h('label', { for: 'push-switch' }, 'Notifications for new messages in this browser'));

  const phone = h('p', { class: 'muted', testid: 'settings-phone' });
  const devices = h('ul', { class: 'device-list', testid: 'device-list' });
  const signOut = h('button', { type: 'button', class: 'danger', testid: 'sign-out', onclick: () => sync.signOut() }, 'Sign out');

  root.append(h('section', { class: 'form-pane settings', testid: 'settings-page', 'aria-labelledby': 'settings-title' },
    h('header', { class: 'pane-header' },
      iconButton('Back to chats', 'back', { class: 'icon-button back', onclick: () => { location.hash = '#/'; } }),
      h('h2', { id: 'settings-title' }, 'Settings')),
    h('div', { class: 'pane-body' },
      h('div', { class: 'stack narrow' },
        phone, nameForm, privacy,
        h('h3', { class: 'section-title' }, 'Notifications'), notifications, pushStatus,
        h('h3', { class: 'section-title' }, 'Devices signed in'), devices,
        status, signOut))));

  let nameShown = null;
  function update() {
    const ps = push.state;
    pushSwitch.checked = ps.status === 'working' ? pushSwitch.checked : ps.status === 'on';
    pushSwitch.disabled = ps.status === 'unsupported' || ps.status === 'denied' || ps.status === 'working';
    pushStatus.dataset.state = ps.status;
    pushStatus.textContent = ps.message || (ps.status === 'off' ? 'Off: new messages show only while chatd is open.' : '');
    const me = store.me;
    if (!me) return;
    phone.textContent = me.phone ? `Signed in as ${me.phone}` : '';
    if (me.name !== nameShown && document.activeElement !== nameInput) {
      nameInput.value = me.name || '';
      nameShown = me.name;
    }
    const privacyShown = pendingPrivacy || me.last_seen_privacy || 'everyone';
    for (const r of radios) r.input.checked = r.value === privacyShown;
    replace(devices, ...(me.devices || []).map((d) => h('li', {},
      h('span', {}, d.name || 'Device', d.device_id === me.device_id ? ' (this browser)' : '',
        d.push ? h('span', { class: 'muted small-text', testid: 'device-push' }, ' · notifications on') : null),
      h('span', { class: 'muted small-text' }, `active ${shortTime(d.last_active_ts || d.created_ts)}`))));
  }
  api.me().then((me) => { store.setMe(me); push.resync(); }).catch(() => {});
  update();
  return { update, unmount() {} };
}

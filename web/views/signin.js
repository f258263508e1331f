// Sign-in: phone number -> one-time code -> (new users) display name.

import { h, replace } from '../dom.js';
import { api } from '../api.js';

const PHONE_RE = /^\+[1-9]\d{7,14}$/;

function normalizePhone(s) {
  const t = String(s).replace(/[\s().-]/g, '');
  return t.startsWith('00') ? `+${t.slice(2)}` : t;
}

function deviceName() {
  const ua = navigator.userAgent;
  const browser = /Firefox\//.test(ua) ? 'Firefox' : /Edg\//.test(ua) ? 'Edge' : /Chrom/.test(ua) ? 'Chrome' : /Safari\//.test(ua) ? 'Safari' : 'Browser';
  const os = /Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iOS' : /Mac/.test(ua) ? 'macOS' : /Win/.test(ua) ? 'Windows' : /Linux/.test(ua) ? 'Linux' : '';
  return `Web: ${browser}${os ? ` on ${os}` : ''}`;
}

function card(title, subtitle, ...body) {
  return h('section', { class: 'auth-card', 'aria-labelledby': 'auth-title' },
    h('div', { class: 'auth-logo', 'aria-hidden': 'true' }),
    h('h1', { id: 'auth-title' }, title),
    subtitle ? h('p', { class: 'muted' }, subtitle) : null,
    ...body);
}

function errorBox() {
  return h('p', { class: 'form-error', role: 'alert', testid: 'auth-error', hidden: true });
}

function showError(box, text) {
  box.textContent = text;
  box.hidden = !text;
}

// Renders the sign-in flow into `root`; calls onSignedIn({token, user_id, device_id, new_user}).
export function mountSignIn(root, { onSignedIn }) {
  let phone = '';

  function phoneStep(prefill = '') {
    const input = h('input', {
      id: 'phone', type: 'tel', name: 'phone', autocomplete: 'tel', inputmode: 'tel',
      placeholder: '+15551234567', required: true, value: prefill, testid: 'phone-input',
      'aria-describedby': 'phone-help',
    });
    const err = errorBox();
    const button = h('button', { type: 'submit', class: 'primary', testid: 'phone-submit' }, 'Send code');
    const form = h('form', { class: 'stack', novalidate: true },
      h('label', { for: 'phone' }, 'Phone number'),
      input,
      h('p', { id: 'phone-help', class: 'hint' }, 'International format, starting with + and the country code.'),
      err, button);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const p = normalizePhone(input.value);
      if (!PHONE_RE.test(p)) return showError(err, 'Enter the number in international format, e.g. +15551234567.');
      button.disabled = true;
      showError(err, '');
      try {
        const r = await api.requestOtp(p);
        phone = p;
        codeStep(r.dev_code || '');
      } catch (ex) {
        showError(err, ex.code === 'rate_limited' ? 'Too many codes requested. Try again later.' : ex.message);
        button.disabled = false;
      }
    });
    replace(root, h('div', { class: 'auth', testid: 'signin' }, card('Sign in to chatd', 'We will send a one-time code to your phone.', form)));
    input.focus();
  }

  function codeStep(devCode) {
    const input = h('input', {
      id: 'code', type: 'text', name: 'code', autocomplete: 'one-time-code', inputmode: 'numeric',
      pattern: '[0-9]*', maxlength: '6', required: true, value: devCode, testid: 'code-input',
    });
    const err = errorBox();
    const button = h('button', { type: 'submit', class: 'primary', testid: 'code-submit' }, 'Verify');
    const back = h('button', { type: 'button', class: 'link', onclick: () => phoneStep(phone) }, 'Use another number');
    const dev = devCode
      ? h('p', { class: 'dev-code', testid: 'dev-code' }, 'Development server: your code is ', h('strong', {}, devCode))
      : null;
    const form = h('form', { class: 'stack', novalidate: true },
      h('label', { for: 'code' }, `Code sent to ${phone}`), input, dev, err, button, back);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const code = input.value.trim();
      if (!/^\d{4,8}$/.test(code)) return showError(err, 'Enter the code from the text message.');
      button.disabled = true;
      showError(err, '');
      try {
        const r = await api.verify(phone, code, deviceName());
        onSignedIn(r);
      } catch (ex) {
        const msg = ex.code === 'rate_limited'
          ? 'Too many wrong tries: request a new code.'
          : ex.code === 'unauthorized' ? 'That code is wrong or has expired.' : ex.message;
        showError(err, msg);
        button.disabled = false;
      }
    });
    replace(root, h('div', { class: 'auth', testid: 'signin-code' }, card('Enter the code', null, form)));
    input.focus();
    input.select();
  }

  phoneStep();
}

// The display-name step for a user without a name.
export function mountNameStep(root, { initial = '', onDone }) {
  const input = h('input', {
    id: 'display-name', type: 'text', name: 'name', autocomplete: 'name', maxlength: '128',
    required: true, value: initial, testid: 'name-input',
  });
  const err = errorBox();
  const button = h('button', { type: 'submit', class: 'primary', testid: 'name-submit' }, 'Continue');
  const form = h('form', { class: 'stack', novalidate: true },
    h('label', { for: 'display-name' }, 'Your name'), input,
    h('p', { class: 'hint' }, 'Shown to the people you chat with.'), err, button);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const name = input.value.trim();
    if (!name) return showError(err, 'Enter a name.');
    button.disabled = true;
    try {
      await onDone(name);
    } catch (ex) {
      showError(err, ex.message);
      button.disabled = false;
    }
  });
  replace(root, h('div', { class: 'auth', testid: 'name-step' }, card('What is your name?', null, form)));
  input.focus();
}

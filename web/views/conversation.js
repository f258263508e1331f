// One conversation: header with presence, messages in seq order with infinite
// scroll into history, replies, delete for everyone, ticks, typing, composer,
// media (attach by picker, drag and drop or paste; the text becomes the caption).

import { h, reconcile } from '../dom.js';
import { clock, day, messageText, presenceText, snippet, systemText } from '../format.js';
import { avatar, tick, iconButton } from './widgets.js';
import { icon } from '../icons.js';
import { mediaLimits, startUploads } from '../media.js';
import { attachmentChip, mediaBlock, pendingMediaBlock } from './media.js';

const drafts = new Map(); // chat_id -> text, kept while the page lives
const attached = new Map(); // chat_id -> [Upload] in the composer, kept likewise

function dayKey(ts) {
  const d = new Date(ts);
  return `${d.getFullYear()}-${d.getMonth() + 1}-${d.getDate()}`;
}

export function mountConversation(root, { store, sync, chatId }) {
  let replyTo = null; // seq
  let confirmSeq = null; // seq whose delete is being confirmed
  let stickToBottom = true;
  let firstRender = true;

  const title = h('h2', { class: 'conv-title', testid: 'conv-title', id: 'conv-title' });
  const status = h('p', { class: 'conv-status', testid: 'conv-status' });
  const headAvatar = h('span', { class: 'conv-avatar' });
  const infoButton = iconButton('Chat info', 'info', {
    testid: 'chat-info',
    onclick: () => { location.hash = `#/chat/${encodeURIComponent(chatId)}/info`; },
  });
  const header = h('header', { class: 'pane-header conv-header' },
    iconButton('Back to chats', 'back', { class: 'icon-button back', testid: 'back', onclick: () => { location.hash = '#/'; } }),
    headAvatar,
    h('div', { class: 'conv-heading' }, title, status),
    infoButton);

  const historyStatus = h('p', { class: 'history-status', testid: 'history-status' });
  const items = h('ol', { class: 'message-items' });
  const typingLine = h('p', { class: 'typing-line', testid: 'typing-indicator', hidden: true });
  const log = h('div', {
    class: 'messages', role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions',
    'aria-labelledby': 'conv-title', testid: 'message-list', tabindex: '0',
  }, historyStatus, items);

  const textarea = h('textarea', {
    id: 'composer', rows: '1', placeholder: 'Message', testid: 'composer', autocomplete: 'off',
    'aria-label': 'Message', maxlength: '65536',
  });
  textarea.value = drafts.get(chatId) || '';
  const replyBox = h('div', { class: 'reply-preview', testid: 'reply-preview', hidden: true });
  const sendButton = h('button', { type: 'submit', class: 'send-button', testid: 'send-button', 'aria-label': 'Send' },
    icon('send'));
  const fileInput = h('input', {
    type: 'file', multiple: true, class: 'visually-hidden', tabindex: '-1', 'aria-hidden': 'true', testid: 'file-input',
  });
  const attachButton = iconButton('Attach files', 'attach', {
    class: 'icon-button attach-button', testid: 'attach-button', onclick: () => fileInput.click(),
  });
  const strip = h('ul', { class: 'attachments', testid: 'attachment-strip', 'aria-label': 'Attachments', hidden: true });
  const composer = h('form', { class: 'composer', testid: 'composer-form' },
    replyBox, strip, h('div', { class: 'composer-row' }, attachButton, fileInput, textarea, sendButton));
  const leftNote = h('p', { class: 'left-note', testid: 'left-note', hidden: true }, 'You are no longer a member of this group.');
  const dropHint = h('div', { class: 'drop-hint', testid: 'drop-hint', hidden: true, 'aria-hidden': 'true' },
    h('div', { class: 'drop-hint-box' }, icon('attach'), h('p', {}, 'Drop files to send them')));

  const section = h('section', { class: 'conversation', testid: 'conversation', dataset: { chatId }, 'aria-labelledby': 'conv-title' },
    header, log, typingLine, composer, leftNote, dropHint);
  root.append(section);

  // ---- composer -------------------------------------------------------------

  function grow() {
    textarea.style.height = 'auto';
    textarea.style.height = `${Math.min(textarea.scrollHeight, 160)}px`;
  }

  function submit() {
    const body = textarea.value.trim();
    const uploads = attached.get(chatId) || [];
    if (!body && !uploads.length) return;
    if (uploads.some((u) => u.state === 'failed')) {
      store.notify('A file could not be uploaded: retry or remove it.', 'error');
      return;
    }
    if (uploads.length) {
      // Sent as soon as the uploads still running are done.
      for (const u of uploads) unwatch(u);
      attached.delete(chatId);
      sync.sendMedia(chatId, body, replyTo, uploads);
      renderStrip();
    } else sync.send(chatId, body, replyTo);
    textarea.value = '';
    drafts.delete(chatId);
    replyTo = null;
    stickToBottom = true;
    grow();
    update();
    textarea.focus();
  }

  composer.addEventListener('submit', (e) => { e.preventDefault(); submit(); });
  textarea.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      submit();
    } else if (e.key === 'Escape' && replyTo) {
      replyTo = null;
      update();
    }
  });
  textarea.addEventListener('input', () => {
    drafts.set(chatId, textarea.value);
    sync.typed(chatId, textarea.value.trim() !== '');
    grow();
  });

  // ---- attachments ------------------------------------------------------------

  const watching = new Map(); // Upload -> unsubscribe

  function watch(u) {
    if (!watching.has(u)) watching.set(u, u.onChange(() => renderStrip()));
  }
  function unwatch(u) {
    const off = watching.get(u);
    if (off) off();
    watching.delete(u);
  }

  function renderStrip() {
    const uploads = attached.get(chatId) || [];
    strip.hidden = uploads.length === 0;
    strip.replaceChildren(...uploads.map((u) => attachmentChip(u, {
      onRemove: () => {
        unwatch(u);
        u.cancel();
        const list = (attached.get(chatId) || []).filter((x) => x !== u);
        if (list.length) attached.set(chatId, list);
        else attached.delete(chatId);
        renderStrip();
        textarea.focus();
      },
      onRetry: () => u.retry(),
    })));
  }

  async function addFiles(fileList) {
    const files = [...(fileList || [])];
    const chat = store.chats.get(chatId);
    if (!files.length || !chat || chat.left) return;
    const limits = await mediaLimits();
    const room = limits.max_media_per_message - (attached.get(chatId) || []).length;
    const { uploads, problems } = await startUploads(files, room);
    if (problems.length) store.notify(problems.join('. '), 'error');
    if (!uploads.length) return;
    attached.set(chatId, [...(attached.get(chatId) || []), ...uploads]);
    if (!unmounted) {
      for (const u of uploads) watch(u);
      renderStrip();
      textarea.focus();
    }
  }

  fileInput.addEventListener('change', () => {
    addFiles(fileInput.files);
    fileInput.value = '';
  });

  // A pasted image (not text that happens to come with a picture of itself).
  textarea.addEventListener('paste', (e) => {
    const cd = e.clipboardData;
    if (!cd || !cd.files || !cd.files.length || cd.getData('text/plain')) return;
    e.preventDefault();
    addFiles(cd.files);
  });

  // Files dragged over the conversation: a drop target over all of it.
  let dragDepth = 0;
  const draggingFiles = (e) => !composer.hidden && e.dataTransfer && [...e.dataTransfer.types].includes('Files');
  section.addEventListener('dragenter', (e) => {
    if (!draggingFiles(e)) return;
    e.preventDefault();
    dragDepth += 1;
    dropHint.hidden = false;
  });
  section.addEventListener('dragover', (e) => {
    if (!draggingFiles(e)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
  });
  section.addEventListener('dragleave', (e) => {
    if (!draggingFiles(e)) return;
    dragDepth = Math.max(0, dragDepth - 1);
    if (!dragDepth) dropHint.hidden = true;
  });
  section.addEventListener('drop', (e) => {
    dragDepth = 0;
    dropHint.hidden = true;
    if (!draggingFiles(e)) return;
    e.preventDefault();
    addFiles(e.dataTransfer.files);
  });

  // ---- scrolling and history -------------------------------------------------

  log.addEventListener('scroll', () => {
    stickToBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    if (log.scrollTop < 150) loadOlder();
  });

  async function loadOlder() {
    const hist = store.hist(chatId);
    if (hist.loading || hist.complete || !hist.loaded) return;
    const fromBottom = log.scrollHeight - log.scrollTop;
    await sync.loadOlder(chatId);
    update();
    log.scrollTop = log.scrollHeight - fromBottom;
  }

  // ---- rendering ------------------------------------------------------------

  function quote(chat, seq) {
    const target = store.msgs(chatId).get(seq);
    const who = target ? (target.sender ? store.nameOf(target.sender) : '') : '';
    const text = !target ? 'an earlier message' : target.deleted ? 'Message deleted' : snippet(messageText(target), 90);
    return h('button', {
      type: 'button', class: 'reply-quote', testid: 'reply-quote',
      onclick: () => {
        const el = items.querySelector(`[data-seq="${seq}"]`);
        if (el) {
          el.scrollIntoView({ block: 'center' });
          el.classList.add('flash');
          setTimeout(() => el.classList.remove('flash'), 1200);
        }
      },
    }, who ? h('strong', {}, who) : null, h('span', {}, text));
  }

  function actions(chat, m, mine) {
    if (m.deleted || m.kind === 'system' || chat.left) return null;
    const canDelete = mine || store.isAdmin(chat);
    if (confirmSeq === m.seq) {
      return h('div', { class: 'msg-actions confirm', role: 'group', 'aria-label': 'Confirm delete' },
        h('span', {}, 'Delete for everyone?'),
        h('button', { type: 'button', class: 'danger small', testid: 'confirm-delete', onclick: () => { confirmSeq = null; sync.deleteMessage(chatId, m.seq); update(); } }, 'Delete'),
        h('button', { type: 'button', class: 'small', testid: 'cancel-delete', onclick: () => { confirmSeq = null; update(); } }, 'Cancel'));
    }
    return h('div', { class: 'msg-actions' },
      iconButton('Reply', 'reply', { class: 'icon-button small', testid: 'reply-button', onclick: () => { replyTo = m.seq; update(); textarea.focus(); } }),
      canDelete ? iconButton('Delete for everyone', 'trash', { class: 'icon-button small', testid: 'delete-button', onclick: () => { confirmSeq = m.seq; update(); } }) : null);
  }

  // Phone width: a tap on a bubble shows that message's actions (no hover there).
  function selectMessage(e) {
    if (e.target.closest('button, a, audio, video')) return;
    const li = e.currentTarget.closest('.message');
    const was = li.classList.contains('selected');
    for (const el of items.querySelectorAll('.message.selected')) el.classList.remove('selected');
    if (!was) li.classList.add('selected');
  }

  function messageEl(chat, m) {
    if (m.kind === 'system') {
      return h('li', { class: 'system-msg', testid: 'system-message', dataset: { seq: m.seq } },
        h('span', {}, systemText(m.system, (id) => store.nameOf(id))));
    }
    const mine = m.sender === store.me.user_id;
    const showSender = chat.type === 'group' && !mine;
    const media = !m.deleted && m.media && m.media.length ? mediaOf(m) : null;
    const body = m.deleted
      ? h('p', { class: 'msg-body deleted', testid: 'message-deleted' }, 'Message deleted')
      : media && !m.body ? null : h('p', { class: 'msg-body', testid: 'message-body' }, m.body || '');
    return h('li', {
      class: `message ${mine ? 'mine' : 'theirs'}${m.deleted ? ' is-deleted' : ''}`,
      testid: 'message',
      dataset: { seq: m.seq, mine: mine ? 'true' : 'false', clientMsgId: m.client_msg_id || '' },
    },
    h('div', { class: `bubble${media ? ' has-media' : ''}`, onclick: (e) => selectMessage(e) },
      showSender ? h('p', { class: 'msg-sender', testid: 'message-sender' }, store.nameOf(m.sender)) : null,
      m.reply_to && !m.deleted ? quote(chat, m.reply_to) : null,
      media,
      body,
      h('p', { class: 'msg-meta' },
        h('time', { datetime: new Date(m.ts).toISOString() }, clock(m.ts)),
        mine && !m.deleted ? tick(store.tickOf(m)) : null)),
    actions(chat, m, mine));
  }

  // A message's media block, reused across re-renders of its bubble (a tick
  // change must not restart a playing video or reload its images).
  const mediaEls = new Map(); // seq -> {ids, el}
  function mediaOf(m) {
    const ids = m.media.map((x) => x.media_id).join(',');
    const known = mediaEls.get(m.seq);
    if (known && known.ids === ids) return known.el;
    const el = mediaBlock(m.media);
    mediaEls.set(m.seq, { ids, el });
    return el;
  }

  function pendingEl(chat, p) {
    const failed = p.state === 'failed';
    const uploading = p.state === 'uploading';
    const attachments = p.attachments || [];
    return h('li', {
      class: `message mine pending${failed ? ' failed' : ''}`,
      testid: 'message',
      dataset: { pending: 'true', mine: 'true', clientMsgId: p.client_msg_id },
    },
    h('div', { class: `bubble${attachments.length ? ' has-media' : ''}` },
      p.reply_to ? quote(chat, p.reply_to) : null,
      attachments.length ? pendingMediaBlock(attachments, sync.uploadsOf(p.client_msg_id)) : null,
      attachments.length && !p.body ? null : h('p', { class: 'msg-body', testid: 'message-body' }, p.body),
      h('p', { class: 'msg-meta' },
        h('time', { datetime: new Date(p.created_ts).toISOString() }, clock(p.created_ts)),
        tick(failed ? 'failed' : 'pending'))),
    failed
      ? h('div', { class: 'msg-actions failed-actions' },
        h('span', { class: 'error-text' }, `Not sent: ${p.error || 'error'}`),
        p.lost ? null : h('button', { type: 'button', class: 'small', testid: 'retry-send', onclick: () => sync.retry(p.client_msg_id) }, 'Retry'),
        h('button', { type: 'button', class: 'small', testid: 'discard-send', onclick: () => sync.discard(p.client_msg_id) }, 'Discard'))
      : uploading
        ? h('div', { class: 'msg-actions failed-actions' },
          h('button', { type: 'button', class: 'small', testid: 'cancel-upload', onclick: () => sync.discard(p.client_msg_id) }, 'Cancel'))
        : null);
  }

  function renderHeader(chat) {
    const t = store.titleOf(chat);
    title.textContent = t;
    const peer = store.peerOf(chat);
    const u = peer ? store.users.get(peer) : null;
    headAvatar.replaceChildren(avatar(chat.type === 'group' ? chat.chat_id : peer || chatId, t, { online: !!u?.online }));
    if (chat.type === 'group') {
      const n = chat.members.length;
      const online = chat.members.filter((m) => m.user_id !== store.me.user_id && store.users.get(m.user_id)?.online).length;
      status.textContent = `${n} member${n === 1 ? '' : 's'}${online ? `, ${online} online` : ''}`;
      status.dataset.state = 'group';
    } else {
      const text = presenceText(u);
      status.textContent = text;
      status.dataset.state = !u || u.online === null || u.online === undefined ? 'hidden' : u.online ? 'online' : 'offline';
    }
    infoButton.hidden = false;
  }

  function update() {
    const chat = store.chats.get(chatId);
    if (!chat) {
      title.textContent = 'Loading…';
      return;
    }
    section.dataset.type = chat.type;
    renderHeader(chat);

    const hist = store.hist(chatId);
    historyStatus.textContent = hist.loading ? 'Loading…' : hist.complete ? (chat.type === 'group' ? '' : 'This is the beginning of your conversation.') : '';
    historyStatus.hidden = !historyStatus.textContent;

    const wasAtBottom = stickToBottom;
    const list = [];
    let lastDay = null;
    const days = new Set();
    const push = (ts, item) => {
      const dk = dayKey(ts);
      if (dk !== lastDay && !days.has(dk)) {
        days.add(dk);
        list.push({ key: `d:${dk}`, sig: day(ts), render: () => h('li', { class: 'day-sep', role: 'separator' }, h('span', {}, day(ts))) });
        lastDay = dk;
      }
      list.push(item);
    };
    const messages = store.sortedMessages(chatId);
    for (const m of messages) {
      const mine = m.sender === store.me.user_id;
      const key = mine && m.client_msg_id ? `c:${m.client_msg_id}` : `s:${m.seq}`;
      const sig = JSON.stringify([m.seq, m.deleted, m.body, (m.media || []).length, mine && store.tickOf(m), confirmSeq === m.seq,
        m.reply_to && store.msgs(chatId).get(m.reply_to)?.deleted, m.sender && store.nameOf(m.sender), chat.left, store.isAdmin(chat)]);
      push(m.ts, { key, sig, render: () => messageEl(chat, m) });
    }
    for (const p of store.pendingIn(chatId)) {
      const media = (p.attachments || []).map((a) => a.media_id || '');
      push(p.created_ts, { key: `c:${p.client_msg_id}`, sig: JSON.stringify(['p', p.state, p.error, media]), render: () => pendingEl(chat, p) });
    }
    reconcile(items, list, (x) => x.key, (x) => x.sig, (x) => x.render());

    const typers = store.typers(chatId);
    typingLine.hidden = typers.length === 0;
    if (typers.length) {
      typingLine.textContent = chat.type === 'group'
        ? `${typers.map((id) => store.nameOf(id)).join(', ')} ${typers.length === 1 ? 'is' : 'are'} typing…`
        : `${store.nameOf(typers[0])} is typing…`;
    } else typingLine.textContent = '';

    if (replyTo) {
      const target = store.msgs(chatId).get(replyTo);
      replyBox.hidden = false;
      replyBox.replaceChildren(
        h('div', { class: 'reply-preview-text' },
          h('strong', {}, `Replying to ${target && target.sender ? store.nameOf(target.sender) : 'message'}`),
          h('span', {}, target ? (target.deleted ? 'Message deleted' : snippet(messageText(target), 90)) : '')),
        iconButton('Cancel reply', 'close', { class: 'icon-button small', testid: 'cancel-reply', onclick: () => { replyTo = null; update(); textarea.focus(); } }));
    } else {
      replyBox.hidden = true;
      replyBox.replaceChildren();
    }

    composer.hidden = !!chat.left;
    attachButton.disabled = !!chat.left;
    leftNote.hidden = !chat.left;

    if (firstRender && hist.loaded) {
      firstRender = false;
      log.scrollTop = log.scrollHeight;
    } else if (wasAtBottom) {
      log.scrollTop = log.scrollHeight;
    }
    // Too little to scroll: keep loading until the view fills or history ends.
    if (hist.loaded && !hist.complete && !hist.loading && log.scrollHeight <= log.clientHeight + 150) {
      setTimeout(loadOlder, 0);
    }
  }

  // Typing expiry and "last seen" wording move with time.
  const ticker = setInterval(() => {
    const chat = store.chats.get(chatId);
    if (!chat) return;
    if (store.typing.get(chatId)?.size || Date.now() % 30000 < 1000) update();
  }, 1000);

  let unmounted = false;
  for (const u of attached.get(chatId) || []) watch(u);
  renderStrip();
  sync.openChat(chatId).then(update);
  update();
  if (window.matchMedia('(min-width: 720px)').matches || !('ontouchstart' in window)) textarea.focus();
  grow();

  return {
    update,
    unmount() {
      unmounted = true;
      for (const u of [...watching.keys()]) unwatch(u);
      clearInterval(ticker);
      sync.stopTyping(chatId);
      if (store.openChatId === chatId) {
        store.openChatId = null;
        store.changed();
      }
    },
  };
}

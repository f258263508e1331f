// Keeps the store in step with the server: applies socket events, refreshes the
// chat list on every (re)connection, sends the outbox, marks the open chat read,
// subscribes to presence, loads history. Views call the methods here; they never
// talk to the network themselves.

import { api, setToken, setUnauthorizedHandler } from './api.js';
import { Socket, wsUrl } from './socket.js';
import { store } from './store.js';
import { session, clearUser } from './persist.js';
import { forgetUrls } from './media.js';

const HISTORY_PAGE = 50;
const TYPING_REPEAT_MS = 3000;
const TYPING_IDLE_MS = 4000;

function newClientMsgId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}

class Sync {
  constructor() {
    this.socket = null;
    this.inflight = new Set(); // chat ids with a send in flight
    this.userFetches = new Map();
    this.chatFetches = new Map();
    this.presenceKey = '';
    this.typingState = new Map(); // chat_id -> {sentAt, timer}
    this.uploads = new Map(); // client_msg_id -> [Upload] of a media message in the outbox
    this.onSignedOut = () => {};
    setUnauthorizedHandler(() => this.signedOut());
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible' && store.openChatId) this.markRead(store.openChatId);
    });
  }

  // ---- session ------------------------------------------------------------

  async start(s) {
    setToken(s.token);
    store.reset();
    store.restore({ user_id: s.user_id, device_id: s.device_id });
    this.socket = new Socket({
      url: wsUrl(),
      token: s.token,
      onEvent: (f) => this.onEvent(f),
      onEphemeral: (f) => this.onEphemeral(f),
      onState: (state, retryAt) => store.setConnection(state, retryAt),
      onAuthed: () => this.onAuthed(),
      onRevoked: () => this.signedOut(),
    });
    this.socket.start();
    try {
      const me = await api.me();
      store.setMe(me);
    } catch (e) {
      if (!e.offline) console.warn('chatd: /v1/me failed', e);
    }
  }

  async signOut() {
    try {
      await api.logout();
    } catch (e) {
      // Offline: the token stays valid on the server, but this page forgets it.
    }
    this.signedOut();
  }

  signedOut() {
    const me = store.me;
    if (this.socket) this.socket.stop();
    this.socket = null;
    for (const id of [...this.uploads.keys()]) this.dropUploads(id);
    forgetUrls();
    setToken(null);
    session.clear();
    if (me) clearUser(me.user_id);
    store.reset();
    this.onSignedOut();
  }

  // ---- connection lifecycle --------------------------------------------------

  async onAuthed() {
    this.presenceKey = '';
    this.flushOutbox();
    try {
      const [list, me] = await Promise.all([api.chats(), api.me()]);
      store.setMe(me);
      store.setChats(list.chats);
      for (const c of list.chats) for (const m of c.members) this.ensureUser(m.user_id);
    } catch (e) {
      if (!e.offline) console.warn('chatd: chat list failed', e);
    }
    this.subscribePresence();
    const open = store.openChatId;
    if (open) {
      await this.catchUpHistory(open);
      this.refreshReceipts(open);
      this.markRead(open);
    }
  }

  onEvent(f) {
    switch (f.type) {
      case 'message': {
        const msg = f.message;
        if (!store.chats.has(msg.chat_id)) this.fetchChat(msg.chat_id);
        store.addMessage(msg, { live: true });
        if (msg.sender) this.ensureUser(msg.sender);
        if (msg.kind === 'system') this.fetchChat(msg.chat_id);
        if (msg.chat_id === store.openChatId) this.markRead(msg.chat_id);
        break;
      }
      case 'deleted':
        store.markDeleted(f.chat_id, f.seq);
        break;
      case 'receipt':
        store.applyReceipt(f);
        break;
      case 'chat': {
        const chat = store.upsertChat(f.chat);
        for (const m of chat.members) this.ensureUser(m.user_id);
        this.subscribePresence();
        break;
      }
      default:
        break;
    }
  }

  onEphemeral(f) {
    if (f.type === 'presence') store.setPresence(f);
    else if (f.type === 'typing') store.setTyping(f.chat_id, f.user_id, f.typing);
  }

  // ---- users, chats, presence -------------------------------------------------

  ensureUser(userId) {
    if (!userId || userId === store.me?.user_id) return;
    const u = store.users.get(userId);
    if ((u && u.fetched) || this.userFetches.has(userId)) return;
    const p = api
      .user(userId)
      .then((r) => store.setUser({ ...r, fetched: true }))
      .catch(() => {})
      .finally(() => this.userFetches.delete(userId));
    this.userFetches.set(userId, p);
  }

  fetchChat(chatId) {
    if (this.chatFetches.has(chatId)) return this.chatFetches.get(chatId);
    const p = api
      .chat(chatId)
      .then((c) => {
        store.upsertChat(c);
        for (const m of c.members) this.ensureUser(m.user_id);
        this.subscribePresence();
        return store.chats.get(chatId);
      })
      .catch(() => null)
      .finally(() => this.chatFetches.delete(chatId));
    this.chatFetches.set(chatId, p);
    return p;
  }

  subscribePresence() {
    if (!this.socket || !this.socket.online || !store.me) return;
    const ids = new Set();
    for (const c of store.chats.values()) {
      if (c.left) continue;
      for (const m of c.members || []) if (m.user_id !== store.me.user_id) ids.add(m.user_id);
    }
    const list = [...ids].sort().slice(0, 500);
    const key = list.join(',');
    if (key === this.presenceKey) return;
    this.presenceKey = key;
    this.socket.request({ type: 'presence_subscribe', user_ids: list }).catch(() => {
      this.presenceKey = '';
    });
  }

  async findUserByPhone(phone) {
    const u = await api.userByPhone(phone);
    store.setUser({ ...u, phone, fetched: true });
    return u;
  }

  async startDirect(phone) {
    const u = await this.findUserByPhone(phone);
    if (u.user_id === store.me.user_id) throw new Error('That is your own number.');
    const chat = await api.createDirect(u.user_id);
    store.upsertChat(chat);
    this.subscribePresence();
    return chat.chat_id;
  }

  async createGroup(title, phones) {
    const ids = [];
    for (const p of phones) {
      const u = await this.findUserByPhone(p);
      if (u.user_id !== store.me.user_id && !ids.includes(u.user_id)) ids.push(u.user_id);
    }
    const chat = await api.createGroup(title, ids);
    store.upsertChat(chat);
    this.subscribePresence();
    return chat.chat_id;
  }

  async renameChat(chatId, title) {
    store.upsertChat(await api.renameChat(chatId, title));
  }

  async addMember(chatId, phone) {
    const u = await this.findUserByPhone(phone);
    store.upsertChat(await api.addMembers(chatId, [u.user_id]));
    this.subscribePresence();
  }

  async setRole(chatId, userId, role) {
    store.upsertChat(await api.setRole(chatId, userId, role));
  }

  async removeMember(chatId, userId) {
    await api.removeMember(chatId, userId);
    await this.fetchChat(chatId);
  }

  async updateMe(fields) {
    store.setMe(await api.updateMe(fields));
  }

  // {muted_until?, preview?} for one chat (push notifications).
  async updateChatSettings(chatId, fields) {
    const r = await api.chatSettings(chatId, fields);
    store.setChatSettings(chatId, r && typeof r === 'object' ? r : fields);
  }

  // ---- history and reading -----------------------------------------------------

  async openChat(chatId) {
    if (store.openChatId !== chatId) {
      this.stopTyping(store.openChatId);
      store.openChatId = chatId;
      store.changed();
    }
    if (!chatId) return;
    if (!store.chats.has(chatId)) await this.fetchChat(chatId);
    const h = store.hist(chatId);
    if (!h.loaded) await this.loadOlder(chatId);
    else await this.catchUpHistory(chatId);
    this.refreshReceipts(chatId);
    this.markRead(chatId);
  }

  // The next older page of a chat's history (the newest page first).
  async loadOlder(chatId) {
    const h = store.hist(chatId);
    if (h.loading || h.complete) return;
    h.loading = true;
    store.changed();
    try {
      const opts = { limit: HISTORY_PAGE };
      if (h.oldest !== null) opts.before = h.oldest;
      const { messages } = await api.history(chatId, opts);
      for (const m of messages) {
        store.addMessage(m);
        if (m.sender) this.ensureUser(m.sender);
      }
      const seqs = messages.map((m) => m.seq);
      if (seqs.length) {
        h.oldest = Math.min(h.oldest ?? Infinity, ...seqs);
        h.newest = Math.max(h.newest, ...seqs);
      }
      if (!h.loaded) {
        h.loaded = true;
        for (const seq of store.msgs(chatId).keys()) h.newest = Math.max(h.newest, seq);
        if (h.oldest === null) h.oldest = Math.min(...store.msgs(chatId).keys(), Infinity);
      }
      if (messages.length < HISTORY_PAGE || h.oldest <= 1) h.complete = true;
    } catch (e) {
      if (!e.offline) store.notify(`Could not load messages: ${e.message}`, 'error');
    } finally {
      h.loading = false;
      store.changed();
    }
  }

  // After being away: fetch what came after the newest loaded message.
  async catchUpHistory(chatId) {
    const h = store.hist(chatId);
    const chat = store.chats.get(chatId);
    if (!h.loaded || !chat) return;
    let after = h.newest;
    for (let i = 0; i < 20 && chat.last_seq > after; i++) {
      let messages;
      try {
        ({ messages } = await api.history(chatId, { after, limit: 200 }));
      } catch {
        return;
      }
      if (!messages.length) break;
      for (const m of messages) store.addMessage(m);
      after = Math.max(after, ...messages.map((m) => m.seq));
      h.newest = Math.max(h.newest, after);
    }
  }

  // Receipt marks for my newest message in the chat (events only cover what
  // happens while this device is subscribed; this covers the rest).
  async refreshReceipts(chatId) {
    const mine = store.sortedMessages(chatId).filter((m) => m.sender === store.me.user_id);
    const last = mine[mine.length - 1];
    if (!last || store.tickOf(last) === 'read') return;
    try {
      const { receipts } = await api.receipts(chatId, last.seq);
      store.applyReceiptList(chatId, last.seq, receipts);
    } catch {
      /* offline: the events will tell */
    }
  }

  markRead(chatId) {
    if (!chatId || chatId !== store.openChatId || document.visibilityState !== 'visible') return;
    const chat = store.chats.get(chatId);
    if (!chat || !chat.last_seq || chat.last_seq <= (chat.read_seq || 0)) return;
    if (!this.socket || !this.socket.online) return;
    const seq = chat.last_seq;
    if (this.socket.send({ type: 'read', chat_id: chatId, seq })) store.setReadSeq(chatId, seq);
  }

  // ---- sending --------------------------------------------------------------

  send(chatId, body, replyTo) {
    const item = {
      client_msg_id: newClientMsgId(),
      chat_id: chatId,
      body,
      reply_to: replyTo || null,
      created_ts: Date.now(),
    };
    store.enqueue(item);
    // The server relays `typing: false` for us when the message arrives.
    const t = this.typingState.get(chatId);
    if (t) clearTimeout(t.timer);
    this.typingState.delete(chatId);
    this.flushOutbox();
  }

  // A media message: `uploads` (media.js Uploads, done or still going) become
  // its attachments; it waits in the outbox, in its place in the chat's order,
  // until every upload is done, then goes out like any message. `body` is the
  // caption (may be empty).
  sendMedia(chatId, body, replyTo, uploads) {
    const item = {
      client_msg_id: newClientMsgId(),
      chat_id: chatId,
      body,
      reply_to: replyTo || null,
      created_ts: Date.now(),
      attachments: uploads.map((u) => u.media),
      state: 'uploading',
    };
    this.uploads.set(item.client_msg_id, uploads);
    store.enqueue(item);
    for (const u of uploads) u.onChange(() => this.uploadChanged(item.client_msg_id));
    const t = this.typingState.get(chatId);
    if (t) clearTimeout(t.timer);
    this.typingState.delete(chatId);
    this.uploadChanged(item.client_msg_id);
  }

  // The Uploads of a pending media message (none after a reload).
  uploadsOf(clientMsgId) {
    return this.uploads.get(clientMsgId) || [];
  }

  uploadChanged(clientMsgId) {
    const m = store.outbox.find((x) => x.client_msg_id === clientMsgId);
    const all = this.uploads.get(clientMsgId);
    if (!m || !all) return;
    if (m.state !== 'uploading' && m.state !== 'failed') return;
    const uploads = all.filter((u) => u.state !== 'canceled');
    this.uploads.set(clientMsgId, uploads);
    if (!uploads.length && !m.body) {
      this.discard(clientMsgId);
      return;
    }
    const attachments = uploads.map((u) => u.media);
    const failed = uploads.find((u) => u.state === 'failed');
    if (failed) store.setOutboxState(clientMsgId, 'failed', `${failed.name}: ${failed.error}`, { attachments });
    else if (uploads.every((u) => u.state === 'done')) {
      store.setOutboxState(clientMsgId, 'queued', null, { attachments });
      this.flushOutbox();
    } else store.setOutboxState(clientMsgId, 'uploading', null, { attachments });
  }

  dropUploads(clientMsgId) {
    const uploads = this.uploads.get(clientMsgId);
    if (!uploads) return;
    this.uploads.delete(clientMsgId);
    for (const u of uploads) {
      if (u.state === 'done') u.dispose();
      else u.cancel();
    }
  }

  retry(clientMsgId) {
    const m = store.outbox.find((x) => x.client_msg_id === clientMsgId);
    const uploads = this.uploads.get(clientMsgId);
    if (m && uploads && uploads.some((u) => u.state === 'failed')) {
      store.setOutboxState(clientMsgId, 'uploading');
      for (const u of uploads) u.retry();
      return;
    }
    if (m && (m.attachments || []).some((a) => !a.media_id)) {
      store.notify('The files are gone (the page was reloaded): attach them again.', 'error');
      return;
    }
    store.setOutboxState(clientMsgId, 'queued');
    this.flushOutbox();
  }

  discard(clientMsgId) {
    this.dropUploads(clientMsgId);
    store.dropFromOutbox(clientMsgId);
  }

  // Sends queued messages, in order, one in flight per chat.
  flushOutbox() {
    if (!this.socket || !this.socket.online) return;
    const firstPerChat = new Map();
    for (const m of store.outbox) if (!firstPerChat.has(m.chat_id) && m.state !== 'failed') firstPerChat.set(m.chat_id, m);
    for (const [chatId, m] of firstPerChat) {
      if (this.inflight.has(chatId) || m.state !== 'queued') continue;
      this.sendOne(m);
    }
  }

  async sendOne(m) {
    this.inflight.add(m.chat_id);
    store.setOutboxState(m.client_msg_id, 'sending');
    const media = m.attachments && m.attachments.length ? m.attachments : null;
    const frame = { type: 'send', chat_id: m.chat_id, client_msg_id: m.client_msg_id };
    if (m.body || !media) frame.body = m.body;
    if (media) frame.media = media.map((a) => a.media_id);
    if (m.reply_to) frame.reply_to = m.reply_to;
    try {
      const ok = await this.socket.request(frame);
      store.addMessage({
        chat_id: m.chat_id,
        seq: ok.seq,
        message_id: ok.message_id,
        sender: store.me.user_id,
        sender_device: store.me.device_id,
        ts: ok.ts,
        kind: media ? 'media' : 'text',
        body: m.body,
        reply_to: m.reply_to,
        media: media || [],
        client_msg_id: m.client_msg_id,
        deleted: false,
        edited_ts: null,
      });
      store.dropFromOutbox(m.client_msg_id);
      this.dropUploads(m.client_msg_id);
    } catch (e) {
      if (e.offline) store.setOutboxState(m.client_msg_id, 'queued');
      else if (e.code === 'rate_limited' || e.code === 'unavailable' || e.code === 'internal') {
        store.setOutboxState(m.client_msg_id, 'queued');
        const wait = (e.frame && e.frame.retry_after_ms) || 1000;
        this.inflight.delete(m.chat_id);
        setTimeout(() => this.flushOutbox(), wait);
        return;
      } else store.setOutboxState(m.client_msg_id, 'failed', e.message);
    }
    this.inflight.delete(m.chat_id);
    this.flushOutbox();
  }

  async deleteMessage(chatId, seq) {
    try {
      if (this.socket && this.socket.online) await this.socket.request({ type: 'delete', chat_id: chatId, seq });
      else await api.deleteMessage(chatId, seq);
      store.markDeleted(chatId, seq);
    } catch (e) {
      store.notify(`Could not delete: ${e.message}`, 'error');
    }
  }

  // ---- typing -----------------------------------------------------------------

  // Called on every keystroke in the composer.
  typed(chatId, hasText) {
    if (!this.socket || !this.socket.online) return;
    if (!hasText) return this.stopTyping(chatId);
    let t = this.typingState.get(chatId);
    const now = Date.now();
    if (!t) {
      t = { sentAt: 0, timer: null };
      this.typingState.set(chatId, t);
    }
    if (now - t.sentAt > TYPING_REPEAT_MS) {
      t.sentAt = now;
      this.socket.send({ type: 'typing', chat_id: chatId, typing: true });
    }
    clearTimeout(t.timer);
    t.timer = setTimeout(() => this.stopTyping(chatId), TYPING_IDLE_MS);
  }

  stopTyping(chatId) {
    const t = chatId && this.typingState.get(chatId);
    if (!t) return;
    clearTimeout(t.timer);
    this.typingState.delete(chatId);
    if (this.socket) this.socket.send({ type: 'typing', chat_id: chatId, typing: false });
  }
}

export const sync = new Sync();

// The client's state: chats, messages by (chat_id, seq), users and presence,
// receipt marks, typing, the outbox of unsent messages. Pure bookkeeping: no
// network here. Every mutation calls `changed()`; listeners run once per batch.

import { load, save } from './persist.js';

const TYPING_TTL_MS = 7000; // the server relays `false` after 6 s anyway

export class Store {
  constructor() {
    this.listeners = new Set();
    this.pendingNotify = false;
    this.reset();
  }

  reset() {
    this.me = null; // {user_id, device_id, name, phone, last_seen_privacy}
    this.chats = new Map(); // chat_id -> chat object + {unread, read_seq, last_message}
    this.messages = new Map(); // chat_id -> Map(seq -> message)
    this.history = new Map(); // chat_id -> {oldest, complete, loading}
    this.users = new Map(); // user_id -> {user_id, name, phone?, online, last_seen}
    this.marks = new Map(); // chat_id -> Map(user_id -> {delivered, read})
    this.typing = new Map(); // chat_id -> Map(user_id -> expires_at)
    // [{client_msg_id, chat_id, body, reply_to, created_ts, state, error, attachments?}]
    // state: uploading (media still on its way up) | queued | sending | failed;
    // attachments: [media object, media_id null while uploading] for a media message.
    this.outbox = [];
    this.connection = 'idle';
    this.retryAt = 0;
    this.chatsLoaded = false;
    this.openChatId = null;
    this.flash = null; // {text, kind} a transient notice
    this.changed();
  }

  // ---- change notification -------------------------------------------------

  subscribe(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  changed() {
    if (this.pendingNotify) return;
    this.pendingNotify = true;
    setTimeout(() => {
      this.pendingNotify = false;
      for (const fn of [...this.listeners]) fn(this);
    }, 0);
  }

  // ---- persistence ------------------------------------------------------------

  key(name) { return `${this.me.user_id}.${name}`; }

  restore(me) {
    this.me = { ...me };
    // An upload cut short by a reload cannot be resumed (the file is gone):
    // such a message waits for the user to discard it.
    this.outbox = load(this.key('outbox'), []).map((m) => {
      const lost = (m.attachments || []).some((a) => !a.media_id);
      if (lost) return { ...m, state: 'failed', error: 'upload interrupted, attach the files again', lost: true };
      return { ...m, state: m.state === 'failed' ? 'failed' : 'queued' };
    });
    const marks = load(this.key('marks'), {});
    for (const [chatId, byUser] of Object.entries(marks)) {
      const m = new Map();
      for (const [uid, [d, r]] of Object.entries(byUser)) m.set(uid, { delivered: d, read: r });
      this.marks.set(chatId, m);
    }
    const snap = load(this.key('snapshot'), null);
    if (snap) {
      for (const u of snap.users || []) this.users.set(u.user_id, { ...u, online: null });
      for (const c of snap.chats || []) this.chats.set(c.chat_id, c);
      if (snap.me) this.me = { ...snap.me, ...me };
    }
    this.changed();
  }

  persistOutbox() {
    if (!this.me) return;
    save(this.key('outbox'), this.outbox.map(({ client_msg_id, chat_id, body, reply_to, created_ts, state, error, attachments, lost }) =>
      ({ client_msg_id, chat_id, body, reply_to, created_ts, state, error, attachments, lost })));
  }

  persistSoon() {
    if (this.persistTimer || !this.me) return;
    this.persistTimer = setTimeout(() => {
      this.persistTimer = null;
      if (!this.me) return;
      const marks = {};
      for (const [chatId, m] of this.marks) {
        marks[chatId] = {};
        for (const [uid, v] of m) marks[chatId][uid] = [v.delivered, v.read];
      }
      save(this.key('marks'), marks);
      save(this.key('snapshot'), {
        me: this.me,
        chats: [...this.chats.values()].filter((c) => !c.placeholder),
        users: [...this.users.values()].map(({ user_id, name, phone }) => ({ user_id, name, phone })),
      });
    }, 500);
  }

  // ---- me, users, presence ---------------------------------------------------

  setMe(fields) {
    this.me = { ...this.me, ...fields };
    this.persistSoon();
    this.changed();
  }

  setUser(u) {
    const prev = this.users.get(u.user_id) || {};
    const next = { ...prev, user_id: u.user_id };
    if (u.name !== undefined) next.name = u.name;
    if (u.phone !== undefined) next.phone = u.phone;
    if ('online' in u) next.online = u.online;
    if ('last_seen' in u) next.last_seen = u.last_seen;
    next.fetched = prev.fetched || u.fetched || false;
    this.users.set(u.user_id, next);
    this.persistSoon();
    this.changed();
  }

  setPresence(p) {
    this.setUser({ user_id: p.user_id, online: p.online, last_seen: p.last_seen });
  }

  // A display name for a user id.
  nameOf(userId) {
    if (this.me && userId === this.me.user_id) return 'You';
    const u = this.users.get(userId);
    if (u && u.name) return u.name;
    if (u && u.phone) return u.phone;
    return 'Unknown user';
  }

  // ---- chats ---------------------------------------------------------------

  setChats(list) {
    const seen = new Set();
    for (const c of list) {
      seen.add(c.chat_id);
      const chat = { ...c };
      // Events processed while the list was on its way are newer than it.
      for (const m of this.msgs(c.chat_id).values()) {
        if (m.seq <= chat.last_seq) continue;
        chat.last_seq = m.seq;
        if (this.countsAsUnread(m) && m.seq > chat.read_seq) chat.unread += 1;
        if (!chat.last_message || m.seq > chat.last_message.seq) chat.last_message = m;
      }
      this.chats.set(c.chat_id, chat);
    }
    for (const id of [...this.chats.keys()]) if (!seen.has(id)) this.chats.delete(id);
    this.chatsLoaded = true;
    this.persistSoon();
    this.changed();
  }

  // A chat object from a `chat` event or a REST answer (no unread fields).
  upsertChat(chat) {
    const prev = this.chats.get(chat.chat_id);
    const next = {
      unread: 0,
      read_seq: 0,
      last_message: null,
      ...prev,
      ...chat,
      placeholder: false,
    };
    next.last_seq = Math.max(prev ? prev.last_seq || 0 : 0, chat.last_seq || 0);
    next.left = !chat.members.some((m) => m.user_id === this.me.user_id);
    // Message events may come before the chat's own event (a new group's
    // "created" message does): fold in what is already here.
    for (const m of this.msgs(chat.chat_id).values()) {
      if (!next.last_message || m.seq > next.last_message.seq) next.last_message = m;
      if (!prev && this.countsAsUnread(m) && m.seq > next.read_seq) next.unread += 1;
      next.last_seq = Math.max(next.last_seq, m.seq);
    }
    this.chats.set(chat.chat_id, next);
    this.persistSoon();
    this.changed();
    return next;
  }

  // My notification settings for a chat ({muted_until, preview}, from
  // PATCH .../settings; GET /v1/chats carries them as `settings`).
  setChatSettings(chatId, settings) {
    const chat = this.chats.get(chatId);
    if (!chat) return;
    chat.settings = { ...chat.settings, ...settings };
    this.persistSoon();
    this.changed();
  }

  // Chats, most recent activity first.
  sortedChats() {
    const when = (c) => (c.last_message ? c.last_message.ts : c.created_ts || 0);
    return [...this.chats.values()].filter((c) => !c.placeholder).sort((a, b) => when(b) - when(a));
  }

  // The other member of a direct chat.
  peerOf(chat) {
    if (!chat || chat.type !== 'direct' || !this.me) return null;
    const m = chat.members.find((x) => x.user_id !== this.me.user_id);
    return m ? m.user_id : null;
  }

  titleOf(chat) {
    if (!chat) return '';
    if (chat.type === 'group') return chat.title || 'Untitled group';
    const peer = this.peerOf(chat);
    return peer ? this.nameOf(peer) : chat.title || 'Direct chat';
  }

  isAdmin(chat) {
    if (!chat || chat.type !== 'group' || !this.me) return false;
    const m = chat.members.find((x) => x.user_id === this.me.user_id);
    return !!m && m.role === 'admin';
  }

  // ---- messages --------------------------------------------------------------

  msgs(chatId) {
    let m = this.messages.get(chatId);
    if (!m) {
      m = new Map();
      this.messages.set(chatId, m);
    }
    return m;
  }

  hist(chatId) {
    let h = this.history.get(chatId);
    if (!h) {
      h = { oldest: null, newest: 0, complete: false, loading: false, loaded: false };
      this.history.set(chatId, h);
    }
    return h;
  }

  countsAsUnread(msg) {
    return msg.kind !== 'system' && msg.sender !== this.me.user_id;
  }

  // A message from an event, a send confirmation or history. Returns true if it was new.
  addMessage(msg, { live = false } = {}) {
    const byseq = this.msgs(msg.chat_id);
    const known = byseq.get(msg.seq);
    if (known && !msg.deleted) return false;
    byseq.set(msg.seq, known ? { ...known, ...msg } : msg);
    const h = this.hist(msg.chat_id);
    if (h.loaded) h.newest = Math.max(h.newest, msg.seq);
    if (msg.client_msg_id && msg.sender === this.me.user_id) this.dropFromOutbox(msg.client_msg_id);
    const chat = this.chats.get(msg.chat_id);
    if (chat) {
      if (msg.seq > (chat.last_seq || 0)) {
        // Not yet counted by the chat list the server gave us.
        if (live && this.countsAsUnread(msg) && msg.seq > chat.read_seq) chat.unread = (chat.unread || 0) + 1;
        chat.last_seq = msg.seq;
      }
      if (!chat.last_message || msg.seq >= chat.last_message.seq) chat.last_message = msg;
      if (msg.sender && msg.sender !== this.me.user_id) this.clearTyping(msg.chat_id, msg.sender);
      this.persistSoon();
    }
    this.changed();
    return !known;
  }

  markDeleted(chatId, seq) {
    const m = this.msgs(chatId).get(seq);
    if (m) this.msgs(chatId).set(seq, { ...m, deleted: true, body: null, media: [] });
    const chat = this.chats.get(chatId);
    if (chat && chat.last_message && chat.last_message.seq === seq) {
      chat.last_message = { ...chat.last_message, deleted: true, body: null };
    }
    this.changed();
  }

  // Loaded history of a chat, sorted by seq.
  sortedMessages(chatId) {
    return [...this.msgs(chatId).values()].sort((a, b) => a.seq - b.seq);
  }

  // Local read: the open chat was read up to `seq`.
  setReadSeq(chatId, seq) {
    const chat = this.chats.get(chatId);
    if (!chat || seq <= (chat.read_seq || 0)) return;
    chat.read_seq = seq;
    if (seq >= chat.last_seq) chat.unread = 0;
    else {
      // Count what is loaded above the mark; the next chat list refresh corrects it.
      let n = 0;
      for (const m of this.msgs(chatId).values()) if (m.seq > seq && this.countsAsUnread(m)) n++;
      chat.unread = Math.min(chat.unread || 0, n);
    }
    this.persistSoon();
    this.changed();
  }

  // ---- receipts -------------------------------------------------------------

  mark(chatId, userId) {
    let byUser = this.marks.get(chatId);
    if (!byUser) {
      byUser = new Map();
      this.marks.set(chatId, byUser);
    }
    let m = byUser.get(userId);
    if (!m) {
      m = { delivered: 0, read: 0 };
      byUser.set(userId, m);
    }
    return m;
  }

  applyReceipt(r) {
    if (r.user_id === this.me.user_id) {
      if (r.status === 'read') this.setReadSeq(r.chat_id, r.up_to_seq);
      return;
    }
    const m = this.mark(r.chat_id, r.user_id);
    if (r.status === 'read') m.read = Math.max(m.read, r.up_to_seq);
    m.delivered = Math.max(m.delivered, r.up_to_seq); // read implies delivered
    this.persistSoon();
    this.changed();
  }

  // GET .../receipts for message `seq`: who has it delivered/read.
  applyReceiptList(chatId, seq, receipts) {
    for (const r of receipts) {
      const m = this.mark(chatId, r.user_id);
      if (r.read_ts !== null && r.read_ts !== undefined) m.read = Math.max(m.read, seq);
      if (r.delivered_ts !== null && r.delivered_ts !== undefined) m.delivered = Math.max(m.delivered, seq);
    }
    this.persistSoon();
    this.changed();
  }

  // sent | delivered | read for one of my stored messages.
  tickOf(msg) {
    const chat = this.chats.get(msg.chat_id);
    if (!chat) return 'sent';
    const others = chat.members.filter((x) => x.user_id !== this.me.user_id);
    if (!others.length) return 'sent';
    let read = true;
    let delivered = true;
    for (const o of others) {
      const m = this.marks.get(msg.chat_id)?.get(o.user_id);
      if (!m || m.read < msg.seq) read = false;
      if (!m || Math.max(m.delivered, m.read) < msg.seq) delivered = false;
    }
    return read ? 'read' : delivered ? 'delivered' : 'sent';
  }

  // ---- typing -----------------------------------------------------------------

  setTyping(chatId, userId, typing) {
    let t = this.typing.get(chatId);
    if (!t) {
      t = new Map();
      this.typing.set(chatId, t);
    }
    if (typing) t.set(userId, Date.now() + TYPING_TTL_MS);
    else t.delete(userId);
    this.changed();
  }

  clearTyping(chatId, userId) {
    const t = this.typing.get(chatId);
    if (t && t.delete(userId)) this.changed();
  }

  typers(chatId) {
    const t = this.typing.get(chatId);
    if (!t) return [];
    const now = Date.now();
    const out = [];
    for (const [uid, exp] of t) {
      if (exp > now) out.push(uid);
      else t.delete(uid);
    }
    return out;
  }

  // ---- outbox -------------------------------------------------------------------

  enqueue(item) {
    this.outbox.push({ state: 'queued', error: null, ...item });
    this.persistOutbox();
    this.changed();
  }

  dropFromOutbox(clientMsgId) {
    const i = this.outbox.findIndex((m) => m.client_msg_id === clientMsgId);
    if (i < 0) return;
    this.outbox.splice(i, 1);
    this.persistOutbox();
    this.changed();
  }

  setOutboxState(clientMsgId, state, error = null, fields = {}) {
    const m = this.outbox.find((x) => x.client_msg_id === clientMsgId);
    if (!m) return;
    Object.assign(m, fields);
    m.state = state;
    m.error = error;
    this.persistOutbox();
    this.changed();
  }

  pendingIn(chatId) {
    return this.outbox.filter((m) => m.chat_id === chatId);
  }

  setConnection(state, retryAt = 0) {
    this.connection = state;
    this.retryAt = retryAt;
    this.changed();
  }

  notify(text, kind = 'info') {
    this.flash = { text, kind, at: Date.now() };
    this.changed();
  }
}

export const store = new Store();

// The WebSocket at /v1/ws: connect, authenticate, dispatch frames, acknowledge
// processed events (cumulative cursor acks), reconnect with exponential backoff.
//
// Requests that carry an `id` get a Promise resolved by the matching `ok` (or
// rejected by the matching `error`, or by the socket closing). Events carry an
// `offset`: `onEvent` processes each one synchronously, then its offset is
// acknowledged shortly after (batched), which is what makes the server resume
// after it on the next connection and count the messages as delivered.

const BACKOFF_START_MS = 300;
const BACKOFF_MAX_MS = 10000;
const PING_EVERY_MS = 20000;
const SILENCE_LIMIT_MS = 45000; // no frame at all for this long: the link is dead
const AUTH_TIMEOUT_MS = 10000;
const ACK_DELAY_MS = 40;

export class SocketClosedError extends Error {
  constructor() {
    super('The connection closed before the server answered');
    this.code = 'unavailable';
    this.offline = true;
  }
}

export class RequestError extends Error {
  constructor(frame) {
    super(frame.message || frame.code);
    this.code = frame.code;
    this.frame = frame;
  }
}

export function wsUrl(loc = window.location) {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/v1/ws`;
}

export class Socket {
  constructor({ url, token, onEvent, onEphemeral, onState, onAuthed, onRevoked }) {
    this.url = url;
    this.token = token;
    this.onEvent = onEvent;
    this.onEphemeral = onEphemeral;
    this.onState = onState;
    this.onAuthed = onAuthed;
    this.onRevoked = onRevoked;
    this.ws = null;
    this.state = 'idle'; // idle | connecting | online | waiting | stopped
    this.attempt = 0;
    this.nextId = 1;
    this.pending = new Map(); // id -> {resolve, reject}
    this.processed = 0; // highest offset processed in this connection
    this.acked = 0;
    this.ackTimer = null;
    this.retryTimer = null;
    this.pingTimer = null;
    this.lastFrameAt = 0;
    this.retryAt = 0;
    this.onOnline = () => this.reconnectNow();
    this.onVisible = () => { if (document.visibilityState === 'visible') this.reconnectNow(); };
  }

  start() {
    window.addEventListener('online', this.onOnline);
    document.addEventListener('visibilitychange', this.onVisible);
    this.connect();
  }

  stop() {
    this.setState('stopped');
    window.removeEventListener('online', this.onOnline);
    document.removeEventListener('visibilitychange', this.onVisible);
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    clearTimeout(this.ackTimer);
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.onclose = null;
      try { ws.close(1000, 'bye'); } catch { /* already closed */ }
    }
    this.failPending();
  }

  get online() { return this.state === 'online'; }

  setState(s) {
    if (this.state === s) return;
    this.state = s;
    if (this.onState) this.onState(s, this.retryAt);
  }

  reconnectNow() {
    if (this.state !== 'waiting') return;
    clearTimeout(this.retryTimer);
    this.connect();
  }

  connect() {
    if (this.state === 'stopped') return;
    this.setState('connecting');
    this.processed = 0;
    this.acked = 0;
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch {
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    let authTimer = null;
    ws.onopen = () => {
      this.lastFrameAt = Date.now();
      authTimer = setTimeout(() => { if (this.ws === ws && !this.online) ws.close(); }, AUTH_TIMEOUT_MS);
      const id = this.nextId++;
      this.pending.set(id, {
        resolve: (ok) => {
          clearTimeout(authTimer);
          this.attempt = 0;
          this.setState('online');
          this.startPings(ws);
          if (this.onAuthed) this.onAuthed(ok);
        },
        reject: (err) => {
          clearTimeout(authTimer);
          if (err && err.code === 'unauthorized') {
            this.stop();
            if (this.onRevoked) this.onRevoked();
          }
        },
      });
      ws.send(JSON.stringify({ type: 'auth', id, token: this.token }));
    };
    ws.onmessage = (ev) => this.onFrame(ws, ev.data);
    ws.onclose = (ev) => {
      clearTimeout(authTimer);
      if (this.ws !== ws) return;
      this.ws = null;
      clearInterval(this.pingTimer);
      clearTimeout(this.ackTimer);
      this.failPending();
      if (ev.code === 1008 && /revoked/i.test(ev.reason || '')) {
        this.stop();
        if (this.onRevoked) this.onRevoked();
        return;
      }
      this.scheduleRetry();
    };
    ws.onerror = () => { /* onclose follows */ };
  }

  scheduleRetry() {
    if (this.state === 'stopped') return;
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_START_MS * 2 ** this.attempt);
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    this.attempt = Math.min(this.attempt + 1, 16);
    this.retryAt = Date.now() + delay;
    this.setState('waiting');
    if (this.onState) this.onState('waiting', this.retryAt);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  startPings(ws) {
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => {
      if (this.ws !== ws) return;
      if (Date.now() - this.lastFrameAt > SILENCE_LIMIT_MS) {
        ws.close(4000, 'silent');
        return;
      }
      this.raw({ type: 'ping' });
    }, PING_EVERY_MS);
  }

  failPending() {
    const pending = this.pending;
    this.pending = new Map();
    for (const p of pending.values()) p.reject(new SocketClosedError());
  }

  onFrame(ws, data) {
    if (this.ws !== ws) return;
    this.lastFrameAt = Date.now();
    let frame;
    try { frame = JSON.parse(data); } catch { return; }
    if (!frame || typeof frame !== 'object') return;
    if (frame.type === 'ok' || (frame.type === 'error' && frame.id !== null && frame.id !== undefined)) {
      const p = this.pending.get(frame.id);
      if (!p) return;
      this.pending.delete(frame.id);
      if (frame.type === 'ok') p.resolve(frame);
      else p.reject(new RequestError(frame));
      return;
    }
    if (frame.type === 'error') {
      console.warn('chatd:', frame.code, frame.message);
      return;
    }
    if (frame.type === 'pong') return;
    if (typeof frame.offset === 'number') {
      if (frame.offset <= this.processed) return; // a replayed duplicate within this connection
      try {
        this.onEvent(frame);
      } catch (e) {
        console.error('chatd: event handling failed', e, frame);
      }
      this.processed = frame.offset;
      this.scheduleAck();
      return;
    }
    if (this.onEphemeral) this.onEphemeral(frame);
  }

  scheduleAck() {
    if (this.ackTimer) return;
    this.ackTimer = setTimeout(() => {
      this.ackTimer = null;
      if (this.processed > this.acked && this.online) {
        this.acked = this.processed;
        this.raw({ type: 'ack', offset: this.acked });
      }
    }, ACK_DELAY_MS);
  }

  // Sends a frame without waiting for an answer; false if not connected.
  raw(frame) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  // Sends a request with an id; resolves with the `ok` frame.
  request(frame) {
    if (!this.online) return Promise.reject(new SocketClosedError());
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (!this.raw({ ...frame, id })) {
        this.pending.delete(id);
        reject(new SocketClosedError());
      }
    });
  }

  // Sends a fire-and-forget frame only when authenticated.
  send(frame) {
    if (!this.online) return false;
    return this.raw(frame);
  }
}

#!/usr/bin/env node
// Fake push providers for chatd's integration tests (PROTOCOL.md, "Push
// notifications"). One process, Node's built-in modules only (no npm):
//
//   node fakes.js DIR
//
// At start it writes into DIR (created if missing):
//   cert.pem / key.pem           a self-signed P-256 certificate for 127.0.0.1 and
//                                localhost, made by running `openssl req -x509 ...`
//                                (the `openssl` binary must be on PATH);
//   ca.pem                       the same certificate: trust it (curl --cacert,
//                                chatd's CA file) to talk to the https fakes;
//   fcm-service-account.json     a Google service account (client_email, an RSA
//                                private_key, token_uri = https://127.0.0.1:FCM/token,
//                                project_id "chatd-test");
//   apns-key.p8                  an APNs token-auth key (EC P-256, PKCS#8 PEM);
//                                key id KEYID12345, team TEAM123456.
// Then it listens on free 127.0.0.1 ports and prints ONE JSON line to stdout:
//   {"webhook":P1,"webpush":P2,"fcm":P3,"apns":P4,"control":P5,"dir":...,
//    "ca":..., "fcm_service_account":..., "apns_key":..., "apns_key_id":...,
//    "apns_team_id":..., "webpush_subscription":{"endpoint","p256dh","auth"}}
//
// Servers (every request except the control ones is recorded):
//   webhook  http      any POST; answers 200.
//   webpush  http      RFC 8030 receiver at /push/<id>. Decrypts the aes128gcm body
//                      (RFC 8291/8188) with the subscription's keys and verifies
//                      the VAPID header (RFC 8292: ES256 JWT over `k=`, aud = the
//                      endpoint's origin, exp in the future and <= now + 24 h).
//                      201 when verified, 401 when not, 404 for an unknown id.
//   fcm      https     HTTP/1.1. POST /token: the OAuth2 jwt-bearer grant (RS256,
//                      checked against the service account's key) -> fake-token-N.
//                      POST /v1/projects/chatd-test/messages:send with that bearer:
//                      200, or 404 UNREGISTERED for a token "unregistered-*",
//                      401 for a bad bearer.
//   apns     https     HTTP/2 only. POST /3/device/<token> with `authorization:
//                      bearer <ES256 JWT>` (kid KEYID12345, iss TEAM123456):
//                      200, 410 Unregistered for a token "gone-*", 403
//                      InvalidProviderToken / MissingProviderToken, 400 MissingTopic.
//
// Control (plain JSON). The control port serves every kind (?kind=K or "kind" in
// the body); the webhook, webpush and fcm servers also answer their own /_*
// paths (the apns one too, but only over HTTP/2):
//   GET  /_requests[?kind=K]  the recorded requests, oldest first: {kind, method, path,
//                             http_version, headers (lower-case names), body (text;
//                             webpush: base64url of the encrypted bytes), plaintext
//                             (webpush: the decrypted text, or null), verified
//                             (true/false; webhook: null), error (why not verified
//                             or not decrypted), claims (the JWT's claims), status
//                             (what the fake answered), time (ms since epoch)}.
//                             Kinds: webhook, webpush, fcm, fcm_token, apns.
//   POST /_reset              forget requests, failure and hang plans (all kinds on
//                             the control port unless a kind is given).
//   POST /_fail {"kind"?, "status":503, "count":2, "retry_after"?:1, "body"?:"..."}
//                             the next `count` requests of that kind get `status`
//                             (with Retry-After when given). They are still recorded.
//   POST /_hang {"kind"?, "ms":5000, "count"?:1}
//                             the next `count` requests wait `ms` before answering.
//   POST /_subscribe          (webpush) a new subscription {endpoint, p256dh, auth}.
'use strict';

const http = require('http');
const https = require('https');
const http2 = require('http2');
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

const APNS_KEY_ID = 'KEYID12345';
const APNS_TEAM_ID = 'TEAM123456';
const FCM_PROJECT = 'chatd-test';
const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
const MAX_BODY = 1 << 20;
const KINDS = ['webhook', 'webpush', 'fcm', 'fcm_token', 'apns'];

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: node fakes.js DIR\n');
  process.exit(2);
}
fs.mkdirSync(dir, { recursive: true });

// ---- keys and files ---------------------------------------------------------

const certFile = path.join(dir, 'cert.pem');
const keyFile = path.join(dir, 'key.pem');
const caFile = path.join(dir, 'ca.pem');
// Node cannot make X.509 certificates; openssl can. The certificate is
// self-signed, so it is its own CA: ca.pem is a copy to trust.
execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
  '-nodes', '-days', '1', '-subj', '/CN=localhost',
  '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
  '-keyout', keyFile, '-out', certFile], { stdio: ['ignore', 'ignore', 'pipe'] });
fs.copyFileSync(certFile, caFile);
const tlsKey = fs.readFileSync(keyFile);
const tlsCert = fs.readFileSync(certFile);

const fcmKeys = crypto.generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
});
const apnsKeys = crypto.generateKeyPairSync('ec', {
  namedCurve: 'prime256v1',
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
});
const fcmClientEmail = 'chatd-push@chatd-test.iam.gserviceaccount.com';
const apnsKeyFile = path.join(dir, 'apns-key.p8');
fs.writeFileSync(apnsKeyFile, apnsKeys.privateKey, { mode: 0o600 });
const saFile = path.join(dir, 'fcm-service-account.json');  // written once the port is known

// ---- helpers ----------------------------------------------------------------

const b64u = (buf) => Buffer.from(buf).toString('base64url');
const fromB64u = (s) => Buffer.from(s, 'base64url');
const hmac = (key, data) => crypto.createHmac('sha256', key).update(data).digest();

// Verifies a compact JWS; returns {ok, claims, header, error}.
function verifyJwt(jwt, alg, publicKey) {
  const parts = String(jwt || '').split('.');
  if (parts.length !== 3) return { ok: false, error: 'not a compact JWS' };
  let header, claims;
  try {
    header = JSON.parse(fromB64u(parts[0]).toString('utf8'));
    claims = JSON.parse(fromB64u(parts[1]).toString('utf8'));
  } catch (e) {
    return { ok: false, error: 'JWT header or claims are not JSON' };
  }
  if (header.alg !== alg) return { ok: false, header, claims, error: `alg ${header.alg} != ${alg}` };
  const input = Buffer.from(parts[0] + '.' + parts[1]);
  const sig = fromB64u(parts[2]);
  let ok = false;
  try {
    ok = alg === 'ES256'
      ? crypto.verify('sha256', input, { key: publicKey, dsaEncoding: 'ieee-p1363' }, sig)
      : crypto.verify('sha256', input, publicKey, sig);
  } catch (e) {
    return { ok: false, header, claims, error: 'verify failed: ' + e.message };
  }
  return ok ? { ok: true, header, claims } : { ok: false, header, claims, error: 'bad signature' };
}

const nowS = () => Math.floor(Date.now() / 1000);

// ---- recording, failure and hang plans --------------------------------------

const state = {};
function resetKind(kind) {
  state[kind] = { requests: [], fail: null, hang: null };
}
KINDS.forEach(resetKind);

function record(kind, req, body, extra) {
  const headers = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (!k.startsWith(':')) headers[k] = v;
  }
  const rec = Object.assign({
    kind, method: req.method, path: req.url, http_version: req.httpVersion, headers,
    body: body.toString('utf8'), plaintext: null, verified: null, error: null, claims: null,
    status: null, time: Date.now(),
  }, extra);
  state[kind].requests.push(rec);
  return rec;
}

function send(res, rec, status, obj, headers = {}) {
  if (rec) rec.status = status;
  const text = obj === undefined ? '' : (typeof obj === 'string' ? obj : JSON.stringify(obj));
  const h = Object.assign({ 'content-type': 'application/json' }, headers);
  if (!res.stream) h['content-length'] = Buffer.byteLength(text);  // HTTP/1 only
  res.writeHead(status, h);
  res.end(text);
}

// Applies a pending hang (waits) and failure (answers); true when it answered.
async function planned(kind, res, rec) {
  const s = state[kind];
  if (s.hang && s.hang.count > 0) {
    s.hang.count--;
    const ms = s.hang.ms;
    if (s.hang.count === 0) s.hang = null;
    await new Promise((r) => setTimeout(r, ms));
  }
  if (s.fail && s.fail.count > 0) {
    const f = s.fail;
    f.count--;
    if (f.count === 0) s.fail = null;
    const headers = {};
    if (f.retry_after !== undefined && f.retry_after !== null) headers['retry-after'] = String(f.retry_after);
    send(res, rec, f.status, f.body !== undefined ? f.body : failBody(kind, f.status), headers);
    return true;
  }
  return false;
}

function failBody(kind, status) {
  if (kind === 'apns') {
    const reason = status === 429 ? 'TooManyRequests' : status === 410 ? 'Unregistered'
      : status >= 500 ? 'ServiceUnavailable' : 'BadRequest';
    return { reason };
  }
  if (kind === 'fcm' || kind === 'fcm_token') {
    const st = status === 429 ? 'RESOURCE_EXHAUSTED' : status >= 500 ? 'UNAVAILABLE' : 'INVALID_ARGUMENT';
    return { error: { code: status, message: 'injected failure', status: st } };
  }
  return { error: 'injected failure', status };
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

// /_* paths. `defaultKind` is the server's kind (null on the control port: all).
async function control(req, res, body, defaultKind) {
  const url = new URL(req.url, 'http://x');
  let args = {};
  if (body.length) {
    try { args = JSON.parse(body.toString('utf8')); } catch (e) { return send(res, null, 400, { error: 'bad JSON' }); }
  }
  const kind = args.kind || url.searchParams.get('kind') || defaultKind;
  if (kind && !state[kind]) return send(res, null, 400, { error: 'unknown kind ' + kind });
  const p = url.pathname;
  if (p === '/_requests' && req.method === 'GET') {
    const list = kind ? state[kind].requests : KINDS.flatMap((k) => state[k].requests);
    return send(res, null, 200, list.slice().sort((a, b) => a.time - b.time));
  }
  if (p === '/_reset' && req.method === 'POST') {
    (kind ? (defaultKind === 'fcm' && !args.kind ? ['fcm', 'fcm_token'] : [kind]) : KINDS).forEach(resetKind);
    return send(res, null, 200, { ok: true });
  }
  if (!kind) return send(res, null, 400, { error: 'kind required' });
  if (p === '/_fail' && req.method === 'POST') {
    state[kind].fail = { status: args.status || 503, count: args.count === undefined ? 1 : args.count,
      retry_after: args.retry_after, body: args.body };
    return send(res, null, 200, { ok: true });
  }
  if (p === '/_hang' && req.method === 'POST') {
    state[kind].hang = { ms: args.ms || 5000, count: args.count === undefined ? 1 : args.count };
    return send(res, null, 200, { ok: true });
  }
  if (p === '/_subscribe' && req.method === 'POST') return send(res, null, 200, newSubscription());
  return send(res, null, 404, { error: 'no such control endpoint' });
}

// Wraps a handler: control paths, body reading, errors as 500.
function serve(kind, handler) {
  return async (req, res) => {
    try {
      const body = await readBody(req);
      if (req.url.startsWith('/_')) return await control(req, res, body, kind);
      await handler(req, res, body);
    } catch (e) {
      process.stderr.write(`fakes: ${kind}: ${e.stack}\n`);
      if (!res.headersSent) send(res, null, 500, { error: String(e) });
    }
  };
}

// ---- webhook ----------------------------------------------------------------

const webhookServer = http.createServer(serve('webhook', async (req, res, body) => {
  const rec = record('webhook', req, body);
  if (await planned('webhook', res, rec)) return;
  send(res, rec, 200, { ok: true });
}));

// ---- webpush ----------------------------------------------------------------

const subscriptions = new Map();  // id -> {ecdh, publicKey, auth}
let webpushPort = 0;

function newSubscription() {
  const ecdh = crypto.createECDH('prime256v1');
  ecdh.generateKeys();
  const id = crypto.randomBytes(8).toString('hex');
  const sub = { ecdh, publicKey: ecdh.getPublicKey(), auth: crypto.randomBytes(16) };
  subscriptions.set(id, sub);
  return {
    endpoint: `http://127.0.0.1:${webpushPort}/push/${id}`,
    p256dh: b64u(sub.publicKey),
    auth: b64u(sub.auth),
  };
}

// RFC 8188 aes128gcm with RFC 8291 key derivation; throws with a reason.
function decryptWebPush(sub, body) {
  if (body.length < 21) throw new Error('body shorter than the aes128gcm header');
  const salt = body.subarray(0, 16);
  const rs = body.readUInt32BE(16);
  const idlen = body[20];
  if (rs < 18) throw new Error('record size ' + rs + ' < 18');
  const asPublic = body.subarray(21, 21 + idlen);
  if (asPublic.length !== 65) throw new Error('keyid is not a 65-byte P-256 point');
  const ecdhSecret = sub.ecdh.computeSecret(asPublic);
  const prkKey = hmac(sub.auth, ecdhSecret);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), sub.publicKey, asPublic]);
  const ikm = hmac(prkKey, Buffer.concat([keyInfo, Buffer.from([1])]));
  const prk = hmac(salt, ikm);
  const cek = hmac(prk, Buffer.from('Content-Encoding: aes128gcm\0\x01', 'latin1')).subarray(0, 16);
  const nonce = hmac(prk, Buffer.from('Content-Encoding: nonce\0\x01', 'latin1')).subarray(0, 12);
  const data = body.subarray(21 + idlen);
  if (data.length === 0) throw new Error('no records');
  const out = [];
  for (let off = 0, seq = 0; off < data.length; off += rs, seq++) {
    const rec = data.subarray(off, Math.min(off + rs, data.length));
    const last = off + rs >= data.length;
    if (rec.length < 17) throw new Error('record too short');
    const iv = Buffer.from(nonce);
    const seqBuf = Buffer.alloc(12);
    seqBuf.writeUIntBE(seq, 6, 6);
    for (let i = 0; i < 12; i++) iv[i] ^= seqBuf[i];
    const d = crypto.createDecipheriv('aes-128-gcm', cek, iv);
    d.setAuthTag(rec.subarray(rec.length - 16));
    const plain = Buffer.concat([d.update(rec.subarray(0, rec.length - 16)), d.final()]);
    let end = plain.length - 1;
    while (end >= 0 && plain[end] === 0) end--;
    if (end < 0) throw new Error('record without a padding delimiter');
    if (plain[end] !== (last ? 2 : 1)) throw new Error(`padding delimiter ${plain[end]} in ${last ? 'last' : 'a'} record`);
    out.push(plain.subarray(0, end));
  }
  return Buffer.concat(out).toString('utf8');
}

// RFC 8292: Authorization: vapid t=<jwt>, k=<base64url P-256 point>.
function verifyVapid(header, origin) {
  const m = /^vapid\s+(.*)$/i.exec(header || '');
  if (!m) return { ok: false, error: 'no vapid Authorization header' };
  const params = {};
  for (const part of m[1].split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) params[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  if (!params.t || !params.k) return { ok: false, error: 'vapid header without t= or k=' };
  const point = fromB64u(params.k);
  if (point.length !== 65 || point[0] !== 4) return { ok: false, error: 'k= is not an uncompressed P-256 point' };
  let key;
  try {
    key = crypto.createPublicKey({ format: 'jwk', key: { kty: 'EC', crv: 'P-256',
      x: b64u(point.subarray(1, 33)), y: b64u(point.subarray(33, 65)) } });
  } catch (e) {
    return { ok: false, error: 'k= is not on the curve' };
  }
  const v = verifyJwt(params.t, 'ES256', key);
  if (!v.ok) return v;
  const c = v.claims;
  if (c.aud !== origin) return Object.assign(v, { ok: false, error: `aud ${c.aud} != ${origin}` });
  if (typeof c.exp !== 'number' || c.exp <= nowS()) return Object.assign(v, { ok: false, error: 'exp missing or past' });
  if (c.exp > nowS() + 24 * 3600 + 5) return Object.assign(v, { ok: false, error: 'exp more than 24 h ahead' });
  return v;
}

const webpushServer = http.createServer(serve('webpush', async (req, res, body) => {
  const m = /^\/push\/([0-9a-zA-Z_-]+)$/.exec(req.url);
  const rec = record('webpush', req, body, { body: b64u(body) });
  const sub = m && subscriptions.get(m[1]);
  if (req.method !== 'POST' || !sub) return send(res, rec, 404, { error: 'no such subscription' });
  const errors = [];
  const v = verifyVapid(req.headers.authorization, `http://127.0.0.1:${webpushPort}`);
  rec.verified = v.ok;
  rec.claims = v.claims || null;
  if (!v.ok) errors.push('vapid: ' + v.error);
  if ((req.headers['content-encoding'] || '').toLowerCase() !== 'aes128gcm') {
    errors.push('content-encoding is not aes128gcm');
  } else {
    try {
      rec.plaintext = decryptWebPush(sub, body);
    } catch (e) {
      errors.push('decrypt: ' + e.message);
    }
  }
  if (req.headers.ttl === undefined) errors.push('no TTL header');
  rec.error = errors.length ? errors.join('; ') : null;
  if (await planned('webpush', res, rec)) return;
  if (!v.ok) return send(res, rec, 401, { error: v.error });
  send(res, rec, 201, '', { location: `/message/${crypto.randomBytes(6).toString('hex')}` });
}));

// ---- fcm ----------------------------------------------------------------------

let fcmPort = 0;
let fcmTokenCount = 0;
const fcmTokens = new Set();

const fcmServer = https.createServer({ key: tlsKey, cert: tlsCert }, serve('fcm', async (req, res, body) => {
  const url = new URL(req.url, 'https://x');
  if (url.pathname === '/token') {
    const rec = record('fcm_token', req, body);
    const form = new URLSearchParams(body.toString('utf8'));
    const tokenUri = `https://127.0.0.1:${fcmPort}/token`;
    let err = null;
    let v = { ok: false, error: 'no assertion' };
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') err = 'bad grant_type';
    else {
      v = verifyJwt(form.get('assertion'), 'RS256', fcmKeys.publicKey);
      const c = v.claims || {};
      if (!v.ok) err = v.error;
      else if (c.iss !== fcmClientEmail) err = `iss ${c.iss} != ${fcmClientEmail}`;
      else if (c.aud !== tokenUri) err = `aud ${c.aud} != ${tokenUri}`;
      else if (!String(c.scope || '').split(' ').includes(FCM_SCOPE)) err = 'scope lacks firebase.messaging';
      else if (typeof c.exp !== 'number' || c.exp <= nowS()) err = 'exp missing or past';
      else if (c.exp > nowS() + 3600 + 5) err = 'exp more than 1 h ahead';
    }
    rec.verified = err === null;
    rec.claims = v.claims || null;
    rec.error = err;
    if (await planned('fcm_token', res, rec)) return;
    if (err) return send(res, rec, 400, { error: 'invalid_grant', error_description: err });
    const token = `fake-token-${++fcmTokenCount}`;
    fcmTokens.add(token);
    return send(res, rec, 200, { access_token: token, expires_in: 3600, token_type: 'Bearer' });
  }
  const rec = record('fcm', req, body);
  if (req.method !== 'POST' || url.pathname !== `/v1/projects/${FCM_PROJECT}/messages:send`) {
    return send(res, rec, 404, { error: { code: 404, message: 'not found', status: 'NOT_FOUND' } });
  }
  const bearer = /^Bearer (.+)$/.exec(req.headers.authorization || '');
  rec.verified = !!bearer && fcmTokens.has(bearer[1]);
  if (!rec.verified) rec.error = 'no valid bearer token';
  let msg = null;
  try { msg = JSON.parse(body.toString('utf8')).message; } catch (e) { rec.error = 'body is not JSON'; }
  if (await planned('fcm', res, rec)) return;
  if (!rec.verified) {
    return send(res, rec, 401, { error: { code: 401, message: rec.error, status: 'UNAUTHENTICATED' } });
  }
  if (!msg || typeof msg.token !== 'string') {
    return send(res, rec, 400, { error: { code: 400, message: 'message.token required', status: 'INVALID_ARGUMENT' } });
  }
  if (msg.token.startsWith('unregistered-')) {
    return send(res, rec, 404, { error: { code: 404, message: 'Requested entity was not found.',
      status: 'NOT_FOUND', details: [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError',
        errorCode: 'UNREGISTERED' }] } });
  }
  send(res, rec, 200, { name: `projects/${FCM_PROJECT}/messages/${state.fcm.requests.length}` });
}));

// ---- apns ----------------------------------------------------------------------

const apnsServer = http2.createSecureServer({ key: tlsKey, cert: tlsCert, allowHTTP1: false },
  serve('apns', async (req, res, body) => {
    const rec = record('apns', req, body);
    const m = /^\/3\/device\/([^/?]+)$/.exec(req.url);
    if (req.method !== 'POST' || !m) return send(res, rec, 404, { reason: 'BadPath' });
    const auth = /^bearer (.+)$/i.exec(req.headers.authorization || '');
    let reason = null;
    if (!auth) reason = 'MissingProviderToken';
    else {
      const v = verifyJwt(auth[1], 'ES256', apnsKeys.publicKey);
      rec.claims = v.claims || null;
      const c = v.claims || {};
      if (!v.ok) rec.error = v.error;
      else if ((v.header || {}).kid !== APNS_KEY_ID) rec.error = `kid ${(v.header || {}).kid} != ${APNS_KEY_ID}`;
      else if (c.iss !== APNS_TEAM_ID) rec.error = `iss ${c.iss} != ${APNS_TEAM_ID}`;
      else if (typeof c.iat !== 'number' || c.iat > nowS() + 60 || c.iat < nowS() - 3600) rec.error = 'iat not within the last hour';
      if (rec.error) reason = 'InvalidProviderToken';
    }
    rec.verified = reason === null;
    if (!rec.error && reason) rec.error = reason;
    if (await planned('apns', res, rec)) return;
    if (reason) return send(res, rec, 403, { reason });
    // With token auth APNs requires the topic (the app's bundle id).
    if (!req.headers['apns-topic']) return send(res, rec, 400, { reason: 'MissingTopic' });
    try { JSON.parse(body.toString('utf8')); } catch (e) { return send(res, rec, 400, { reason: 'PayloadEmpty' }); }
    if (m[1].startsWith('gone-')) return send(res, rec, 410, { reason: 'Unregistered', timestamp: Date.now() });
    send(res, rec, 200, '', { 'apns-id': crypto.randomUUID() });
  }));

// ---- control port and start-up ------------------------------------------------

const controlServer = http.createServer(serve(null, async (req, res) => {
  send(res, null, 404, { error: 'control paths start with /_' });
}));

const listen = (server) => new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(0, '127.0.0.1', () => resolve(server.address().port));
});

(async () => {
  const ports = {};
  ports.webhook = await listen(webhookServer);
  ports.webpush = webpushPort = await listen(webpushServer);
  ports.fcm = fcmPort = await listen(fcmServer);
  ports.apns = await listen(apnsServer);
  ports.control = await listen(controlServer);
  fs.writeFileSync(saFile, JSON.stringify({
    type: 'service_account', project_id: FCM_PROJECT, private_key_id: 'fake-key-1',
    private_key: fcmKeys.privateKey, client_email: fcmClientEmail, client_id: '1',
    token_uri: `https://127.0.0.1:${fcmPort}/token`,
  }, null, 2), { mode: 0o600 });
  const ready = Object.assign(ports, {
    dir: path.resolve(dir), ca: path.resolve(caFile), fcm_service_account: path.resolve(saFile),
    apns_key: path.resolve(apnsKeyFile), apns_key_id: APNS_KEY_ID, apns_team_id: APNS_TEAM_ID,
    fcm_project_id: FCM_PROJECT, webpush_subscription: newSubscription(),
  });
  process.stdout.write(JSON.stringify(ready) + '\n');
})().catch((e) => {
  process.stderr.write('fakes: ' + e.stack + '\n');
  process.exit(1);
});

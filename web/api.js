// The REST API under /v1/ (same origin). One function per endpoint the client uses.
// Every failure is thrown as an ApiError carrying the server's error code.

export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message || code || `HTTP ${status}`);
    this.status = status; // 0 when the server could not be reached
    this.code = code;
    this.body = body;
  }
  get offline() { return this.status === 0; }
}

let token = null;
let onUnauthorized = () => {};

export function setToken(t) { token = t; }
export function setUnauthorizedHandler(fn) { onUnauthorized = fn; }

async function request(method, path, body) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
    });
  } catch (e) {
    throw new ApiError(0, 'unavailable', 'The server cannot be reached');
  }
  if (res.status === 204) return null;
  let data = null;
  const text = await res.text();
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!res.ok) {
    const err = data && data.error ? data.error : {};
    const e = new ApiError(res.status, err.code || 'internal', err.message, data);
    if (res.status === 401 && token && path !== '/v1/auth/verify') onUnauthorized(e);
    throw e;
  }
  return data;
}

// An upload with progress: fetch() cannot report upload progress, so this is
// XMLHttpRequest. Returns {promise, abort}; the promise resolves to the parsed
// answer, or rejects with an ApiError (code 'aborted' after abort()).
export function upload(path, blob, contentType, onProgress) {
  const xhr = new XMLHttpRequest();
  const promise = new Promise((resolve, reject) => {
    xhr.open('POST', path);
    if (token) xhr.setRequestHeader('Authorization', `Bearer ${token}`);
    xhr.setRequestHeader('Content-Type', contentType || 'application/octet-stream');
    xhr.upload.onprogress = (e) => { if (e.lengthComputable && onProgress) onProgress(e.loaded, e.total); };
    xhr.onerror = () => reject(new ApiError(0, 'unavailable', 'The server cannot be reached'));
    xhr.onabort = () => reject(new ApiError(0, 'aborted', 'Canceled'));
    xhr.onload = () => {
      let data = null;
      try { data = xhr.responseText ? JSON.parse(xhr.responseText) : null; } catch { data = null; }
      if (xhr.status >= 200 && xhr.status < 300) return resolve(data);
      const err = data && data.error ? data.error : {};
      const e = new ApiError(xhr.status, err.code || 'internal', err.message, data);
      if (xhr.status === 401 && token) onUnauthorized(e);
      reject(e);
    };
    xhr.send(blob);
  });
  return { promise, abort: () => xhr.abort() };
}

const enc = encodeURIComponent;

export const api = {
  requestOtp: (phone) => request('POST', '/v1/auth/otp', { phone }),
  verify: (phone, code, deviceName) =>
    request('POST', '/v1/auth/verify', { phone, code, device_name: deviceName }),
  logout: () => request('POST', '/v1/auth/logout'),
  me: () => request('GET', '/v1/me'),
  updateMe: (fields) => request('PATCH', '/v1/me', fields),
  user: (userId) => request('GET', `/v1/users/${enc(userId)}`),
  userByPhone: (phone) => request('GET', `/v1/users?phone=${enc(phone)}`),
  chats: () => request('GET', '/v1/chats'),
  chat: (chatId) => request('GET', `/v1/chats/${enc(chatId)}`),
  createDirect: (userId) => request('POST', '/v1/chats', { type: 'direct', user_id: userId }),
  createGroup: (title, members) => request('POST', '/v1/chats', { type: 'group', title, members }),
  renameChat: (chatId, title) => request('PATCH', `/v1/chats/${enc(chatId)}`, { title }),
  addMembers: (chatId, userIds) =>
    request('POST', `/v1/chats/${enc(chatId)}/members`, { user_ids: userIds }),
  removeMember: (chatId, userId) =>
    request('DELETE', `/v1/chats/${enc(chatId)}/members/${enc(userId)}`),
  setRole: (chatId, userId, role) =>
    request('PATCH', `/v1/chats/${enc(chatId)}/members/${enc(userId)}`, { role }),
  history: (chatId, { before, after, limit = 50 } = {}) => {
    const q = new URLSearchParams({ limit: String(limit) });
    if (before !== undefined) q.set('before', String(before));
    if (after !== undefined) q.set('after', String(after));
    return request('GET', `/v1/chats/${enc(chatId)}/messages?${q}`);
  },
  deleteMessage: (chatId, seq) => request('DELETE', `/v1/chats/${enc(chatId)}/messages/${seq}`),
  receipts: (chatId, seq) => request('GET', `/v1/chats/${enc(chatId)}/messages/${seq}/receipts`),
  presence: (userIds) => request('GET', `/v1/presence?user_ids=${enc(userIds.join(','))}`),
  limits: () => request('GET', '/v1/limits'),
  uploadMedia: (file, filename, onProgress) =>
    upload(`/v1/media${filename ? `?filename=${enc(filename)}` : ''}`, file, file.type, onProgress),
  mediaUrl: (mediaId) => request('GET', `/v1/media/${enc(mediaId)}/url`),
  chatSettings: (chatId, fields) => request('PATCH', `/v1/chats/${enc(chatId)}/settings`, fields),
  vapidKey: () => request('GET', '/v1/push/vapid'),
  setPushTarget: (deviceId, target) => request('PUT', `/v1/devices/${enc(deviceId)}/push`, target),
  deletePushTarget: (deviceId) => request('DELETE', `/v1/devices/${enc(deviceId)}/push`),
};

// localStorage, namespaced per signed-in user. Failures (quota, private mode)
// are ignored: persistence is a convenience except for the outbox, which is
// still kept in memory for the page's lifetime.

const PREFIX = 'chatd.';

export function load(key, fallback) {
  try {
    const raw = localStorage.getItem(PREFIX + key);
    return raw === null ? fallback : JSON.parse(raw);
  } catch {
    return fallback;
  }
}

export function save(key, value) {
  try {
    if (value === undefined || value === null) localStorage.removeItem(PREFIX + key);
    else localStorage.setItem(PREFIX + key, JSON.stringify(value));
  } catch {
    /* storage full or disabled */
  }
}

export function clearUser(userId) {
  try {
    const doomed = [];
    for (let i = 0; i < localStorage.length; i++) {
      const k = localStorage.key(i);
      if (k && k.startsWith(`${PREFIX}${userId}.`)) doomed.push(k);
    }
    for (const k of doomed) localStorage.removeItem(k);
  } catch {
    /* ignore */
  }
}

// The session: {token, user_id, device_id}.
export const session = {
  get: () => load('session', null),
  set: (s) => save('session', s),
  clear: () => save('session', null),
};

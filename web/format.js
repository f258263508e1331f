// Text for times, presence, previews and system messages.

const pad = (n) => String(n).padStart(2, '0');

export function clock(ts) {
  const d = new Date(ts);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function sameDay(a, b) {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export function day(ts, now = Date.now()) {
  const d = new Date(ts);
  const today = new Date(now);
  if (sameDay(d, today)) return 'Today';
  const yesterday = new Date(now - 86400000);
  if (sameDay(d, yesterday)) return 'Yesterday';
  const s = `${MONTHS[d.getMonth()]} ${d.getDate()}`;
  return d.getFullYear() === today.getFullYear() ? s : `${s}, ${d.getFullYear()}`;
}

// For the chat list: a clock time today, else the day.
export function shortTime(ts, now = Date.now()) {
  const label = day(ts, now);
  return label === 'Today' ? clock(ts) : label;
}

// "online", "last seen today at 14:03", "last seen Mar 3 at 09:12", or '' when hidden.
export function presenceText(u, now = Date.now()) {
  if (!u || u.online === null || u.online === undefined) return '';
  if (u.online) return 'online';
  if (!u.last_seen) return 'last seen a long time ago';
  if (now - u.last_seen < 60000) return 'last seen just now';
  const label = day(u.last_seen, now);
  return `last seen ${label === 'Today' ? 'today' : label === 'Yesterday' ? 'yesterday' : label} at ${clock(u.last_seen)}`;
}

// A system message as a sentence; `nameOf` maps a user id to a display name
// ("You" for the signed-in user).
export function systemText(sys, nameOf) {
  if (!sys) return 'Chat updated';
  const subject = (id) => nameOf(id); // "You added Bob"
  const object = (id) => (nameOf(id) === 'You' ? 'you' : nameOf(id)); // "Alice added you"
  const by = subject(sys.by);
  switch (sys.action) {
    case 'created':
      return `${by} created the group “${sys.title}”`;
    case 'members_added':
      return `${by} added ${(sys.user_ids || []).map(object).join(', ')}`;
    case 'member_removed': {
      const s = sys.by === sys.user_id ? `${subject(sys.user_id)} left` : `${by} removed ${object(sys.user_id)}`;
      return sys.promoted ? `${s}; ${object(sys.promoted)} ${object(sys.promoted) === 'you' ? 'are' : 'is'} now an admin` : s;
    }
    case 'role_changed':
      return `${by} made ${object(sys.user_id)} ${sys.role === 'admin' ? 'an admin' : 'a member'}`;
    case 'title_changed':
      return `${by} renamed the group to “${sys.title}”`;
    default:
      return 'Chat updated';
  }
}

export function initials(name) {
  const words = String(name || '?').replace(/[^\p{L}\p{N} ]/gu, ' ').trim().split(/\s+/);
  const s = words.length > 1 ? words[0][0] + words[1][0] : (words[0] || '?').slice(0, 1);
  return (s || '?').toUpperCase();
}

export function snippet(text, n = 80) {
  const s = String(text || '').replace(/\s+/g, ' ').trim();
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

// ---- media ------------------------------------------------------------------

// "812 B", "23 KB", "4.2 MB" (binary units, as file managers and the server's
// limits count: 100 MiB shows as "100 MB").
export function formatBytes(n) {
  const b = Number(n) || 0;
  if (b < 1024) return `${b} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = b / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${v < 10 ? v.toFixed(1).replace(/\.0$/, '') : Math.round(v)} ${units[i]}`;
}

// "0:07", "12:34", "1:02:03".
export function formatDuration(ms) {
  const t = Math.max(0, Math.floor((Number(ms) || 0) / 1000));
  const s = t % 60;
  const m = Math.floor(t / 60) % 60;
  const hr = Math.floor(t / 3600);
  return hr ? `${hr}:${pad(m)}:${pad(s)}` : `${m}:${pad(s)}`;
}

// How the client shows a media item: image | video | audio | document. The
// server serves only images, audio and video inline (SVG counts as a document).
export function mediaKind(mime) {
  const m = String(mime || '').toLowerCase();
  if (/^image\/(jpeg|png|gif|webp)$/.test(m)) return 'image';
  if (m.startsWith('video/')) return 'video';
  if (m.startsWith('audio/')) return 'audio';
  return 'document';
}

const KIND_LABEL = {
  image: ['Photo', 'photos'],
  video: ['Video', 'videos'],
  audio: ['Voice note', 'voice notes'],
  document: ['Document', 'documents'],
};

// "Photo", "Voice note", "3 photos", "2 attachments" for a media array (or
// pending attachments: anything with a `mime`).
export function mediaSummary(media) {
  const list = media || [];
  if (!list.length) return '';
  const kinds = new Set(list.map((x) => mediaKind(x.mime)));
  if (kinds.size > 1) return `${list.length} attachments`;
  const [one, many] = KIND_LABEL[[...kinds][0]];
  return list.length === 1 ? one : `${list.length} ${many}`;
}

// A message as one line of text: its body, else what it carries.
export function messageText(m) {
  if (!m) return '';
  return m.body || mediaSummary(m.media || m.attachments);
}

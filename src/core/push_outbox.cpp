#include "core/push_outbox.hpp"

#include <algorithm>
#include <map>
#include <mutex>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "core/unread.hpp"
#include "core/validation.hpp"

// How the outbox is kept (see push_outbox.hpp for the lifecycle):
//
// The store is the truth (push_outbox, push_pushed, push_targets rows, written
// in the same transactions as the messages, reads and deletes that cause
// them). This class mirrors it in memory -- the outbox rows by key (so by due
// time), an index (user, device, chat, type) -> the newest row, the pushed
// marks and the targets -- loaded once by load() and changed only inside
// transactions (under the sequencer lock, then `mu`), so the mirror always
// equals "the store plus every queued write". The outbox holds at most a
// message row and a clear row per (device, chat): it grows with devices x
// chats with unpushed activity, never with messages.
//
// Two memory-only marks keep take_due from handing out a row twice or too
// early: `in_flight` (handed out, not completed) and `holds` (a transaction
// that writes the row has not committed yet: the message it points at may not
// be readable yet). After a restart neither exists: every stored row is due
// again (at-least-once).
//
// Lock order: the sequencer's lock, then `mu`. Nothing takes the sequencer's
// lock while holding `mu`.

namespace chat::core {
namespace {

constexpr std::int64_t kMaxBackoffMs = 3600ll * 1000;
// Messages looked at (newest first) to find the newest one from someone else.
constexpr std::size_t kResolveScan = 20;
constexpr std::size_t kPreviewChars = 100;

using store::PushOutboxRecord;
using store::PushType;

char type_char(PushType t) {
  return t == PushType::clear ? 'c' : 'm';
}

std::string triple(const std::string& a, const std::string& b, const std::string& c) {
  std::string k;
  k.reserve(a.size() + b.size() + c.size() + 2);
  k.append(a).push_back('\0');
  k.append(b).push_back('\0');
  k.append(c);
  return k;
}

// The row's key: be64(due) user 00 device 00 chat 00 type (the store's key).
std::string row_key(const PushOutboxRecord& r) {
  std::string k;
  const auto due = static_cast<std::uint64_t>(r.due_ms);
  for (int shift = 56; shift >= 0; shift -= 8)
    k.push_back(static_cast<char>((due >> shift) & 0xff));
  k.append(triple(r.user_id, r.device_id, r.chat_id));
  k.push_back('\0');
  k.push_back(type_char(r.type));
  return k;
}

// (user, device, chat, type): which rows are "the same push".
std::string index_key(const PushOutboxRecord& r) {
  std::string k = triple(r.user_id, r.device_id, r.chat_id);
  k.push_back('\0');
  k.push_back(type_char(r.type));
  return k;
}

// The first `n` code points of UTF-8 `s` (bodies are valid UTF-8).
std::string cut_code_points(std::string_view s, std::size_t n) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) != 0x80) {
      if (count == n) return std::string(s.substr(0, i));
      ++count;
    }
  }
  return std::string(s);
}

}  // namespace

struct PushOutbox::Impl {
  Impl(Sequencer& s, UnreadCounter& u, PushConfig c) : seq(s), unread(u), config(c) {}

  Sequencer& seq;
  UnreadCounter& unread;
  const PushConfig config;

  struct Target {
    std::string kind;
    std::string json;
  };

  mutable std::mutex mu;
  std::unordered_map<std::string, std::map<std::string, Target>> targets;  // user -> device ->
  std::map<std::string, PushOutboxRecord> rows;                            // row key -> row
  std::unordered_map<std::string, std::string> index;                      // index key -> row key
  std::unordered_set<std::string> in_flight;                               // row keys
  std::unordered_map<std::string, int> holds;   // row key -> uncommitted writes of it
  std::map<std::string, std::uint64_t> pushed;  // user 00 device 00 chat -> seq
  std::uint64_t given_up = 0;
  std::uint64_t failed = 0;

  std::mutex wake_mu;
  std::function<void()> wake;

  // ---- with `mu` held ----

  bool available(const std::string& key) const {
    return !in_flight.count(key) && !holds.count(key);
  }

  std::optional<std::int64_t> next_due_locked() const {
    for (const auto& [key, row] : rows) {
      if (available(key)) return row.due_ms;
    }
    return std::nullopt;
  }

  const Target* target_of(const std::string& user, const std::string& device) const {
    auto u = targets.find(user);
    if (u == targets.end()) return nullptr;
    auto d = u->second.find(device);
    return d == u->second.end() ? nullptr : &d->second;
  }

  void remove_target(Transaction& tx, const std::string& user, const std::string& device) {
    if (auto u = targets.find(user); u != targets.end()) {
      u->second.erase(device);
      if (u->second.empty()) targets.erase(u);
    }
    tx.put(store::DeletePushTarget{user, device});
  }

  // Writes `row` (new or changed) and holds it until the transaction commits.
  void put_row(Transaction& tx, PushOutboxRecord row, std::vector<std::string>& held) {
    std::string key = row_key(row);
    index[index_key(row)] = key;
    ++holds[key];
    held.push_back(key);
    tx.put(store::PutPushOutbox{row});
    rows[std::move(key)] = std::move(row);
  }

  // A new row at `row.due_ms`, or the first free millisecond after it (a row
  // being sent may still sit at that key).
  void add_row(Transaction& tx, PushOutboxRecord row, std::vector<std::string>& held) {
    while (rows.count(row_key(row)))
      ++row.due_ms;
    put_row(tx, std::move(row), held);
  }

  void erase_row(Transaction& tx, const std::string& key) {
    auto it = rows.find(key);
    in_flight.erase(key);
    if (it == rows.end()) return;
    const std::string idx = index_key(it->second);
    if (auto i = index.find(idx); i != index.end() && i->second == key) index.erase(i);
    tx.put(store::DeletePushOutbox{it->second});
    rows.erase(it);
  }

  // The pending row of (user, device, chat, type) that is not being sent.
  PushOutboxRecord* pending(const std::string& user, const std::string& device,
                            const std::string& chat, PushType type) {
    std::string idx = triple(user, device, chat);
    idx.push_back('\0');
    idx.push_back(type_char(type));
    auto i = index.find(idx);
    if (i == index.end() || in_flight.count(i->second)) return nullptr;
    auto r = rows.find(i->second);
    return r == rows.end() ? nullptr : &r->second;
  }

  // A clear up to `up_to` for the device: merged into a pending clear row, or a new row due now.
  void add_clear(Transaction& tx, const std::string& user, const std::string& device,
                 const std::string& chat, std::uint64_t up_to, std::int64_t now_ms,
                 std::vector<std::string>& held) {
    if (PushOutboxRecord* row = pending(user, device, chat, PushType::clear)) {
      if (row->seq < up_to) {
        PushOutboxRecord changed = *row;
        changed.seq = up_to;
        put_row(tx, std::move(changed), held);
      }
      return;
    }
    add_row(tx,
            {.due_ms = now_ms,
             .user_id = user,
             .device_id = device,
             .chat_id = chat,
             .type = PushType::clear,
             .seq = up_to,
             .first_due_ms = now_ms},
            held);
  }

  void drop_pushed(Transaction& tx, const std::string& user, const std::string& device,
                   const std::string& chat) {
    pushed.erase(triple(user, device, chat));
    tx.put(store::DeletePushed{user, device, chat});
  }

  // ---- without `mu` ----

  // Registers the release of `held` once the transaction commits.
  void release_on_commit(const std::shared_ptr<Impl>& self, Transaction& tx,
                         std::vector<std::string> held) {
    if (held.empty()) return;
    tx.on_committed([self, held = std::move(held)] { self->release(held); });
  }

  // After a commit: the rows it wrote may be handed out; wake the sender if
  // one of them is now the next due.
  void release(const std::vector<std::string>& held) {
    bool wake_up = false;
    {
      std::lock_guard lock(mu);
      for (const auto& key : held) {
        if (auto h = holds.find(key); h != holds.end() && --h->second <= 0) holds.erase(h);
      }
      const auto next = next_due_locked();
      for (const auto& key : held) {
        auto r = rows.find(key);
        if (r != rows.end() && available(key) && next && r->second.due_ms <= *next) {
          wake_up = true;
        }
      }
    }
    if (wake_up) {
      std::lock_guard lock(wake_mu);
      if (wake) wake();
    }
  }

  std::uint64_t total_unread(const std::string& user_id) {
    struct Item {
      std::string chat_id;
      std::uint64_t read_seq, last_seq;
    };
    auto items = seq.read([&](Directory& dir) {
      std::vector<Item> out;
      auto it = dir.user_chats.find(user_id);
      if (it == dir.user_chats.end()) return out;
      for (const auto& id : it->second) {
        const ChatState* chat = dir.chat(id);
        if (!chat || !chat->committed) continue;
        const auto* me = chat->member(user_id);
        if (!me) continue;
        out.push_back({id, me->read_seq, chat->committed_seq});
      }
      return out;
    });
    std::uint64_t total = 0;
    for (const auto& i : items)
      total += unread.count(i.chat_id, user_id, i.read_seq, i.last_seq);
    return total;
  }

  enum class Verdict { push, skip, device_gone };

  // Decides what to do with a due row and fills `out` for a push. Store reads
  // only; takes the sequencer's lock briefly for the directory, `mu` briefly
  // for the target.
  Verdict resolve(const std::string& key, const PushOutboxRecord& row, std::int64_t now_ms,
                  DuePush& out) {
    const store::Store& st = seq.store();
    if (!st.get_device(row.user_id, row.device_id)) return Verdict::device_gone;
    {
      std::lock_guard lock(mu);
      const Target* t = target_of(row.user_id, row.device_id);
      if (!t) return Verdict::skip;
      out.target_json = t->json;
    }
    out.row_key = key;
    out.user_id = row.user_id;
    out.device_id = row.device_id;
    out.chat_id = row.chat_id;
    out.attempts = row.attempts;
    out.first_due_ms = row.first_due_ms;

    if (row.type == PushType::clear) {
      out.clear = true;
      out.seq = row.seq;
      out.unread = total_unread(row.user_id);
      return Verdict::push;
    }

    struct ChatInfo {
      std::uint64_t read_seq = 0, last_seq = 0;
      bool group = false;
      std::string title;
      std::optional<std::uint64_t> cursor;
    };
    auto info = seq.read([&](Directory& dir) -> std::optional<ChatInfo> {
      const ChatState* chat = dir.chat_for_member(row.chat_id, row.user_id);
      if (!chat || !chat->committed) return std::nullopt;
      ChatInfo i;
      i.read_seq = chat->member(row.user_id)->read_seq;
      i.last_seq = chat->committed_seq;
      i.group = chat->is_group();
      i.title = chat->record.title;
      if (auto c = dir.cursors.find(row.user_id + '\0' + row.device_id); c != dir.cursors.end()) {
        i.cursor = c->second;
      }
      return i;
    });
    if (!info) return Verdict::skip;  // no longer a member
    const std::uint64_t cursor =
        info->cursor ? *info->cursor : st.get_cursor(row.user_id, row.device_id);
    if (cursor >= row.offset) return Verdict::skip;  // acknowledged in time
    if (seq.hub().device_live(row.user_id, row.device_id)) return Verdict::skip;
    const auto settings = st.get_chat_settings(row.user_id, row.chat_id);
    if (settings && settings->muted_until && *settings->muted_until > now_ms) {
      return Verdict::skip;
    }
    // The newest message from someone else that is still unread.
    const std::uint64_t from = std::max(row.seq, info->read_seq + 1);
    if (from > info->last_seq) return Verdict::skip;
    std::optional<store::MessageRecord> newest;
    for (auto& m : st.messages_descending(row.chat_id, from, info->last_seq, kResolveScan)) {
      if (m.kind == "system" || m.deleted || m.sender.empty() || m.sender == row.user_id) {
        continue;
      }
      newest = std::move(m);
      break;
    }
    if (!newest) return Verdict::skip;

    out.seq = newest->seq;
    out.message_id = newest->message_id;
    out.sender = newest->sender;
    out.ts = newest->ts;
    if (auto sender = st.get_user(newest->sender)) out.sender_name = sender->name;
    out.chat_title = info->group ? info->title : out.sender_name;
    const bool previews = config.previews && (!settings || settings->preview);
    if (previews && !newest->body.empty()) {
      // A media message's body is its caption; without one there is no preview.
      out.preview = cut_code_points(newest->body, kPreviewChars);
    }
    out.unread = total_unread(row.user_id);
    return Verdict::push;
  }
};

PushOutbox::PushOutbox(Sequencer& seq, UnreadCounter& unread, PushConfig config)
    : impl_(std::make_shared<Impl>(seq, unread, config)) {}

void PushOutbox::load() {
  Impl& s = *impl_;
  const store::Store& st = s.seq.store();
  std::lock_guard lock(s.mu);
  s.targets.clear();
  s.rows.clear();
  s.index.clear();
  s.pushed.clear();
  st.for_each_push_target([&](store::PushTargetRecord&& t) {
    s.targets[t.user_id][t.device_id] = {std::move(t.kind), std::move(t.target_json)};
  });
  // In due order: a (device, chat, type) with two rows (one was being sent at
  // a crash) indexes the later one; both are sent (at-least-once).
  st.for_each_push_outbox([&](PushOutboxRecord&& r) {
    std::string key = row_key(r);
    s.index[index_key(r)] = key;
    s.rows.emplace(std::move(key), std::move(r));
  });
  st.for_each_pushed([&](store::PushedRecord&& p) {
    s.pushed[triple(p.user_id, p.device_id, p.chat_id)] = p.seq;
  });
}

void PushOutbox::set_target(const Principal& who, const std::string& device_id,
                            std::string target_json, std::string kind,
                            std::function<void(Status)> done) {
  if (!plausible_id(device_id, 'd') || !impl_->seq.store().get_device(who.user_id, device_id)) {
    return done(not_found("device not found"));
  }
  auto self = impl_;
  self->seq.transact([&](Transaction& tx) {
    std::lock_guard lock(self->mu);
    self->targets[who.user_id][device_id] = {kind, target_json};
    tx.put(store::PutPushTarget{{who.user_id, device_id, target_json, kind}});
    tx.on_committed([done] { done(ok_status()); });
  });
}

void PushOutbox::delete_target(const Principal& who, const std::string& device_id,
                               std::function<void(Status)> done) {
  if (!plausible_id(device_id, 'd') || !impl_->seq.store().get_device(who.user_id, device_id)) {
    return done(not_found("device not found"));
  }
  auto self = impl_;
  self->seq.transact([&](Transaction& tx) {
    std::lock_guard lock(self->mu);
    self->remove_target(tx, who.user_id, device_id);
    tx.on_committed([done] { done(ok_status()); });
  });
}

std::optional<std::string> PushOutbox::target_kind(const std::string& user_id,
                                                   const std::string& device_id) const {
  std::lock_guard lock(impl_->mu);
  const auto* t = impl_->target_of(user_id, device_id);
  if (!t) return std::nullopt;
  return t->kind;
}

void PushOutbox::set_chat_settings(const Principal& who, const std::string& chat_id, ChatSettings s,
                                   std::function<void(Result<ChatSettings>)> done) {
  if (!plausible_id(chat_id, 'c')) return done(not_found("chat not found"));
  std::optional<Error> error;
  impl_->seq.transact([&](Transaction& tx) {
    const ChatState* chat = tx.directory().chat_for_member(chat_id, who.user_id);
    if (!chat || !chat->committed) return void(error = not_found("chat not found"));
    if (!s.muted_until && s.preview) {
      tx.put(store::DeleteChatSettings{who.user_id, chat_id});  // the defaults: no row
    } else {
      tx.put(store::PutChatSettings{{who.user_id, chat_id, s.muted_until, s.preview}});
    }
    tx.on_committed([done, s] { done(s); });
  });
  if (error) done(std::move(*error));
}

ChatSettings PushOutbox::chat_settings(const std::string& user_id,
                                       const std::string& chat_id) const {
  auto r = impl_->seq.store().get_chat_settings(user_id, chat_id);
  if (!r) return {};
  return {r->muted_until, r->preview};
}

void PushOutbox::on_message(Transaction& tx, const store::MessageRecord& m,
                            const std::vector<std::string>& recipients,
                            const std::vector<std::uint64_t>& offsets, std::int64_t now_ms) {
  if (m.kind == "system" || m.sender.empty()) return;
  Impl& s = *impl_;
  std::vector<std::string> held;
  {
    std::lock_guard lock(s.mu);
    for (std::size_t i = 0; i < recipients.size() && i < offsets.size(); ++i) {
      const std::string& user = recipients[i];
      if (user == m.sender) continue;
      auto t = s.targets.find(user);
      if (t == s.targets.end()) continue;
      for (const auto& [device, target] : t->second) {
        if (s.seq.hub().device_live(user, device)) continue;
        if (PushOutboxRecord* row = s.pending(user, device, m.chat_id, PushType::message)) {
          // Coalesced: the pending row will name the newest message; it only
          // learns the newest event's offset (for the "acknowledged" check).
          if (row->offset < offsets[i]) {
            PushOutboxRecord changed = *row;
            changed.offset = offsets[i];
            s.put_row(tx, std::move(changed), held);
          }
          continue;
        }
        const std::int64_t due = now_ms + s.config.delay_ms;
        s.add_row(tx,
                  {.due_ms = due,
                   .user_id = user,
                   .device_id = device,
                   .chat_id = m.chat_id,
                   .type = PushType::message,
                   .seq = m.seq,
                   .offset = offsets[i],
                   .first_due_ms = due},
                  held);
      }
    }
  }
  s.release_on_commit(impl_, tx, std::move(held));
}

void PushOutbox::on_read(Transaction& tx, const std::string& user_id, const std::string& chat_id,
                         std::uint64_t read_seq, std::int64_t now_ms,
                         const std::string& reader_device) {
  Impl& s = *impl_;
  std::vector<std::string> held;
  {
    std::lock_guard lock(s.mu);
    // Every pushed mark of this user in this chat (a device whose target was
    // removed keeps its mark, but can get no clear).
    std::vector<std::pair<std::string, std::uint64_t>> marks;  // device, seq
    const std::string p = user_id + '\0';
    for (auto it = s.pushed.lower_bound(p); it != s.pushed.end() && it->first.starts_with(p);
         ++it) {
      const std::string_view rest = std::string_view(it->first).substr(p.size());
      const auto sep = rest.find('\0');
      if (sep == std::string_view::npos || rest.substr(sep + 1) != chat_id) continue;
      marks.emplace_back(std::string(rest.substr(0, sep)), it->second);
    }
    for (const auto& [device, pushed_seq] : marks) {
      if (pushed_seq > read_seq) continue;  // a newer notification than what was read
      if (device == reader_device || !s.target_of(user_id, device)) {
        s.drop_pushed(tx, user_id, device, chat_id);
        continue;
      }
      s.add_clear(tx, user_id, device, chat_id, read_seq, now_ms, held);
    }
  }
  s.release_on_commit(impl_, tx, std::move(held));
}

void PushOutbox::on_delete(Transaction& tx, const std::string& chat_id, std::uint64_t seq,
                           std::int64_t now_ms) {
  Impl& s = *impl_;
  const ChatState* chat = tx.directory().chat(chat_id);
  if (!chat) return;
  std::vector<std::string> held;
  {
    std::lock_guard lock(s.mu);
    for (const auto& member : chat->members) {
      auto t = s.targets.find(member.user_id);
      if (t == s.targets.end()) continue;
      for (const auto& [device, target] : t->second) {
        auto p = s.pushed.find(triple(member.user_id, device, chat_id));
        if (p == s.pushed.end() || p->second != seq) continue;
        s.add_clear(tx, member.user_id, device, chat_id, seq, now_ms, held);
      }
    }
  }
  s.release_on_commit(impl_, tx, std::move(held));
}

std::vector<DuePush> PushOutbox::take_due(std::int64_t now_ms, std::size_t limit) {
  Impl& s = *impl_;
  std::vector<DuePush> out;
  // Skipped rows are deleted as we go, so each round makes progress; a long
  // run of skips is bounded per call (the sender calls again: next_due_ms()).
  std::size_t budget = std::max<std::size_t>(4 * limit, 256);
  while (out.size() < limit && budget > 0) {
    std::vector<std::pair<std::string, PushOutboxRecord>> batch;
    {
      std::lock_guard lock(s.mu);
      for (const auto& [key, row] : s.rows) {
        if (row.due_ms > now_ms || batch.size() >= std::min(limit - out.size(), budget)) break;
        if (!s.available(key)) continue;
        s.in_flight.insert(key);
        batch.emplace_back(key, row);
      }
    }
    if (batch.empty()) break;
    budget -= std::min(budget, batch.size());

    std::vector<std::string> skipped;
    std::vector<std::pair<std::string, std::string>> gone;  // user, device without a device
    try {
      for (const auto& [key, row] : batch) {
        DuePush push;
        switch (s.resolve(key, row, now_ms, push)) {
          case Impl::Verdict::push:
            out.push_back(std::move(push));
            break;
          case Impl::Verdict::device_gone:
            gone.emplace_back(row.user_id, row.device_id);
            [[fallthrough]];
          case Impl::Verdict::skip:
            skipped.push_back(key);
            break;
        }
      }
    } catch (...) {
      // A store read failed: nothing of this call is handed out; all stays due.
      std::lock_guard lock(s.mu);
      for (const auto& b : batch)
        s.in_flight.erase(b.first);
      for (const auto& p : out)
        s.in_flight.erase(p.row_key);
      throw;
    }
    if (!skipped.empty()) {
      auto self = impl_;
      s.seq.transact([&](Transaction& tx) {
        std::lock_guard lock(self->mu);
        for (const auto& key : skipped)
          self->erase_row(tx, key);
        for (const auto& [user, device] : gone) {
          if (self->target_of(user, device)) self->remove_target(tx, user, device);
        }
      });
    }
  }
  return out;
}

std::optional<std::int64_t> PushOutbox::next_due_ms() const {
  std::lock_guard lock(impl_->mu);
  return impl_->next_due_locked();
}

void PushOutbox::complete(const DuePush& push, PushResult result,
                          std::optional<std::int64_t> retry_after_ms, std::int64_t now_ms) {
  auto self = impl_;
  self->seq.transact([&](Transaction& tx) {
    std::vector<std::string> held;
    complete_locked(tx, push, result, retry_after_ms, now_ms, held);
    self->release_on_commit(self, tx, std::move(held));
  });
}

void PushOutbox::complete_all(const std::vector<Completion>& done, std::int64_t now_ms) {
  if (done.empty()) return;
  auto self = impl_;
  self->seq.transact([&](Transaction& tx) {
    std::vector<std::string> held;
    for (const auto& c : done)
      complete_locked(tx, c.push, c.result, c.retry_after_ms, now_ms, held);
    self->release_on_commit(self, tx, std::move(held));
  });
}

void PushOutbox::complete_locked(Transaction& tx, const DuePush& push, PushResult result,
                                 std::optional<std::int64_t> retry_after_ms, std::int64_t now_ms,
                                 std::vector<std::string>& held) {
  Impl* self = impl_.get();
  std::lock_guard lock(self->mu);
  auto it = self->rows.find(push.row_key);
  if (it == self->rows.end()) {
    self->in_flight.erase(push.row_key);
    return;
  }
  const PushOutboxRecord row = it->second;
  self->erase_row(tx, push.row_key);
  const std::string pk = triple(row.user_id, row.device_id, row.chat_id);
  switch (result) {
    case PushResult::sent:
      if (row.type == PushType::message) {
        auto& mark = self->pushed[pk];
        mark = std::max(mark, push.seq);
        tx.put(store::PutPushed{{row.user_id, row.device_id, row.chat_id, mark}});
        // Read on another device while this push was on its way: withdraw it.
        const ChatState* chat = tx.directory().chat_for_member(row.chat_id, row.user_id);
        if (chat) {
          const std::uint64_t read_seq = chat->member(row.user_id)->read_seq;
          if (read_seq >= mark) {
            self->add_clear(tx, row.user_id, row.device_id, row.chat_id, read_seq, now_ms, held);
          }
        }
      } else if (auto p = self->pushed.find(pk); p != self->pushed.end() && p->second <= row.seq) {
        self->drop_pushed(tx, row.user_id, row.device_id, row.chat_id);
      }
      break;
    case PushResult::retry: {
      if (now_ms - row.first_due_ms > self->config.give_up_ms) {
        ++self->given_up;
        break;
      }
      // A newer row for the same push was added while this one was out: it
      // carries on (a clear keeps the higher up_to_seq).
      if (PushOutboxRecord* newer =
              self->pending(row.user_id, row.device_id, row.chat_id, row.type)) {
        if (row.type == PushType::clear && newer->seq < row.seq) {
          PushOutboxRecord changed = *newer;
          changed.seq = row.seq;
          self->put_row(tx, std::move(changed), held);
        }
        break;
      }
      std::int64_t delay;
      if (retry_after_ms) {
        delay = std::clamp<std::int64_t>(*retry_after_ms, 0, self->config.give_up_ms);
      } else {
        delay = self->config.first_retry_ms;
        for (int i = 0; i < row.attempts && delay < kMaxBackoffMs; ++i)
          delay *= 2;
        delay = std::min(delay, kMaxBackoffMs);
      }
      PushOutboxRecord next = row;
      next.due_ms = now_ms + delay;
      next.attempts = row.attempts + 1;
      self->add_row(tx, std::move(next), held);
      break;
    }
    case PushResult::gone:
      if (self->target_of(row.user_id, row.device_id)) {
        self->remove_target(tx, row.user_id, row.device_id);
      }
      break;
    case PushResult::failed:
      ++self->failed;
      break;
  }
}

std::size_t PushOutbox::outbox_depth() const {
  std::lock_guard lock(impl_->mu);
  return impl_->rows.size();
}

std::optional<std::int64_t> PushOutbox::oldest_due_ms() const {
  std::lock_guard lock(impl_->mu);
  if (impl_->rows.empty()) return std::nullopt;
  return impl_->rows.begin()->second.due_ms;
}

std::uint64_t PushOutbox::given_up() const {
  std::lock_guard lock(impl_->mu);
  return impl_->given_up;
}

std::uint64_t PushOutbox::failed() const {
  std::lock_guard lock(impl_->mu);
  return impl_->failed;
}

void PushOutbox::on_wake(std::function<void()> fn) {
  std::lock_guard lock(impl_->wake_mu);
  impl_->wake = std::move(fn);
}

}  // namespace chat::core

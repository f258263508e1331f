#include "core/deletion.hpp"

#include "core/chat_log.hpp"
#include "core/validation.hpp"
#include "proto/render.hpp"

namespace chat::core {

void Deletion::delete_message(const Principal& who, const std::string& chat_id, std::uint64_t seq,
                              std::function<void(Status)> done) {
  if (!plausible_id(chat_id, 'c')) return done(not_found("chat not found"));
  const std::int64_t now = seq_.clock().now_ms();
  std::optional<Error> error;
  seq_.transact([&](Transaction& tx) {
    Directory& dir = tx.directory();
    ChatState* chat = dir.chat_for_member(chat_id, who.user_id);
    if (!chat || !chat->committed) return void(error = not_found("chat not found"));
    if (seq == 0 || seq > chat->committed_seq) return void(error = not_found("message not found"));
    // A point read under the lock: the seq is committed, and holding the lock
    // keeps two deletes of one message from both emitting events.
    auto m = seq_.store().get_message(chat_id, seq);
    if (!m) return void(error = not_found("message not found"));
    if (m->kind == "system") return void(error = forbidden("system messages cannot be deleted"));
    const bool admin = chat->is_group() && chat->member(who.user_id)->role == store::Role::admin;
    const bool own_recent = m->sender == who.user_id && now - m->ts <= kSenderWindowMs;
    if (!admin && !own_recent) {
      return void(error = forbidden(m->sender == who.user_id
                                        ? "messages can be deleted for everyone within 48 hours"
                                        : "only the sender or a group admin can delete this"));
    }
    // Checked after the permission, so only someone allowed to delete learns
    // that it already is.
    if (m->deleted || dir.pending_deletes.count(chat_id + '\0' + std::to_string(seq))) {
      // Maybe not durably yet: answer once it is (a transaction with only a
      // completion runs after every earlier commit).
      return tx.on_committed([done] { done(ok_status()); });
    }
    const bool had_media = !m->media.empty();
    media_.record_delete(tx, *m);
    m->deleted = true;
    m->body.clear();
    m->media.clear();
    tx.put(store::PutMessage{*m});
    const std::string key = chat_id + '\0' + std::to_string(seq);
    dir.pending_deletes.insert(key);
    auto tail = std::make_shared<const std::string>(proto::deleted_event_tail(chat_id, seq));
    for (const auto& user : member_ids(*chat)) {
      tx.add_event(user, {.kind = store::EventKind::deleted, .chat_id = chat_id, .seq = seq}, tail,
                   now);
    }
    push_.on_delete(tx, chat_id, seq, now);
    tx.on_committed([this, key, had_media, done] {
      seq_.read([&](Directory& d) { return d.pending_deletes.erase(key); });
      if (had_media) media_.notify_refs_dropped();
      done(ok_status());
    });
  });
  if (error) done(std::move(*error));
}

}  // namespace chat::core

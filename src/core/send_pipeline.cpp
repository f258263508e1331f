#include "core/send_pipeline.hpp"

#include "base/utf8.hpp"
#include "core/chat_log.hpp"
#include "core/validation.hpp"
#include "proto/render.hpp"

namespace chat::core {
namespace {

SendOutcome outcome_of(const store::MessageRecord& m, std::shared_ptr<const std::string> json,
                       bool created) {
  return {m.chat_id, m.seq, m.message_id, m.ts, std::move(json), created};
}

}  // namespace

Status SendPipeline::check(const proto::SendRequest& req) const {
  const auto& limits = config_.limits;
  const std::size_t id_len = utf8_length(req.client_msg_id);
  if (id_len == 0 || id_len > limits.max_client_msg_id_chars) {
    return bad_request("client_msg_id must be 1-64 characters");
  }
  if (req.body && req.body->size() > limits.max_body_bytes) {
    return too_large("body is larger than " + std::to_string(limits.max_body_bytes) + " bytes");
  }
  if (req.media.size() > limits.max_media_per_message) {
    return too_large("at most " + std::to_string(limits.max_media_per_message) +
                     " media per message");
  }
  for (std::size_t i = 0; i < req.media.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (req.media[i] == req.media[j]) return bad_request("media ids must be distinct");
    }
  }
  // With media, the body is an optional caption.
  if (req.media.empty() && (!req.body || req.body->empty())) {
    return bad_request("a message needs a non-empty body");
  }
  if (req.reply_to && *req.reply_to == 0) return bad_request("reply_to must be an existing seq");
  return ok_status();
}

void SendPipeline::send(const Principal& who, const proto::SendRequest& req, Done done) {
  if (auto s = check(req); !s) return done(s.take_error());
  if (!plausible_id(req.chat_id, 'c')) return done(not_found("chat not found"));
  const std::int64_t now = seq_.clock().now_ms();
  std::string key = who.user_id;
  key.append(1, '\0').append(req.chat_id).append(1, '\0').append(req.client_msg_id);
  // Outside the lock (store reads). A failure is reported only after the
  // idempotency check, so a retry of a stored send gets the original even if
  // its media is no longer readable.
  Result<std::vector<store::MediaItem>> media =
      req.media.empty() ? Result<std::vector<store::MediaItem>>(std::vector<store::MediaItem>{})
                        : media_.resolve_for_send(who, req.media);

  std::optional<Result<SendOutcome>> immediate;
  seq_.transact([&](Transaction& tx) {
    ChatState* chat = tx.directory().chat_for_member(req.chat_id, who.user_id);
    if (!chat || !chat->committed) return void(immediate = not_found("chat not found"));
    if (auto waiting = in_flight_.find(key); waiting != in_flight_.end()) {
      waiting->second.push_back(std::move(done));  // answered when the first commits
      return;
    }
    if (auto seq = seq_.store().find_idempotent(who.user_id, req.chat_id, req.client_msg_id)) {
      auto stored = seq_.store().get_message(req.chat_id, *seq);
      if (!stored) return void(immediate = internal_error("idempotency record without message"));
      auto json = std::make_shared<const std::string>(proto::message_json(*stored));
      return void(immediate = outcome_of(*stored, std::move(json), false));
    }
    if (req.reply_to && *req.reply_to > chat->assigned_seq) {
      return void(immediate = bad_request("reply_to must be an existing seq"));
    }
    if (!media) return void(immediate = media.error());
    if (!media->empty()) {
      if (auto held = media_.hold_for_send(tx, *media); !held) {
        return void(immediate = held.take_error());
      }
    }
    store::MessageRecord m;
    m.sender = who.user_id;
    m.sender_device = who.device_id;
    m.kind = media->empty() ? "text" : "media";
    m.body = req.body.value_or(std::string{});
    m.reply_to = req.reply_to;
    m.media = std::move(*media);
    m.client_msg_id = req.client_msg_id;
    const std::vector<std::string> recipients = member_ids(*chat);
    std::vector<std::uint64_t> offsets;
    auto json = append_message(tx, *chat, m, recipients, now, &offsets);
    if (!m.media.empty()) media_.record_send(tx, m);
    push_.on_message(tx, m, recipients, offsets, now);
    in_flight_[key];
    tx.on_committed([this, key, m = std::move(m), json, done = std::move(done)]() mutable {
      std::vector<Done> retries;
      seq_.read([&](Directory&) {
        auto it = in_flight_.find(key);
        retries = std::move(it->second);
        in_flight_.erase(it);
        return 0;
      });
      done(outcome_of(m, json, true));
      for (auto& retry : retries)
        retry(outcome_of(m, json, false));
    });
  });
  if (immediate) done(std::move(*immediate));
}

}  // namespace chat::core

// Delivery and read receipts, as per-member high-water marks.
//
// Each member of a chat has two marks (store::MemberRecord): delivered_seq
// (some device of the member acknowledged an offset covering the message) and
// read_seq (the member sent `read`). Marks only move up. When a mark moves from
// `old` to `new`, one `receipt` event {user_id, status, up_to_seq: new} goes to
// the stream of every *other* member who sent a message in (old, new] -- the
// senders are the ones who care -- and, for `read`, to the reader's own stream
// too, so its other devices clear their unread counts. Storage and events grow
// with members and mark movements, never with members x messages.
//
// Read implies delivered: moving read_seq also lifts delivered_seq (silently:
// a `read` receipt already tells the sender more than `delivered` would).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/result.hpp"
#include "core/principal.hpp"
#include "core/push_outbox.hpp"
#include "core/sequencer.hpp"

namespace chat::core {

enum class ReceiptStatus : std::uint8_t { delivered, read };

struct MemberReceipt {
  std::string user_id;
  std::optional<std::int64_t> delivered_ts;
  std::optional<std::int64_t> read_ts;
};

class Receipts {
 public:
  Receipts(Sequencer& seq, PushOutbox& push) : seq_(seq), push_(push) {}

  // A chat whose messages up to `up_to` a user has delivered (or read).
  struct Target {
    std::string chat_id;
    std::uint64_t up_to = 0;
    // (seq, sender) of every message of the chat the ack covered, when the
    // caller knows them (a session that wrote the events): the senders then
    // come from here instead of a scan of the chat's log. Messages between the
    // member's mark and the first of these were acknowledged before without
    // moving the mark, so they were the member's own.
    std::optional<std::vector<std::pair<std::uint64_t, std::string>>> known;
  };

  // `who` has delivered/read `chat_id` up to `seq` (WS `read`, REST status).
  void mark(const Principal& who, const std::string& chat_id, ReceiptStatus status,
            std::uint64_t seq, std::function<void(Status)> done);

  // A device of `user_id` acknowledged its stream up to `offset`: the chats in
  // `targets` are delivered up to their seq. Returns the plans to apply inside
  // the ack's transaction (may read the store; call outside the lock).
  struct Plan {
    std::string chat_id;
    std::uint64_t up_to = 0;
    std::vector<std::string> senders;  // members who sent in (old mark, up_to]
  };
  std::vector<Plan> plan(const std::string& user_id, ReceiptStatus status,
                         const std::vector<Target>& targets) const;
  // Moves the mark and appends the receipt events (inside a transaction). A
  // read mark that moves also withdraws push notifications of the chat from
  // the user's other devices (PushOutbox::on_read); `device_id` is the device
  // that read, if known.
  void apply(Transaction& tx, const std::string& user_id, ReceiptStatus status, const Plan& plan,
             std::int64_t now_ms, const std::string& device_id = {});

  // GET /v1/chats/{id}/messages/{seq}/receipts: the other members' marks.
  Result<std::vector<MemberReceipt>> of_message(const Principal& who, const std::string& chat_id,
                                                std::uint64_t seq) const;

 private:
  Sequencer& seq_;
  PushOutbox& push_;
};

}  // namespace chat::core

// Push notifications, the domain half (PROTOCOL.md, "Push notifications"):
// which devices have a push target, per-user chat settings, and the durable
// outbox that decides *what* to push *when*. How a push is encoded and sent
// is push/'s and net/'s business (net/push_service drives this class).
//
// Outbox lifecycle of one row, keyed (due_ms, user, device, chat):
//
//   message committed, recipient device has a target and no live listener
//        --> row {message, offset of that event} due now + push_delay
//            (in the message's own commit: a crash cannot lose it; a second
//            message in the same chat while a row is pending adds no row, it
//            only moves the row's offset to its own event, so "acknowledged"
//            means acknowledged up to the newest -- the push names the newest
//            message when it goes out: coalescing)
//   due --> take_due(): skipped (device acked the event, is live now, the chat
//            is muted, the target or device is gone, the user left the chat,
//            or everything from others is read or deleted) or handed out as a
//            DuePush; a clear row is sent whether or not the device is live
//   sent --> complete(sent): row deleted; (device, chat) -> seq recorded as
//            "pushed" so a later read or delete can withdraw it
//   retry --> complete(retry, at): row moved to its new due time (exponential
//            backoff from 1 s, or Retry-After), given up 24 h after first due
//   gone --> complete(gone): row deleted, the device's target removed
//   read on another device / pushed message deleted for everyone
//        --> row {clear, up_to_seq} due now for each device that was pushed
//            that chat (same commit as the read / delete). A read withdraws a
//            push with pushed seq <= read_seq; a delete withdraws a push whose
//            pushed (newest) seq is the deleted one. A read that lands while
//            the push is out is caught at complete(sent).
//
// Thread safety: every method may be called from any thread. The hooks run
// inside transactions (under the sequencer lock). The rows, their index and
// the pushed marks are mirrored in memory (see push_outbox.cpp).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "core/config.hpp"
#include "core/principal.hpp"
#include "core/sequencer.hpp"
#include "store/records.hpp"

namespace chat::core {

class UnreadCounter;

struct ChatSettings {
  std::optional<std::int64_t> muted_until;  // ms; no message pushes until then
  bool preview = true;
};

// One push ready to encode and send: everything the payload needs, resolved.
struct DuePush {
  std::string row_key;  // opaque: names the outbox row for complete()
  std::string user_id, device_id, chat_id;
  std::string target_json;  // as stored by set_target
  bool clear = false;
  std::uint64_t seq = 0;  // message: newest pushed; clear: up_to_seq
  std::string message_id, sender, sender_name, chat_title;
  std::optional<std::string> preview;  // already cut to 100 code points; null if off
  std::uint64_t unread = 0;            // the user's total unread
  std::int64_t ts = 0;
  int attempts = 0;
  std::int64_t first_due_ms = 0;
};

enum class PushResult { sent, retry, gone, failed };

class PushOutbox {
 public:
  PushOutbox(Sequencer& seq, UnreadCounter& unread, PushConfig config);

  // Loads which devices have targets (start-up, after Sequencer::load).
  void load();

  // PUT/DELETE /v1/devices/{device_id}/push: the caller's own devices only
  // (another id: not_found). `target_json` is already validated (push/).
  void set_target(const Principal& who, const std::string& device_id, std::string target_json,
                  std::string kind, std::function<void(Status)> done);
  void delete_target(const Principal& who, const std::string& device_id,
                     std::function<void(Status)> done);
  // The kind of a device's target ("webhook", ...), for GET /v1/me and /v1/devices.
  std::optional<std::string> target_kind(const std::string& user_id,
                                         const std::string& device_id) const;

  // PATCH /v1/chats/{chat_id}/settings (members only, else not_found).
  void set_chat_settings(const Principal& who, const std::string& chat_id, ChatSettings s,
                         std::function<void(Result<ChatSettings>)> done);
  ChatSettings chat_settings(const std::string& user_id, const std::string& chat_id) const;

  // Hooks, called inside the transactions of the send, read and delete paths.
  // `offsets[i]` is the offset the message event got in `recipients[i]`'s stream.
  void on_message(Transaction& tx, const store::MessageRecord& m,
                  const std::vector<std::string>& recipients,
                  const std::vector<std::uint64_t>& offsets, std::int64_t now_ms);
  // `user_id`'s read mark in `chat_id` moved to `read_seq` (by `reader_device`,
  // if known): each *other* device of the user pushed a message of the chat
  // with seq <= read_seq gets a clear; the reader's own pushed mark is dropped.
  void on_read(Transaction& tx, const std::string& user_id, const std::string& chat_id,
               std::uint64_t read_seq, std::int64_t now_ms, const std::string& reader_device = {});
  // Message `seq` of `chat_id` was deleted for everyone: each device whose
  // pushed (newest) message of the chat is exactly that one gets a clear
  // (up_to_seq = seq). A device pushed a newer message keeps it.
  void on_delete(Transaction& tx, const std::string& chat_id, std::uint64_t seq,
                 std::int64_t now_ms);

  // Outbox rows due at `now_ms`, resolved (skipped rows are deleted here).
  // Rows handed out are not handed out again until complete() (in memory; after
  // a restart they are due again: at-least-once).
  std::vector<DuePush> take_due(std::int64_t now_ms, std::size_t limit);
  // The next due time of a row not handed out, if any (the sender's wake-up).
  std::optional<std::int64_t> next_due_ms() const;
  // `retry_after_ms` (from Retry-After) overrides the backoff when set.
  void complete(const DuePush& push, PushResult result, std::optional<std::int64_t> retry_after_ms,
                std::int64_t now_ms);
  // Many completions in one transaction: a burst of a thousand pushes then
  // costs the writer and the sequencer lock one commit, not a thousand.
  struct Completion {
    DuePush push;
    PushResult result = PushResult::sent;
    std::optional<std::int64_t> retry_after_ms;
  };
  void complete_all(const std::vector<Completion>& done, std::int64_t now_ms);

  // For /metrics.
  std::size_t outbox_depth() const;
  std::optional<std::int64_t> oldest_due_ms() const;
  // Rows dropped since start: given up after give_up_ms of retries / failed for good.
  std::uint64_t given_up() const;
  std::uint64_t failed() const;

  // Called (on the writer thread, after commit) when a row became due sooner
  // than the sender's current wake-up: net/ wires it to wake the sender.
  // It must only post/notify (never call take_due or complete itself). The
  // sender is expected to re-read next_due_ms() after every take_due round.
  void on_wake(std::function<void()> fn);

 private:
  void complete_locked(Transaction& tx, const DuePush& push, PushResult result,
                       std::optional<std::int64_t> retry_after_ms, std::int64_t now_ms,
                       std::vector<std::string>& held);

  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace chat::core

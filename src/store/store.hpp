// Store: the durable state of chatd, as one small interface.
//
// Writes go through `apply` only (called by the single group-commit writer, in
// the order the domain assigned seqs and offsets); reads may be called from any
// thread. Read methods throw StoreError on an I/O failure; `apply` reports it
// as a Status. Backends: store/rocks (embedded, default); PostgreSQL next.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "base/result.hpp"
#include "store/mutation.hpp"
#include "store/records.hpp"

namespace chat::store {

struct StoreError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// How a committed batch reaches the disk (see docs/operations.md).
enum class Durability : std::uint8_t {
  sync,   // fsync before acknowledging: survives power loss (default)
  batch,  // acknowledge after write(2); fsync every 100 ms: survives a chatd crash
  none,   // acknowledge after write(2); never fsync: the OS decides
};

struct DevicePrincipal {
  std::string user_id;
  std::string device_id;
};

// Everything the in-memory directory needs at start-up, per chat.
struct ChatSnapshot {
  ChatRecord chat;
  std::vector<MemberRecord> members;
  std::uint64_t last_seq = 0;
  std::int64_t last_ts = 0;  // ts of the message at last_seq (0 if none)
};

class Store {
 public:
  virtual ~Store() = default;

  // Atomically applies `batch`; with `sync`, returns only once it is on stable storage.
  [[nodiscard]] virtual Status apply(std::span<const Mutation> batch, bool sync) = 0;
  // Makes every write applied so far durable (for Durability::batch).
  [[nodiscard]] virtual Status sync_wal() = 0;

  virtual std::optional<UserRecord> get_user(const std::string& user_id) const = 0;
  virtual std::optional<std::string> find_user_by_phone(const std::string& phone) const = 0;
  virtual std::optional<DeviceRecord> get_device(const std::string& user_id,
                                                 const std::string& device_id) const = 0;
  virtual std::vector<DeviceRecord> list_devices(const std::string& user_id) const = 0;
  virtual std::optional<DevicePrincipal> find_token(const std::string& token_hash) const = 0;
  virtual std::uint64_t get_cursor(const std::string& user_id,
                                   const std::string& device_id) const = 0;

  virtual std::optional<MessageRecord> get_message(const std::string& chat_id,
                                                   std::uint64_t seq) const = 0;
  // Messages with seq in [from, to], ascending, at most `limit`.
  virtual std::vector<MessageRecord> messages_ascending(const std::string& chat_id,
                                                        std::uint64_t from, std::uint64_t to,
                                                        std::size_t limit) const = 0;
  // Messages with seq in [from, to], descending from `to`, at most `limit`.
  virtual std::vector<MessageRecord> messages_descending(const std::string& chat_id,
                                                         std::uint64_t from, std::uint64_t to,
                                                         std::size_t limit) const = 0;
  virtual std::optional<std::uint64_t> find_idempotent(const std::string& sender,
                                                       const std::string& chat_id,
                                                       const std::string& client_msg_id) const = 0;

  // Events of `user_id` with offset > after, ascending, at most `limit`.
  virtual std::vector<EventRecord> events_after(const std::string& user_id, std::uint64_t after,
                                                std::size_t limit) const = 0;
  virtual std::optional<std::int64_t> get_last_seen(const std::string& user_id) const = 0;
  virtual std::optional<std::string> get_chat_version(const std::string& chat_id,
                                                      std::uint64_t seq) const = 0;

  // Media (see MediaRecord for the lifecycle).
  virtual std::optional<MediaRecord> get_media(const std::string& media_id) const = 0;
  // The live messages that carry `media_id`, at most `limit`.
  virtual std::vector<MediaRefRecord> media_refs(const std::string& media_id,
                                                 std::size_t limit) const = 0;
  // Whether any media record names this blob.
  virtual bool blob_referenced(const std::string& sha256) const = 0;
  // Unsent media created before `before_ts`, oldest first, at most `limit`.
  virtual std::vector<MediaRecord> unsent_media_before(std::int64_t before_ts,
                                                       std::size_t limit) const = 0;
  // Media ids whose last ref was dropped since the sweep last looked.
  virtual std::vector<std::string> media_candidates(std::size_t limit) const = 0;

  // Push notifications (see records.hpp).
  virtual std::optional<ChatSettingsRecord> get_chat_settings(const std::string& user_id,
                                                              const std::string& chat_id) const = 0;
  // Outbox rows due at or before `due_ms`, in due order, at most `limit`.
  virtual std::vector<PushOutboxRecord> push_outbox_due(std::int64_t due_ms,
                                                        std::size_t limit) const = 0;
  // Start-up scans: every target, every outbox row (in due order), every pushed row.
  virtual void for_each_push_target(const std::function<void(PushTargetRecord&&)>& fn) const = 0;
  virtual void for_each_push_outbox(const std::function<void(PushOutboxRecord&&)>& fn) const = 0;
  virtual void for_each_pushed(const std::function<void(PushedRecord&&)>& fn) const = 0;

  // Start-up scans.
  virtual void for_each_chat(const std::function<void(ChatSnapshot&&)>& fn) const = 0;
  // Every user with at least one event, and the offset of its last event.
  virtual void for_each_user_head(
      const std::function<void(const std::string& user_id, std::uint64_t head)>& fn) const = 0;
  virtual void for_each_direct(
      const std::function<void(const std::string& user_lo, const std::string& user_hi,
                               const std::string& chat_id)>& fn) const = 0;

  // Operator tools.
  virtual void compact() = 0;
};

}  // namespace chat::store

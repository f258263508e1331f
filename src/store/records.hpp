// The records a Store keeps. Plain structs with SQL-friendly shapes (one struct
// = one table row): no backend types appear here, so the RocksDB backend and a
// PostgreSQL backend implement the same contract.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace chat::store {

enum class ChatType : std::uint8_t { direct = 0, group = 1 };
enum class Role : std::uint8_t { member = 0, admin = 1 };

struct UserRecord {
  std::string user_id;
  std::string phone;  // E.164
  std::string name;
  std::string last_seen_privacy = "everyone";  // everyone | contacts | nobody
  std::int64_t created_ts = 0;
};

struct DeviceRecord {
  std::string user_id;
  std::string device_id;
  std::string name;
  std::string token_hash;  // sha256 of the bearer token; the token itself is never stored
  std::int64_t created_ts = 0;
  std::int64_t last_active_ts = 0;
};

// A device's cursor: the highest offset of its user's event stream it has acked.
struct CursorRecord {
  std::string user_id;
  std::string device_id;
  std::uint64_t offset = 0;
};

struct ChatRecord {
  std::string chat_id;
  ChatType type = ChatType::direct;
  std::string title;
  std::int64_t created_ts = 0;
};

struct MemberRecord {
  std::string chat_id;
  std::string user_id;
  Role role = Role::member;
  std::int64_t joined_ts = 0;
  // Receipt high-water marks: this member has had delivered (any device acked)
  // / has read every message up to this seq, since these times. One pair per
  // member, never one row per message.
  std::uint64_t delivered_seq = 0;
  std::uint64_t read_seq = 0;
  std::int64_t delivered_ts = 0;
  std::int64_t read_ts = 0;
};

// A media file's metadata as a message carries it (copied into the message at
// send time: media records never change, so history renders without lookups).
struct MediaItem {
  std::string media_id;
  std::string mime;
  std::uint64_t size = 0;
  std::string sha256;
  std::string filename;  // empty: none given
  std::optional<std::uint32_t> width, height;
  std::optional<std::int64_t> duration_ms;
  bool thumbnail = false;

  bool operator==(const MediaItem&) const = default;
};

// One upload (POST /v1/media). Several media may share one blob (same sha256).
// Lifecycle: uploaded (readable by its uploader only) -> sent (the first
// message carrying it commits; from then on readable only through live messages
// that carry it, see MediaRefRecord) -> removed (no live message carries it any
// more, or it was never sent within the unsent TTL; its blob goes when no
// media record names the sha256 any more).
struct MediaRecord {
  MediaItem item;
  std::string uploader;  // user_id
  std::string thumbnail_mime;
  std::int64_t created_ts = 0;
  bool sent = false;
};

// A live message that carries a media: (media_id, chat_id, seq).
struct MediaRefRecord {
  std::string media_id;
  std::string chat_id;
  std::uint64_t seq = 0;

  bool operator==(const MediaRefRecord&) const = default;
};

// One row of a chat's log. `seq` is the chat's gapless sequence number.
struct MessageRecord {
  std::string chat_id;
  std::uint64_t seq = 0;
  std::string message_id;
  std::string sender;         // empty for system messages
  std::string sender_device;  // empty for system messages
  std::int64_t ts = 0;
  std::string kind;  // text | media | system
  std::string body;
  std::optional<std::uint64_t> reply_to;
  std::vector<MediaItem> media;  // kind == media
  std::string client_msg_id;
  std::string system_json;  // for kind == system: the change, as a JSON object
  bool deleted = false;
};

// One entry of a user's event stream. Events are small pointers: a message
// event names (chat_id, seq) and the message is read from the chat's log, so a
// group message is stored once, not once per member.
enum class EventKind : std::uint8_t { message = 1, deleted = 2, receipt = 3, chat = 4 };

struct EventRecord {
  std::string user_id;
  std::uint64_t offset = 0;
  EventKind kind = EventKind::message;
  std::string chat_id;
  std::uint64_t seq = 0;  // message / deleted: the seq; chat: the chat version (see below)
  // receipt only:
  std::string actor;   // the user whose delivery/read this reports
  std::string status;  // delivered | read
  std::int64_t ts = 0;
};

// A chat object as it was right after a membership/title change, as JSON.
// `chat` events point at one, so replaying the stream shows each change as it
// happened (and a removed member never sees what the chat became later).
struct ChatVersionRecord {
  std::string chat_id;
  std::uint64_t seq = 0;  // the chat's last_seq right after the change
  std::string json;
};

// Push notifications (PROTOCOL.md, "Push notifications"; core/push_outbox.hpp).
// A device's push target: the validated target as JSON (push/'s storage form)
// and its kind ("webhook", "webpush", "fcm", "apns").
struct PushTargetRecord {
  std::string user_id;
  std::string device_id;
  std::string target_json;
  std::string kind;
};

// One user's settings for one chat (absent row: the defaults).
struct ChatSettingsRecord {
  std::string user_id;
  std::string chat_id;
  std::optional<std::int64_t> muted_until;  // ms; no message pushes until then
  bool preview = true;
};

enum class PushType : std::uint8_t { message = 0, clear = 1 };

// One row of the push outbox, keyed (due_ms, user, device, chat, type): at
// most one message row and one clear row per (device, chat) are pending (a row
// handed out to the sender may briefly have a successor).
struct PushOutboxRecord {
  std::int64_t due_ms = 0;
  std::string user_id;
  std::string device_id;
  std::string chat_id;
  PushType type = PushType::message;
  // message: the first seq the row covers (the push names the newest message
  // from someone else at or after it); clear: up_to_seq.
  std::uint64_t seq = 0;
  // message: the offset of the newest message event the row covers in the
  // user's stream (a device whose cursor reached it gets no push).
  std::uint64_t offset = 0;
  int attempts = 0;
  std::int64_t first_due_ms = 0;

  bool operator==(const PushOutboxRecord&) const = default;
};

// The newest message seq pushed to a device for a chat and not withdrawn yet
// (so a later read or delete can send a clear).
struct PushedRecord {
  std::string user_id;
  std::string device_id;
  std::string chat_id;
  std::uint64_t seq = 0;

  bool operator==(const PushedRecord&) const = default;
};

}  // namespace chat::store

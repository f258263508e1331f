// Writes, as values. The domain builds a list of mutations per request; the
// group-commit writer concatenates the lists of many requests and hands them to
// Store::apply as one atomic, durable batch (one transaction in SQL terms).
#pragma once

#include <variant>

#include "store/records.hpp"

namespace chat::store {

struct PutUser {
  UserRecord user;
};
// Also maintains the phone -> user index.
struct PutPhone {
  std::string phone;
  std::string user_id;
};
// Also maintains the token-hash -> device index.
struct PutDevice {
  DeviceRecord device;
};
// Removes the device, its token index entry and its cursor (and its push
// target and pushed rows: see below).
struct DeleteDevice {
  std::string user_id;
  std::string device_id;
  std::string token_hash;
};
struct PutCursor {
  CursorRecord cursor;
};
struct PutChat {
  ChatRecord chat;
};
struct PutMember {
  MemberRecord member;
};
struct DeleteMember {
  std::string chat_id;
  std::string user_id;
};
// Direct chats are unique per unordered pair of users.
struct PutDirect {
  std::string user_lo;
  std::string user_hi;
  std::string chat_id;
};
// Also records (sender, chat, client_msg_id) -> seq when client_msg_id is set.
struct PutMessage {
  MessageRecord message;
};
struct PutEvent {
  EventRecord event;
};
struct PutChatVersion {
  ChatVersionRecord version;
};
// When the user was last online (presence).
struct PutLastSeen {
  std::string user_id;
  std::int64_t ts;
};

// Stores a media record. Also maintains the blob index (sha256 -> media_id)
// and the unsent index (created_ts -> media_id, present while !sent).
struct PutMedia {
  MediaRecord media;
};
// Removes a media record and its blob and unsent index entries.
struct DeleteMedia {
  std::string media_id;
  std::string sha256;
  std::int64_t created_ts = 0;
};
struct PutMediaRef {
  MediaRefRecord ref;
};
// Removes the ref and records media_id as a garbage-collection candidate
// (so a crash between this commit and the sweep leaks nothing).
struct DeleteMediaRef {
  MediaRefRecord ref;
};
// The sweep is done with a candidate.
struct DeleteMediaCandidate {
  std::string media_id;
};

// Push notifications (see records.hpp).
struct PutPushTarget {
  PushTargetRecord target;
};
struct DeletePushTarget {
  std::string user_id;
  std::string device_id;
};
struct PutChatSettings {
  ChatSettingsRecord settings;
};
struct DeleteChatSettings {
  std::string user_id;
  std::string chat_id;
};
// Puts (inserts or overwrites) the row at its key; fields other than the key
// are the value.
struct PutPushOutbox {
  PushOutboxRecord row;
};
// Deletes the row with the key of `row` (due_ms, user, device, chat, type).
struct DeletePushOutbox {
  PushOutboxRecord row;
};
struct PutPushed {
  PushedRecord pushed;
};
struct DeletePushed {
  std::string user_id;
  std::string device_id;
  std::string chat_id;
};

using Mutation =
    std::variant<PutUser, PutPhone, PutDevice, DeleteDevice, PutCursor, PutChat, PutMember,
                 DeleteMember, PutDirect, PutMessage, PutEvent, PutChatVersion, PutLastSeen,
                 PutMedia, DeleteMedia, PutMediaRef, DeleteMediaRef, DeleteMediaCandidate,
                 PutPushTarget, DeletePushTarget, PutChatSettings, DeleteChatSettings,
                 PutPushOutbox, DeletePushOutbox, PutPushed, DeletePushed>;

}  // namespace chat::store

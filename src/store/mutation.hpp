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
// Removes the device, its token index entry and its cursor.
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

using Mutation =
    std::variant<PutUser, PutPhone, PutDevice, DeleteDevice, PutCursor, PutChat, PutMember,
                 DeleteMember, PutDirect, PutMessage, PutEvent, PutChatVersion, PutLastSeen>;

}  // namespace chat::store

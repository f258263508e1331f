// The in-memory index of the domain: every chat with its members and
// counters, every user's stream heads, the direct-chat pairs. Loaded from the
// Store at start-up; changed only under the Sequencer's lock.
//
// Two counters per chat and per user stream:
//
//   assigned  -- the last seq/offset handed out (may not be on disk yet)
//   committed -- the last seq/offset the writer has made durable
//
// Readers (REST, auth replies, history bounds) only ever see `committed`, so a
// client never learns of a message that a crash could still take back.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "store/records.hpp"

namespace chat::core {

struct ChatState {
  store::ChatRecord record;
  std::vector<store::MemberRecord> members;
  std::uint64_t assigned_seq = 0;
  std::uint64_t committed_seq = 0;
  std::int64_t last_ts = 0;      // ts of the last assigned message: ts never goes backwards
  std::int64_t activity_ts = 0;  // for "most recent activity first"
  bool committed = false;        // the chat's creation is durable

  store::MemberRecord* member(const std::string& user_id) {
    for (auto& m : members) {
      if (m.user_id == user_id) return &m;
    }
    return nullptr;
  }
  const store::MemberRecord* member(const std::string& user_id) const {
    return const_cast<ChatState*>(this)->member(user_id);
  }
  bool is_group() const { return record.type == store::ChatType::group; }
};

struct StreamState {
  std::uint64_t assigned = 0;
  std::uint64_t committed = 0;
};

struct Directory {
  std::unordered_map<std::string, ChatState> chats;
  std::unordered_map<std::string, StreamState> streams;                         // by user
  std::unordered_map<std::string, std::unordered_set<std::string>> user_chats;  // user -> chats
  std::map<std::pair<std::string, std::string>, std::string> direct;            // (lo, hi) -> chat
  std::unordered_map<std::string, std::uint64_t> cursors;       // "user\0device" -> cursor (cache)
  std::unordered_map<std::string, std::string> pending_phones;  // phone -> user being created
  // Profiles written but not yet committed, so a read-modify-write sees them.
  std::unordered_map<std::string, store::UserRecord> pending_users;
  // "chat\0seq" of deletions written but not yet committed (a second delete
  // of the same message must not emit a second event).
  std::unordered_set<std::string> pending_deletes;

  ChatState* chat(const std::string& id) {
    auto it = chats.find(id);
    return it == chats.end() ? nullptr : &it->second;
  }
  // The chat if `user_id` is a member of it, else null (callers answer 404).
  ChatState* chat_for_member(const std::string& chat_id, const std::string& user_id) {
    ChatState* c = chat(chat_id);
    return c && c->member(user_id) ? c : nullptr;
  }
};

}  // namespace chat::core

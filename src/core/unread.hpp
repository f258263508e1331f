// Unread counts (PROTOCOL.md, "Chats"): the messages of a chat from others,
// system messages excluded, with seq above the user's read_seq.
//
// Counted from the chat's log, and remembered per (chat, user) with the range
// it covers: when only new messages arrived since, just those are scanned;
// when read_seq moved, the (usually tiny) range after it is counted afresh.
// Deleted messages still count (they stay in the log as "deleted").
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "store/store.hpp"

namespace chat::core {

class UnreadCounter {
 public:
  explicit UnreadCounter(const store::Store& store) : store_(store) {}

  std::uint64_t count(const std::string& chat_id, const std::string& user_id,
                      std::uint64_t read_seq, std::uint64_t last_seq);

 private:
  // Messages from others in [from, to].
  std::uint64_t scan(const std::string& chat_id, const std::string& user_id, std::uint64_t from,
                     std::uint64_t to) const;

  struct Entry {
    std::uint64_t read_seq = 0;
    std::uint64_t last_seq = 0;
    std::uint64_t count = 0;
  };
  const store::Store& store_;
  std::mutex mutex_;
  std::unordered_map<std::string, Entry> cache_;  // "chat\0user"
};

}  // namespace chat::core

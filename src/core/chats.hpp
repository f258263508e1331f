// Chats and membership: direct chats (unique per pair), groups with admins,
// and the `system` messages that record every membership or title change in
// the chat's own log, so every device sees them in order with the conversation.
//
// Every change also stores a *chat version* (the chat object right after the
// change) and appends a `chat` event pointing at it to each affected member's
// stream, including a member who was just removed.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "core/config.hpp"
#include "core/principal.hpp"
#include "core/sequencer.hpp"
#include "core/unread.hpp"
#include "proto/requests.hpp"
#include "store/records.hpp"

namespace chat::core {

// A chat object, rendered (PROTOCOL.md "Chat object").
struct ChatView {
  std::string chat_id;
  std::shared_ptr<const std::string> json;
  bool created = false;  // for POST /v1/chats: 201 vs 200
};

struct ChatListEntry {
  std::string chat_id;
  std::string chat_json;
  std::optional<store::MessageRecord> last_message;
  std::uint64_t read_seq = 0;
  std::uint64_t unread = 0;
};

class Chats {
 public:
  using Done = std::function<void(Result<ChatView>)>;

  Chats(Sequencer& seq, const CoreConfig& config)
      : seq_(seq), config_(config), unread_(seq.store()) {}

  void create(const Principal& who, const proto::CreateChatRequest& req, Done done);
  Result<ChatView> get(const Principal& who, const std::string& chat_id);
  std::vector<ChatListEntry> list(const Principal& who);

  void add_members(const Principal& who, const std::string& chat_id,
                   const std::vector<std::string>& user_ids, Done done);
  void remove_member(const Principal& who, const std::string& chat_id, const std::string& user_id,
                     Done done);
  void set_role(const Principal& who, const std::string& chat_id, const std::string& user_id,
                bool admin, Done done);
  void set_title(const Principal& who, const std::string& chat_id, const std::string& title,
                 Done done);

 private:
  void create_direct(const Principal& who, const std::string& peer, Done done);
  void create_group(const Principal& who, const proto::CreateChatRequest& req, Done done);
  // Checks that every id names an existing user (store reads, outside the lock).
  Status check_users_exist(const std::vector<std::string>& user_ids) const;

  Sequencer& seq_;
  const CoreConfig& config_;
  UnreadCounter unread_;
};

}  // namespace chat::core

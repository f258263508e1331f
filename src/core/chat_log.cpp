#include "core/chat_log.hpp"

#include <algorithm>

#include "base/random.hpp"
#include "proto/render.hpp"

namespace chat::core {

std::shared_ptr<const std::string> append_message(Transaction& tx, ChatState& chat,
                                                  store::MessageRecord& m,
                                                  const std::vector<std::string>& recipients,
                                                  std::int64_t now_ms,
                                                  std::vector<std::uint64_t>* offsets) {
  // ts never goes backwards within a chat (a wall clock can), so `since_ts`
  // can binary-search the log by seq.
  chat.last_ts = std::max(now_ms, chat.last_ts);
  chat.activity_ts = chat.last_ts;
  m.chat_id = chat.record.chat_id;
  m.seq = ++chat.assigned_seq;
  m.ts = chat.last_ts;
  if (m.message_id.empty()) m.message_id = new_id('m');
  auto json = std::make_shared<const std::string>(proto::message_json(m));
  auto tail = std::make_shared<const std::string>(proto::message_event_tail(*json));
  auto ref = std::make_shared<const MessageRef>(MessageRef{m.chat_id, m.seq, m.sender});
  tx.put(store::PutMessage{m});
  if (offsets) {
    offsets->clear();
    offsets->reserve(recipients.size());
  }
  for (const auto& user : recipients) {
    const std::uint64_t offset =
        tx.add_event(user, {.kind = store::EventKind::message, .chat_id = m.chat_id, .seq = m.seq},
                     tail, now_ms, ref);
    if (offsets) offsets->push_back(offset);
  }
  tx.commit_seq(m.chat_id, m.seq);
  return json;
}

std::shared_ptr<const std::string> record_chat_version(Transaction& tx, const ChatState& chat,
                                                       const std::vector<std::string>& recipients,
                                                       std::int64_t now_ms) {
  auto json = std::make_shared<const std::string>(
      proto::chat_json(chat.record, chat.members, chat.assigned_seq));
  auto tail = std::make_shared<const std::string>(proto::chat_event_tail(*json));
  tx.put(store::PutChatVersion{{chat.record.chat_id, chat.assigned_seq, *json}});
  for (const auto& user : recipients) {
    tx.add_event(
        user,
        {.kind = store::EventKind::chat, .chat_id = chat.record.chat_id, .seq = chat.assigned_seq},
        tail, now_ms);
  }
  tx.commit_seq(chat.record.chat_id, chat.assigned_seq);
  return json;
}

std::vector<std::string> member_ids(const ChatState& chat) {
  std::vector<std::string> ids;
  ids.reserve(chat.members.size());
  for (const auto& m : chat.members)
    ids.push_back(m.user_id);
  return ids;
}

}  // namespace chat::core

#include "core/chats.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <optional>
#include <set>

#include "base/random.hpp"
#include "core/chat_log.hpp"
#include "core/validation.hpp"
#include "proto/render.hpp"

namespace chat::core {
namespace json = boost::json;
namespace {

// The group `chat_id` when `user_id` is one of its admins; else the error the
// caller answers with (404 for non-members: no existence leak).
Result<ChatState*> group_for_admin(Directory& dir, const std::string& chat_id,
                                   const std::string& user_id, std::string_view direct_error,
                                   std::string_view forbidden_error) {
  ChatState* chat = dir.chat_for_member(chat_id, user_id);
  if (!chat || !chat->committed) return not_found("chat not found");
  if (!chat->is_group()) return bad_request(std::string(direct_error));
  if (chat->member(user_id)->role != store::Role::admin) {
    return forbidden(std::string(forbidden_error));
  }
  return chat;
}

store::MessageRecord system_message(json::object change) {
  store::MessageRecord m;
  m.kind = "system";
  m.system_json = json::serialize(change);
  return m;
}

json::array to_json_array(const std::vector<std::string>& ids) {
  json::array a;
  for (const auto& id : ids)
    a.emplace_back(id);
  return a;
}

// Completes `done` with the chat object once the transaction is durable.
void reply_after_commit(Transaction& tx, const ChatState& chat,
                        std::shared_ptr<const std::string> json, bool created, Chats::Done done) {
  tx.on_committed(
      [id = chat.record.chat_id, json = std::move(json), created, done = std::move(done)] {
        done(ChatView{id, json, created});
      });
}

std::shared_ptr<const std::string> current_json(const ChatState& chat) {
  return std::make_shared<const std::string>(
      proto::chat_json(chat.record, chat.members, chat.committed_seq));
}

}  // namespace

Status Chats::check_users_exist(const std::vector<std::string>& user_ids) const {
  for (const auto& id : user_ids) {
    if (!plausible_id(id, 'u') || !seq_.store().get_user(id)) {
      return not_found("user " + id + " not found");
    }
  }
  return ok_status();
}

void Chats::create(const Principal& who, const proto::CreateChatRequest& req, Done done) {
  if (req.group) return create_group(who, req, std::move(done));
  create_direct(who, req.peer, std::move(done));
}

void Chats::create_direct(const Principal& who, const std::string& peer, Done done) {
  if (peer == who.user_id) return done(bad_request("a direct chat needs another user"));
  if (auto s = check_users_exist({peer}); !s) return done(s.take_error());
  const std::int64_t now = seq_.clock().now_ms();
  const auto key = std::minmax(who.user_id, peer);
  seq_.transact([&](Transaction& tx) {
    Directory& dir = tx.directory();
    if (auto it = dir.direct.find({key.first, key.second}); it != dir.direct.end()) {
      // Exists (maybe still committing): answer once it is durable.
      ChatState& chat = dir.chats.at(it->second);
      return reply_after_commit(tx, chat, current_json(chat), false, std::move(done));
    }
    ChatState chat;
    chat.record = {new_id('c'), store::ChatType::direct, "", now};
    chat.members = {{chat.record.chat_id, who.user_id, store::Role::member, now},
                    {chat.record.chat_id, peer, store::Role::member, now}};
    chat.activity_ts = now;
    const std::string id = chat.record.chat_id;
    tx.put(store::PutChat{chat.record});
    for (const auto& m : chat.members)
      tx.put(store::PutMember{m});
    tx.put(store::PutDirect{key.first, key.second, id});
    dir.direct[{key.first, key.second}] = id;
    dir.user_chats[who.user_id].insert(id);
    dir.user_chats[peer].insert(id);
    ChatState& stored = dir.chats.emplace(id, std::move(chat)).first->second;
    auto json = record_chat_version(tx, stored, member_ids(stored), now);
    reply_after_commit(tx, stored, std::move(json), true, std::move(done));
  });
}

void Chats::create_group(const Principal& who, const proto::CreateChatRequest& req, Done done) {
  if (auto s = check_label(req.title, config_.limits.max_title_chars, "title"); !s)
    return done(s.take_error());
  std::vector<std::string> others;
  for (const auto& id : req.members) {
    if (id != who.user_id && std::find(others.begin(), others.end(), id) == others.end())
      others.push_back(id);
  }
  if (others.size() + 1 > config_.limits.max_group_members) {
    return done(too_large("a group has at most " +
                          std::to_string(config_.limits.max_group_members) + " members"));
  }
  if (auto s = check_users_exist(others); !s) return done(s.take_error());
  const std::int64_t now = seq_.clock().now_ms();
  seq_.transact([&](Transaction& tx) {
    Directory& dir = tx.directory();
    ChatState chat;
    chat.record = {new_id('c'), store::ChatType::group, req.title, now};
    chat.members.push_back({chat.record.chat_id, who.user_id, store::Role::admin, now});
    for (const auto& id : others)
      chat.members.push_back({chat.record.chat_id, id, store::Role::member, now});
    const std::string id = chat.record.chat_id;
    tx.put(store::PutChat{chat.record});
    for (const auto& m : chat.members) {
      tx.put(store::PutMember{m});
      dir.user_chats[m.user_id].insert(id);
    }
    ChatState& stored = dir.chats.emplace(id, std::move(chat)).first->second;
    const auto recipients = member_ids(stored);
    auto created =
        system_message({{"action", "created"}, {"by", who.user_id}, {"title", req.title}});
    append_message(tx, stored, created, recipients, now);
    auto json = record_chat_version(tx, stored, recipients, now);
    reply_after_commit(tx, stored, std::move(json), true, std::move(done));
  });
}

Result<ChatView> Chats::get(const Principal& who, const std::string& chat_id) {
  return seq_.read([&](Directory& dir) -> Result<ChatView> {
    const ChatState* chat = dir.chat_for_member(chat_id, who.user_id);
    if (!chat || !chat->committed) return not_found("chat not found");
    return ChatView{chat_id, current_json(*chat), false};
  });
}

std::vector<ChatListEntry> Chats::list(const Principal& who) {
  struct Item {
    std::int64_t activity;
    std::string chat_id;
    std::uint64_t last_seq;
    std::uint64_t read_seq;
    std::string json;
  };
  std::vector<Item> items = seq_.read([&](Directory& dir) {
    std::vector<Item> out;
    auto it = dir.user_chats.find(who.user_id);
    if (it == dir.user_chats.end()) return out;
    for (const auto& id : it->second) {
      const ChatState* chat = dir.chat(id);
      if (!chat || !chat->committed || !chat->member(who.user_id)) continue;
      out.push_back({chat->activity_ts, id, chat->committed_seq,
                     chat->member(who.user_id)->read_seq,
                     proto::chat_json(chat->record, chat->members, chat->committed_seq)});
    }
    return out;
  });
  std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    return a.activity != b.activity ? a.activity > b.activity : a.chat_id < b.chat_id;
  });
  std::vector<ChatListEntry> out;
  out.reserve(items.size());
  for (auto& item : items) {
    ChatListEntry e{item.chat_id, std::move(item.json), std::nullopt, item.read_seq, 0};
    if (item.last_seq > 0) e.last_message = seq_.store().get_message(item.chat_id, item.last_seq);
    e.unread = unread_.count(item.chat_id, who.user_id, item.read_seq, item.last_seq);
    out.push_back(std::move(e));
  }
  return out;
}

void Chats::add_members(const Principal& who, const std::string& chat_id,
                        const std::vector<std::string>& user_ids, Done done) {
  if (user_ids.empty()) return done(bad_request("user_ids must not be empty"));
  if (user_ids.size() > config_.limits.max_group_members) {
    return done(too_large("too many user_ids"));
  }
  if (auto s = check_users_exist(user_ids); !s) return done(s.take_error());
  const std::int64_t now = seq_.clock().now_ms();
  std::optional<Error> error;
  seq_.transact([&](Transaction& tx) {
    Directory& dir = tx.directory();
    auto found = group_for_admin(dir, chat_id, who.user_id, "direct chats have fixed members",
                                 "only admins can add members");
    if (!found) return void(error = found.take_error());
    ChatState* chat = *found;
    std::vector<std::string> added;
    for (const auto& id : user_ids) {
      if (!chat->member(id) && std::find(added.begin(), added.end(), id) == added.end())
        added.push_back(id);
    }
    if (added.empty())
      return reply_after_commit(tx, *chat, current_json(*chat), false, std::move(done));
    if (chat->members.size() + added.size() > config_.limits.max_group_members) {
      return void(error = too_large("a group has at most " +
                                    std::to_string(config_.limits.max_group_members) + " members"));
    }
    for (const auto& id : added) {
      store::MemberRecord m{chat_id, id, store::Role::member, now};
      chat->members.push_back(m);
      tx.put(store::PutMember{m});
      dir.user_chats[id].insert(chat_id);
    }
    const auto recipients = member_ids(*chat);
    auto msg = system_message(
        {{"action", "members_added"}, {"by", who.user_id}, {"user_ids", to_json_array(added)}});
    append_message(tx, *chat, msg, recipients, now);
    auto json = record_chat_version(tx, *chat, recipients, now);
    reply_after_commit(tx, *chat, std::move(json), false, std::move(done));
  });
  if (error) done(std::move(*error));
}

void Chats::remove_member(const Principal& who, const std::string& chat_id,
                          const std::string& user_id, Done done) {
  const std::int64_t now = seq_.clock().now_ms();
  std::optional<Error> error;
  seq_.transact([&](Transaction& tx) {
    Directory& dir = tx.directory();
    ChatState* chat = dir.chat_for_member(chat_id, who.user_id);
    if (!chat || !chat->committed) return void(error = not_found("chat not found"));
    if (!chat->is_group()) return void(error = bad_request("direct chats have fixed members"));
    const bool self = user_id == who.user_id;
    if (!self && chat->member(who.user_id)->role != store::Role::admin)
      return void(error = forbidden("only admins can remove others"));
    if (!chat->member(user_id)) return void(error = not_found("not a member"));

    // The removed member gets the system message and the chat version too, so
    // its devices learn it is out; nothing of the chat reaches it afterwards.
    const auto recipients = member_ids(*chat);
    std::erase_if(chat->members, [&](const auto& m) { return m.user_id == user_id; });
    tx.put(store::DeleteMember{chat_id, user_id});
    dir.user_chats[user_id].erase(chat_id);
    json::object change{{"action", "member_removed"}, {"by", who.user_id}, {"user_id", user_id}};
    // A group never stays without an admin: the longest-standing member takes over.
    const bool has_admin = std::any_of(chat->members.begin(), chat->members.end(),
                                       [](const auto& m) { return m.role == store::Role::admin; });
    if (!has_admin && !chat->members.empty()) {
      auto oldest =
          std::min_element(chat->members.begin(), chat->members.end(),
                           [](const auto& a, const auto& b) { return a.joined_ts < b.joined_ts; });
      oldest->role = store::Role::admin;
      tx.put(store::PutMember{*oldest});
      change["promoted"] = oldest->user_id;
    }
    auto msg = system_message(std::move(change));
    append_message(tx, *chat, msg, recipients, now);
    auto json = record_chat_version(tx, *chat, recipients, now);
    reply_after_commit(tx, *chat, std::move(json), false, std::move(done));
  });
  if (error) done(std::move(*error));
}

void Chats::set_role(const Principal& who, const std::string& chat_id, const std::string& user_id,
                     bool admin, Done done) {
  const std::int64_t now = seq_.clock().now_ms();
  std::optional<Error> error;
  seq_.transact([&](Transaction& tx) {
    auto found = group_for_admin(tx.directory(), chat_id, who.user_id, "direct chats have no roles",
                                 "only admins can change roles");
    if (!found) return void(error = found.take_error());
    ChatState* chat = *found;
    store::MemberRecord* target = chat->member(user_id);
    if (!target) return void(error = not_found("not a member"));
    const store::Role role = admin ? store::Role::admin : store::Role::member;
    if (target->role == role) {
      return reply_after_commit(tx, *chat, current_json(*chat), false, std::move(done));
    }
    if (!admin) {
      const auto admins = std::count_if(chat->members.begin(), chat->members.end(),
                                        [](const auto& m) { return m.role == store::Role::admin; });
      if (admins == 1) return void(error = Error{ErrorCode::conflict, "a group needs an admin"});
    }
    target->role = role;
    tx.put(store::PutMember{*target});
    const auto recipients = member_ids(*chat);
    auto msg = system_message({{"action", "role_changed"},
                               {"by", who.user_id},
                               {"user_id", user_id},
                               {"role", admin ? "admin" : "member"}});
    append_message(tx, *chat, msg, recipients, now);
    auto json = record_chat_version(tx, *chat, recipients, now);
    reply_after_commit(tx, *chat, std::move(json), false, std::move(done));
  });
  if (error) done(std::move(*error));
}

void Chats::set_title(const Principal& who, const std::string& chat_id, const std::string& title,
                      Done done) {
  if (auto s = check_label(title, config_.limits.max_title_chars, "title"); !s)
    return done(s.take_error());
  const std::int64_t now = seq_.clock().now_ms();
  std::optional<Error> error;
  seq_.transact([&](Transaction& tx) {
    auto found = group_for_admin(tx.directory(), chat_id, who.user_id, "direct chats have no title",
                                 "only admins can change the title");
    if (!found) return void(error = found.take_error());
    ChatState* chat = *found;
    if (chat->record.title == title) {
      return reply_after_commit(tx, *chat, current_json(*chat), false, std::move(done));
    }
    chat->record.title = title;
    tx.put(store::PutChat{chat->record});
    const auto recipients = member_ids(*chat);
    auto msg = system_message({{"action", "title_changed"}, {"by", who.user_id}, {"title", title}});
    append_message(tx, *chat, msg, recipients, now);
    auto json = record_chat_version(tx, *chat, recipients, now);
    reply_after_commit(tx, *chat, std::move(json), false, std::move(done));
  });
  if (error) done(std::move(*error));
}

}  // namespace chat::core

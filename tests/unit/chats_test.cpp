// core/chats over a real ChatCore and RocksDB store: direct chats, groups,
// membership and title changes as system messages, visibility.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "base/random.hpp"
#include "core/validation.hpp"
#include "test_support.hpp"

namespace chat::test {
namespace {
namespace json = boost::json;
using core::ChatView;

class ChatsTest : public DomainTest {
 protected:
  using Done = core::Chats::Done;

  Result<ChatView> add(const core::Principal& who, const std::string& chat,
                       std::vector<std::string> ids) {
    return await<Result<ChatView>>(
        [&](auto cb) { core().chats().add_members(who, chat, ids, std::move(cb)); });
  }
  Result<ChatView> remove(const core::Principal& who, const std::string& chat,
                          const std::string& user) {
    return await<Result<ChatView>>(
        [&](auto cb) { core().chats().remove_member(who, chat, user, std::move(cb)); });
  }
  Result<ChatView> role(const core::Principal& who, const std::string& chat,
                        const std::string& user, bool admin) {
    return await<Result<ChatView>>(
        [&](auto cb) { core().chats().set_role(who, chat, user, admin, std::move(cb)); });
  }
  Result<ChatView> title(const core::Principal& who, const std::string& chat,
                         const std::string& t) {
    return await<Result<ChatView>>(
        [&](auto cb) { core().chats().set_title(who, chat, t, std::move(cb)); });
  }

  static json::object obj(const ChatView& v) { return parse_json_object(*v.json); }
  static std::uint64_t last_seq(const ChatView& v) {
    return obj(v).at("last_seq").to_number<std::uint64_t>();
  }
  // user_id -> role, from a rendered chat object.
  static std::map<std::string, std::string> roles(const ChatView& v) {
    std::map<std::string, std::string> out;
    const json::object chat = obj(v);
    for (const auto& m : chat.at("members").as_array()) {
      out[std::string(m.as_object().at("user_id").as_string())] =
          std::string(m.as_object().at("role").as_string());
    }
    return out;
  }

  std::vector<store::MessageRecord> log(const core::Principal& who, const std::string& chat) {
    core::HistoryQuery q;
    q.after = 0;
    q.limit = 200;
    auto r = core().history().page(who, chat, q);
    if (!r) throw std::runtime_error("history: " + error_text(r.error()));
    return *r;
  }

  // The seqs of `chat`'s message events in `user`'s stream, in stream order.
  std::vector<std::uint64_t> message_events(const std::string& user, const std::string& chat) {
    std::vector<std::uint64_t> seqs;
    for (auto& e : events_of(user)) {
      if (e.at("type") != "message") continue;
      const auto& m = e.at("message").as_object();
      if (m.at("chat_id") == json::value(chat))
        seqs.push_back(m.at("seq").to_number<std::uint64_t>());
    }
    return seqs;
  }
  int chat_events(const std::string& user, const std::string& chat) {
    int n = 0;
    for (auto& e : events_of(user)) {
      if (e.at("type") == "chat" && e.at("chat").as_object().at("chat_id") == json::value(chat))
        ++n;
    }
    return n;
  }
};

std::vector<std::uint64_t> range(std::uint64_t from, std::uint64_t to) {
  std::vector<std::uint64_t> out;
  for (std::uint64_t s = from; s <= to; ++s)
    out.push_back(s);
  return out;
}

// ---- direct chats ---------------------------------------------------------------

TEST_F(ChatsTest, DirectChatIsUniquePerPair) {
  core::Principal a = new_user(), b = new_user(), c = new_user();
  auto first = create_direct(a, b.user_id);
  ASSERT_TRUE(first.ok()) << error_text(first.error());
  EXPECT_TRUE(first->created);
  EXPECT_TRUE(core::plausible_id(first->chat_id, 'c'));
  auto o = obj(*first);
  EXPECT_EQ(o.at("chat_id"), json::value(first->chat_id));
  EXPECT_EQ(o.at("type"), "direct");
  EXPECT_EQ(o.at("last_seq").to_number<std::uint64_t>(), 0u);
  EXPECT_EQ(roles(*first),
            (std::map<std::string, std::string>{{a.user_id, "member"}, {b.user_id, "member"}}));

  auto from_peer = create_direct(b, a.user_id);
  ASSERT_TRUE(from_peer.ok());
  EXPECT_FALSE(from_peer->created);
  EXPECT_EQ(from_peer->chat_id, first->chat_id);
  auto again = create_direct(a, b.user_id);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->chat_id, first->chat_id);

  auto other = create_direct(a, c.user_id);
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(other->created);
  EXPECT_NE(other->chat_id, first->chat_id);

  // Each member got exactly one chat event for it; the outsider none.
  EXPECT_EQ(chat_events(a.user_id, first->chat_id), 1);
  EXPECT_EQ(chat_events(b.user_id, first->chat_id), 1);
  EXPECT_EQ(chat_events(c.user_id, first->chat_id), 0);

  reopen();
  auto after_restart = create_direct(b, a.user_id);
  ASSERT_TRUE(after_restart.ok());
  EXPECT_FALSE(after_restart->created);
  EXPECT_EQ(after_restart->chat_id, first->chat_id);
}

TEST_F(ChatsTest, SimultaneousDirectCreationsGiveOneChat) {
  core::Principal a = new_user(), b = new_user();
  proto::CreateChatRequest to_b, to_a;
  to_b.peer = b.user_id;
  to_a.peer = a.user_id;
  Waiter<Result<ChatView>> w1, w2;
  core().chats().create(a, to_b, w1.callback());
  core().chats().create(b, to_a, w2.callback());
  auto r1 = w1.get();
  auto r2 = w2.get();
  ASSERT_TRUE(r1.ok());
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r1->chat_id, r2->chat_id);
  EXPECT_NE(r1->created, r2->created);  // exactly one created it
  EXPECT_EQ(chat_events(a.user_id, r1->chat_id), 1);
}

TEST_F(ChatsTest, DirectChatNeedsAnotherExistingUser) {
  core::Principal a = new_user();
  auto self = create_direct(a, a.user_id);
  ASSERT_FALSE(self.ok());
  EXPECT_EQ(self.error().code, ErrorCode::bad_request);
  EXPECT_EQ(create_direct(a, new_id('u')).error().code, ErrorCode::not_found);
  EXPECT_EQ(create_direct(a, "bogus").error().code, ErrorCode::not_found);
  EXPECT_TRUE(core().chats().list(a).empty());
}

TEST_F(ChatsTest, DirectChatsHaveFixedMembersAndNoTitle) {
  core::Principal a = new_user(), b = new_user(), c = new_user();
  auto chat = create_direct(a, b.user_id);
  ASSERT_TRUE(chat.ok());
  EXPECT_EQ(add(a, chat->chat_id, {c.user_id}).error().code, ErrorCode::bad_request);
  EXPECT_EQ(remove(a, chat->chat_id, b.user_id).error().code, ErrorCode::bad_request);
  EXPECT_EQ(title(a, chat->chat_id, "x").error().code, ErrorCode::bad_request);
  EXPECT_EQ(role(a, chat->chat_id, b.user_id, true).error().code, ErrorCode::bad_request);
}

// ---- groups -----------------------------------------------------------------------

TEST_F(ChatsTest, GroupChangesAreSystemMessagesWithConsecutiveSeqs) {
  core::Principal a = new_user(), b = new_user(), c = new_user();
  auto created = create_group(a, "Team", {b.user_id, a.user_id, b.user_id});  // dups ignored
  ASSERT_TRUE(created.ok()) << error_text(created.error());
  EXPECT_TRUE(created->created);
  const std::string id = created->chat_id;
  auto o = obj(*created);
  EXPECT_EQ(o.at("type"), "group");
  EXPECT_EQ(o.at("title"), "Team");
  EXPECT_EQ(last_seq(*created), 1u);
  EXPECT_EQ(roles(*created),
            (std::map<std::string, std::string>{{a.user_id, "admin"}, {b.user_id, "member"}}));

  clock_.advance(1000);
  auto added = add(a, id, {c.user_id});
  ASSERT_TRUE(added.ok()) << error_text(added.error());
  EXPECT_EQ(last_seq(*added), 2u);
  EXPECT_EQ(roles(*added).size(), 3u);

  auto promoted = role(a, id, c.user_id, true);
  ASSERT_TRUE(promoted.ok()) << error_text(promoted.error());
  EXPECT_EQ(last_seq(*promoted), 3u);
  EXPECT_EQ(roles(*promoted)[c.user_id], "admin");

  auto renamed = title(a, id, "Renamed");
  ASSERT_TRUE(renamed.ok()) << error_text(renamed.error());
  EXPECT_EQ(last_seq(*renamed), 4u);
  EXPECT_EQ(obj(*renamed).at("title"), "Renamed");

  auto removed = remove(c, id, b.user_id);  // c is an admin now
  ASSERT_TRUE(removed.ok()) << error_text(removed.error());
  EXPECT_EQ(last_seq(*removed), 5u);
  EXPECT_EQ(roles(*removed),
            (std::map<std::string, std::string>{{a.user_id, "admin"}, {c.user_id, "admin"}}));

  auto messages = log(a, id);
  ASSERT_EQ(messages.size(), 5u);
  const char* actions[] = {"created", "members_added", "role_changed", "title_changed",
                           "member_removed"};
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const auto& m = messages[i];
    EXPECT_EQ(m.seq, i + 1);
    EXPECT_EQ(m.kind, "system");
    EXPECT_TRUE(m.sender.empty());
    auto change = parse_json_object(m.system_json);
    EXPECT_EQ(change.at("action"), json::value(actions[i])) << m.system_json;
  }
  auto change = [&](int i) { return parse_json_object(messages[i].system_json); };
  EXPECT_EQ(change(0).at("title"), "Team");
  EXPECT_EQ(change(0).at("by"), json::value(a.user_id));
  EXPECT_EQ(change(1).at("user_ids"), json::value(json::array{json::value(c.user_id)}));
  EXPECT_EQ(change(2).at("user_id"), json::value(c.user_id));
  EXPECT_EQ(change(2).at("role"), "admin");
  EXPECT_EQ(change(3).at("title"), "Renamed");
  EXPECT_EQ(change(4).at("user_id"), json::value(b.user_id));
  EXPECT_EQ(change(4).at("by"), json::value(c.user_id));

  // The chat as seen now, also after a restart.
  auto now = core().chats().get(a, id);
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(last_seq(*now), 5u);
  reopen();
  auto restarted = core().chats().get(c, id);
  ASSERT_TRUE(restarted.ok());
  EXPECT_EQ(last_seq(*restarted), 5u);
  EXPECT_EQ(obj(*restarted).at("title"), "Renamed");
  EXPECT_EQ(roles(*restarted),
            (std::map<std::string, std::string>{{a.user_id, "admin"}, {c.user_id, "admin"}}));
  // And the next change continues the sequence.
  auto next = title(a, id, "Again");
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(last_seq(*next), 6u);
}

TEST_F(ChatsTest, MembersSeeChangesFromTheirJoinAndRemovedMembersStopSeeing) {
  core::Principal a = new_user(), b = new_user(), c = new_user();
  const std::string id = group_id(a, {b.user_id});
  ASSERT_TRUE(add(a, id, {c.user_id}).ok());   // seq 2
  ASSERT_TRUE(title(a, id, "T2").ok());        // seq 3
  ASSERT_TRUE(remove(a, id, b.user_id).ok());  // seq 4: b still gets this one
  send_ok(a, id, "after b left");              // seq 5

  EXPECT_EQ(message_events(a.user_id, id), range(1, 5));
  EXPECT_EQ(message_events(b.user_id, id), range(1, 4));
  EXPECT_EQ(message_events(c.user_id, id), range(2, 5));
  // One chat event per change the user was part of.
  EXPECT_EQ(chat_events(a.user_id, id), 4);
  EXPECT_EQ(chat_events(b.user_id, id), 4);
  EXPECT_EQ(chat_events(c.user_id, id), 3);

  // b's last chat event shows the chat without b.
  boost::json::object last_chat;
  for (auto& e : events_of(b.user_id)) {
    if (e.at("type") == "chat") last_chat = e.at("chat").as_object();
  }
  for (const auto& m : last_chat.at("members").as_array()) {
    EXPECT_NE(m.as_object().at("user_id"), json::value(b.user_id));
  }

  // b can no longer see or use the chat.
  EXPECT_EQ(core().chats().get(b, id).error().code, ErrorCode::not_found);
  core::HistoryQuery q;
  EXPECT_EQ(core().history().page(b, id, q).error().code, ErrorCode::not_found);
  EXPECT_EQ(send(b, text(id, "x", "let me in")).error().code, ErrorCode::not_found);
  EXPECT_TRUE(core().chats().list(b).empty());
}

TEST_F(ChatsTest, NonMembersGetNotFound) {
  core::Principal a = new_user(), b = new_user(), outsider = new_user();
  const std::string id = group_id(a, {b.user_id});
  const std::string missing = new_id('c');
  for (const std::string& chat : {id, missing, std::string("garbage")}) {
    EXPECT_EQ(core().chats().get(outsider, chat).error().code, ErrorCode::not_found) << chat;
    EXPECT_EQ(add(outsider, chat, {outsider.user_id}).error().code, ErrorCode::not_found);
    EXPECT_EQ(remove(outsider, chat, b.user_id).error().code, ErrorCode::not_found);
    EXPECT_EQ(role(outsider, chat, b.user_id, true).error().code, ErrorCode::not_found);
    EXPECT_EQ(title(outsider, chat, "mine").error().code, ErrorCode::not_found);
    EXPECT_EQ(send(outsider, text(chat, "cm", "hi")).error().code, ErrorCode::not_found);
    core::HistoryQuery q;
    EXPECT_EQ(core().history().page(outsider, chat, q).error().code, ErrorCode::not_found);
  }
  EXPECT_TRUE(core().chats().list(outsider).empty());
  EXPECT_EQ(message_events(outsider.user_id, id).size(), 0u);
  // Nothing changed.
  EXPECT_EQ(last_seq(*core().chats().get(a, id)), 1u);
}

TEST_F(ChatsTest, OnlyAdminsChangeTheGroup) {
  core::Principal a = new_user(), b = new_user(), c = new_user(), d = new_user();
  const std::string id = group_id(a, {b.user_id, c.user_id});
  EXPECT_EQ(add(b, id, {d.user_id}).error().code, ErrorCode::forbidden);
  EXPECT_EQ(remove(b, id, c.user_id).error().code, ErrorCode::forbidden);
  EXPECT_EQ(role(b, id, b.user_id, true).error().code, ErrorCode::forbidden);
  EXPECT_EQ(title(b, id, "coup").error().code, ErrorCode::forbidden);
  EXPECT_EQ(last_seq(*core().chats().get(a, id)), 1u);

  // Any member may leave.
  auto left = remove(b, id, b.user_id);
  ASSERT_TRUE(left.ok()) << error_text(left.error());
  EXPECT_EQ(last_seq(*left), 2u);
  EXPECT_EQ(roles(*left).count(b.user_id), 0u);
  // Removing a non-member is not_found.
  EXPECT_EQ(remove(a, id, d.user_id).error().code, ErrorCode::not_found);
  EXPECT_EQ(role(a, id, d.user_id, true).error().code, ErrorCode::not_found);
}

TEST_F(ChatsTest, GroupAlwaysKeepsAnAdmin) {
  core::Principal a = new_user(), b = new_user(), c = new_user();
  const std::string id = group_id(a, {b.user_id});
  clock_.advance(5000);
  ASSERT_TRUE(add(a, id, {c.user_id}).ok());

  auto demote = role(a, id, a.user_id, false);
  ASSERT_FALSE(demote.ok());
  EXPECT_EQ(demote.error().code, ErrorCode::conflict);

  // The only admin leaves: the longest-standing member (b) takes over.
  auto left = remove(a, id, a.user_id);
  ASSERT_TRUE(left.ok()) << error_text(left.error());
  EXPECT_EQ(roles(*left),
            (std::map<std::string, std::string>{{b.user_id, "admin"}, {c.user_id, "member"}}));
  auto messages = log(b, id);
  ASSERT_FALSE(messages.empty());
  auto change = parse_json_object(messages.back().system_json);
  EXPECT_EQ(change.at("action"), "member_removed");
  EXPECT_EQ(change.at("promoted"), json::value(b.user_id));
  EXPECT_TRUE(title(b, id, "b's now").ok());
}

TEST_F(ChatsTest, NoOpChangesAppendNothing) {
  core::Principal a = new_user(), b = new_user();
  const std::string id = group_id(a, {b.user_id});
  auto same_member = add(a, id, {b.user_id, a.user_id});
  ASSERT_TRUE(same_member.ok());
  EXPECT_EQ(last_seq(*same_member), 1u);
  auto same_role = role(a, id, b.user_id, false);
  ASSERT_TRUE(same_role.ok());
  EXPECT_EQ(last_seq(*same_role), 1u);
  auto same_title = title(a, id, "group");
  ASSERT_TRUE(same_title.ok());
  EXPECT_EQ(last_seq(*same_title), 1u);
  EXPECT_EQ(log(a, id).size(), 1u);
  EXPECT_EQ(message_events(b.user_id, id), range(1, 1));
}

TEST_F(ChatsTest, GroupInputValidation) {
  core::Principal a = new_user(), b = new_user();
  EXPECT_EQ(create_group(a, "", {b.user_id}).error().code, ErrorCode::bad_request);
  EXPECT_EQ(create_group(a, "line\nbreak", {b.user_id}).error().code, ErrorCode::bad_request);
  EXPECT_EQ(create_group(a, std::string(129, 't'), {b.user_id}).error().code, ErrorCode::too_large);
  EXPECT_TRUE(create_group(a, std::string(128, 't'), {b.user_id}).ok());
  EXPECT_EQ(create_group(a, "T", {b.user_id, new_id('u')}).error().code, ErrorCode::not_found);
  EXPECT_EQ(create_group(a, "T", {"not-an-id"}).error().code, ErrorCode::not_found);
  auto solo = create_group(a, "Just me", {});
  ASSERT_TRUE(solo.ok());
  EXPECT_EQ(roles(*solo).size(), 1u);

  const std::string id = group_id(a, {b.user_id});
  EXPECT_EQ(add(a, id, {}).error().code, ErrorCode::bad_request);
  EXPECT_EQ(add(a, id, {new_id('u')}).error().code, ErrorCode::not_found);
  EXPECT_EQ(title(a, id, "").error().code, ErrorCode::bad_request);
  EXPECT_EQ(last_seq(*core().chats().get(a, id)), 1u);
}

TEST_F(ChatsTest, GroupSizeLimit) {
  config_.limits.max_group_members = 3;
  reopen();
  core::Principal a = new_user(), b = new_user(), c = new_user(), d = new_user();
  auto too_many = create_group(a, "big", {b.user_id, c.user_id, d.user_id});
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(too_many.error().code, ErrorCode::too_large);

  const std::string id = group_id(a, {b.user_id, c.user_id});  // exactly the limit
  auto over = add(a, id, {d.user_id});
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code, ErrorCode::too_large);
  ASSERT_TRUE(remove(a, id, c.user_id).ok());
  EXPECT_TRUE(add(a, id, {d.user_id}).ok());
}

TEST_F(ChatsTest, ListIsMostRecentActivityFirstWithLastMessage) {
  core::Principal a = new_user(), b = new_user(), c = new_user();
  auto direct = create_direct(a, b.user_id);
  ASSERT_TRUE(direct.ok());
  clock_.advance(1000);
  const std::string group = group_id(a, {c.user_id});
  clock_.advance(1000);
  auto list = core().chats().list(a);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(parse_json_object(list[0].chat_json).at("chat_id"), json::value(group));
  ASSERT_TRUE(list[0].last_message.has_value());
  EXPECT_EQ(list[0].last_message->kind, "system");
  EXPECT_FALSE(list[1].last_message.has_value());  // the direct chat has no messages yet

  send_ok(b, direct->chat_id, "newest");
  list = core().chats().list(a);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(parse_json_object(list[0].chat_json).at("chat_id"), json::value(direct->chat_id));
  ASSERT_TRUE(list[0].last_message.has_value());
  EXPECT_EQ(list[0].last_message->body, "newest");
  EXPECT_EQ(parse_json_object(list[0].chat_json).at("last_seq").to_number<std::uint64_t>(), 1u);

  reopen();
  list = core().chats().list(a);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(parse_json_object(list[0].chat_json).at("chat_id"), json::value(direct->chat_id));
  EXPECT_EQ(core().chats().list(b).size(), 1u);
}

}  // namespace
}  // namespace chat::test

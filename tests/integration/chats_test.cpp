// Chats: direct chats unique per pair, group lifecycle as system messages,
// membership and admin rules, refusals for non-members and bad tokens.
// PROTOCOL.md "Chats".
#include <gtest/gtest.h>

#include <algorithm>

#include "fixtures.hpp"

namespace chat::test {
namespace {

const json::object* member_entry(const json::object& chat, const std::string& user_id) {
  for (const auto& m : chat.at("members").as_array()) {
    if (m.as_object().at("user_id") == user_id.c_str()) return &m.as_object();
  }
  return nullptr;
}

std::string role_of(const json::object& chat, const std::string& user_id) {
  const auto* m = member_entry(chat, user_id);
  return m == nullptr ? "<absent>" : client::string_field(*m, "role");
}

const json::object& system_of(const json::object& message) {
  return message.at("system").as_object();
}

TEST(Chats, DirectChatIsUniquePerPair) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account(),
                carol = server.new_account();

  auto first = http.post("/v1/chats", {{"type", "direct"}, {"user_id", bob.user_id}}, alice.token);
  ASSERT_EQ(first.status, 201) << describe(first);
  const auto chat = first.json().as_object();
  const std::string chat_id = client::string_field(chat, "chat_id");
  EXPECT_EQ(chat.at("type"), "direct");
  EXPECT_EQ(chat.at("members").as_array().size(), 2u) << first.body;
  EXPECT_NE(member_entry(chat, alice.user_id), nullptr) << first.body;
  EXPECT_NE(member_entry(chat, bob.user_id), nullptr) << first.body;
  EXPECT_EQ(client::int_field(chat, "last_seq"), 0) << "a direct chat has no system message";

  auto again = http.post("/v1/chats", {{"type", "direct"}, {"user_id", bob.user_id}}, alice.token);
  EXPECT_EQ(again.status, 200) << describe(again);
  EXPECT_EQ(client::string_field(again.json().as_object(), "chat_id"), chat_id);

  auto reverse =
      http.post("/v1/chats", {{"type", "direct"}, {"user_id", alice.user_id}}, bob.token);
  EXPECT_EQ(reverse.status, 200) << describe(reverse);
  EXPECT_EQ(client::string_field(reverse.json().as_object(), "chat_id"), chat_id);

  auto other = http.post("/v1/chats", {{"type", "direct"}, {"user_id", bob.user_id}}, carol.token);
  EXPECT_EQ(other.status, 201) << describe(other);
  EXPECT_NE(client::string_field(other.json().as_object(), "chat_id"), chat_id);

  // The first text message of a direct chat is seq 1.
  auto sent = http.post("/v1/chats/" + chat_id + "/messages",
                        {{"client_msg_id", "first"}, {"body", "hi"}}, alice.token);
  ASSERT_EQ(sent.status, 201) << describe(sent);
  EXPECT_EQ(client::int_field(sent.json().as_object(), "seq"), 1);

  auto unknown =
      http.post("/v1/chats", {{"type", "direct"}, {"user_id", "u0123456789abcdef"}}, alice.token);
  EXPECT_EQ(unknown.status, 404) << describe(unknown);
  auto self = http.post("/v1/chats", {{"type", "direct"}, {"user_id", alice.user_id}}, alice.token);
  EXPECT_EQ(self.status, 400) << describe(self);
}

TEST(Chats, GroupChangesAreSystemMessagesWithConsecutiveSeqs) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account(),
                carol = server.new_account();
  auto ws_bob = server.connect_ws(bob.token);

  auto created = http.post(
      "/v1/chats", {{"type", "group"}, {"title", "Team"}, {"members", {bob.user_id}}}, alice.token);
  ASSERT_EQ(created.status, 201) << describe(created);
  const auto chat = created.json().as_object();
  const std::string id = client::string_field(chat, "chat_id");
  EXPECT_EQ(chat.at("type"), "group");
  EXPECT_EQ(chat.at("title"), "Team");
  EXPECT_EQ(role_of(chat, alice.user_id), "admin") << created.body;
  EXPECT_EQ(role_of(chat, bob.user_id), "member") << created.body;
  EXPECT_EQ(client::int_field(chat, "last_seq"), 1) << created.body;

  auto added =
      http.post("/v1/chats/" + id + "/members", {{"user_ids", {carol.user_id}}}, alice.token);
  ASSERT_EQ(added.status, 200) << describe(added);
  EXPECT_EQ(role_of(added.json().as_object(), carol.user_id), "member") << added.body;

  auto promoted =
      http.patch("/v1/chats/" + id + "/members/" + bob.user_id, {{"role", "admin"}}, alice.token);
  ASSERT_EQ(promoted.status / 100, 2) << describe(promoted);

  auto retitled = http.patch("/v1/chats/" + id, {{"title", "Team 2"}}, alice.token);
  ASSERT_EQ(retitled.status / 100, 2) << describe(retitled);

  auto removed = http.del("/v1/chats/" + id + "/members/" + carol.user_id, alice.token);
  ASSERT_EQ(removed.status / 100, 2) << describe(removed);

  auto text = http.post("/v1/chats/" + id + "/messages", {{"client_msg_id", "t"}, {"body", "hey"}},
                        bob.token);
  ASSERT_EQ(text.status, 201) << describe(text);
  EXPECT_EQ(client::int_field(text.json().as_object(), "seq"), 6);

  const auto history = full_history(http, bob, id);
  ASSERT_EQ(history.size(), 6u);
  for (std::size_t i = 0; i < history.size(); ++i) {
    EXPECT_EQ(client::int_field(history[i], "seq"), static_cast<std::int64_t>(i + 1));
  }
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(history[i].at("kind"), "system") << history[i];
    EXPECT_EQ(system_of(history[i]).at("by"), alice.user_id.c_str()) << history[i];
  }
  EXPECT_EQ(system_of(history[0]).at("action"), "created");
  EXPECT_EQ(system_of(history[0]).at("title"), "Team");
  EXPECT_EQ(system_of(history[1]).at("action"), "members_added");
  EXPECT_EQ(system_of(history[1]).at("user_ids"), json::array({carol.user_id.c_str()}));
  EXPECT_EQ(system_of(history[2]).at("action"), "role_changed");
  EXPECT_EQ(system_of(history[2]).at("user_id"), bob.user_id.c_str());
  EXPECT_EQ(system_of(history[3]).at("action"), "title_changed");
  EXPECT_EQ(system_of(history[3]).at("title"), "Team 2");
  EXPECT_EQ(system_of(history[4]).at("action"), "member_removed");
  EXPECT_EQ(system_of(history[4]).at("user_id"), carol.user_id.c_str());
  EXPECT_EQ(history[5].at("kind"), "text");

  // Bob's socket got the same six messages live, in seq order, and `chat`
  // events carrying the changes.
  std::vector<std::int64_t> seqs;
  bool saw_title = false;
  for (;;) {
    auto f = ws_bob->next(5s);
    if (f["type"] == "timeout" || f["type"] == "closed") break;
    if (f["type"] == "chat" && f["chat"].is_object() &&
        f["chat"].as_object()["title"] == "Team 2") {
      saw_title = true;
    }
    if (is_message_event_of(f, id)) seqs.push_back(seq_of(f));
    if (seqs.size() == 6) break;
  }
  EXPECT_EQ(seqs, (std::vector<std::int64_t>{1, 2, 3, 4, 5, 6}));
  EXPECT_TRUE(saw_title) << "no `chat` event with the new title before the text message";

  // The removed member no longer sees the chat.
  EXPECT_EQ(http.get("/v1/chats/" + id, carol.token).status, 404);
  auto chat_now = http.get("/v1/chats/" + id, bob.token);
  ASSERT_EQ(chat_now.status, 200);
  const auto now = chat_now.json().as_object();
  EXPECT_EQ(now.at("title"), "Team 2");
  EXPECT_EQ(role_of(now, bob.user_id), "admin");
  EXPECT_EQ(member_entry(now, carol.user_id), nullptr) << chat_now.body;
  EXPECT_EQ(client::int_field(now, "last_seq"), 6);
}

TEST(Chats, NonMembersGet404OnEveryChatEndpoint) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account(),
                eve = server.new_account();
  const std::string group = create_group(http, alice, "g", {bob.user_id});
  const std::string direct = create_direct(http, alice, bob.user_id);
  const std::string unknown = "c0123456789abcdef";

  for (const auto& [id, who] :
       {std::pair{group, eve}, std::pair{direct, eve}, std::pair{unknown, alice},
        std::pair{std::string("nonsense"), alice}}) {
    const std::string base = "/v1/chats/" + id;
    const std::vector<HttpResponse> answers = {
        http.get(base, who.token),
        http.get(base + "/messages", who.token),
        http.post(base + "/messages", {{"client_msg_id", "x"}, {"body", "intrude"}}, who.token),
        http.post(base + "/members", {{"user_ids", {who.user_id}}}, who.token),
        http.del(base + "/members/" + bob.user_id, who.token),
        http.patch(base + "/members/" + bob.user_id, {{"role", "admin"}}, who.token),
        http.patch(base, {{"title", "mine"}}, who.token),
    };
    for (std::size_t i = 0; i < answers.size(); ++i) {
      EXPECT_EQ(answers[i].status, 404)
          << "chat " << id << ", call " << i << ": " << describe(answers[i]);
      EXPECT_EQ(answers[i].error_code(), "not_found") << "call " << i;
    }
    auto ws = server.connect_ws(who.token);
    auto reply = ws_send(*ws, id, "intrude");
    EXPECT_EQ(reply["type"], "error") << reply;
    EXPECT_EQ(reply["code"], "not_found") << reply;
  }
  // Nothing was written into the chats by the intruder.
  EXPECT_EQ(full_history(http, alice, group).size(), 1u);
  EXPECT_EQ(full_history(http, alice, direct).size(), 0u);
  auto listed = http.get("/v1/chats", eve.token);
  ASSERT_EQ(listed.status, 200) << describe(listed);
  EXPECT_TRUE(listed.json().as_object().at("chats").as_array().empty()) << listed.body;
}

TEST(Chats, BadTokensGet401OnEveryChatEndpoint) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account();
  const std::string group = create_group(http, alice, "g", {bob.user_id});
  const std::string base = "/v1/chats/" + group;
  for (const std::string token : {"", "bogus", "Bearer"}) {
    const std::vector<HttpResponse> answers = {
        http.get("/v1/chats", token),
        http.post("/v1/chats", {{"type", "direct"}, {"user_id", bob.user_id}}, token),
        http.get(base, token),
        http.get(base + "/messages", token),
        http.post(base + "/messages", {{"client_msg_id", "x"}, {"body", "b"}}, token),
        http.post(base + "/members", {{"user_ids", {bob.user_id}}}, token),
        http.del(base + "/members/" + bob.user_id, token),
        http.patch(base + "/members/" + bob.user_id, {{"role", "admin"}}, token),
        http.patch(base, {{"title", "t"}}, token),
    };
    for (std::size_t i = 0; i < answers.size(); ++i) {
      EXPECT_EQ(answers[i].status, 401)
          << "token '" << token << "', call " << i << ": " << describe(answers[i]);
      EXPECT_EQ(answers[i].error_code(), "unauthorized") << "call " << i;
    }
  }
  EXPECT_EQ(full_history(http, alice, group).size(), 1u);
}

TEST(Chats, AdminActionsAreForbiddenToMembers) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account(),
                carol = server.new_account(), dave = server.new_account();
  const std::string id = create_group(http, alice, "g", {bob.user_id, carol.user_id});
  const std::string base = "/v1/chats/" + id;

  const std::vector<std::pair<std::string, HttpResponse>> answers = {
      {"add member", http.post(base + "/members", {{"user_ids", {dave.user_id}}}, bob.token)},
      {"remove other", http.del(base + "/members/" + carol.user_id, bob.token)},
      {"promote self",
       http.patch(base + "/members/" + bob.user_id, {{"role", "admin"}}, bob.token)},
      {"demote admin",
       http.patch(base + "/members/" + alice.user_id, {{"role", "member"}}, bob.token)},
      {"set title", http.patch(base, {{"title", "mine"}}, bob.token)},
  };
  for (const auto& [what, r] : answers) {
    EXPECT_EQ(r.status, 403) << what << ": " << describe(r);
    EXPECT_EQ(r.error_code(), "forbidden") << what;
  }
  EXPECT_EQ(full_history(http, alice, id).size(), 1u) << "a refused action wrote a message";

  // A member may leave on its own.
  auto leave = http.del(base + "/members/" + bob.user_id, bob.token);
  EXPECT_EQ(leave.status / 100, 2) << describe(leave);
  EXPECT_EQ(http.get(base, bob.token).status, 404);
  const auto history = full_history(http, alice, id);
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(system_of(history[1]).at("action"), "member_removed");
  EXPECT_EQ(system_of(history[1]).at("user_id"), bob.user_id.c_str());
}

TEST(Chats, TheLastAdminCannotBeDemotedAndLeavingPromotesTheOldestMember) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account();
  const std::string id = create_group(http, alice, "g", {bob.user_id});
  const std::string base = "/v1/chats/" + id;

  auto demote = http.patch(base + "/members/" + alice.user_id, {{"role", "member"}}, alice.token);
  EXPECT_EQ(demote.status, 409) << describe(demote);
  EXPECT_EQ(demote.error_code(), "conflict");
  EXPECT_EQ(full_history(http, alice, id).size(), 1u);

  // With a second admin, the first may step down; then bob is the last admin.
  auto promote = http.patch(base + "/members/" + bob.user_id, {{"role", "admin"}}, alice.token);
  ASSERT_EQ(promote.status / 100, 2) << describe(promote);
  auto step_down =
      http.patch(base + "/members/" + alice.user_id, {{"role", "member"}}, alice.token);
  ASSERT_EQ(step_down.status / 100, 2) << describe(step_down);
  auto bob_demote = http.patch(base + "/members/" + bob.user_id, {{"role", "member"}}, bob.token);
  EXPECT_EQ(bob_demote.status, 409) << describe(bob_demote);

  EXPECT_EQ(full_history(http, alice, id).size(), 3u) << "created + two role changes";

  // The last admin may leave (docs/protocol.md): a group never stays without
  // an admin, so the longest-standing member is promoted in the same change.
  auto leave = http.del(base + "/members/" + bob.user_id, bob.token);
  ASSERT_EQ(leave.status, 204) << describe(leave);
  const auto history = full_history(http, alice, id);
  ASSERT_EQ(history.size(), 4u);
  const auto& removed = history.back();
  EXPECT_EQ(removed.at("kind"), "system");
  const auto& change = removed.at("system").as_object();
  EXPECT_EQ(change.at("action"), "member_removed");
  EXPECT_EQ(change.at("user_id"), bob.user_id.c_str());
  EXPECT_EQ(change.at("promoted"), alice.user_id.c_str());
  auto chat = http.get(base, alice.token);
  ASSERT_EQ(chat.status, 200) << describe(chat);
  const auto members = chat.json().as_object().at("members").as_array();
  ASSERT_EQ(members.size(), 1u) << chat.body;
  EXPECT_EQ(members[0].as_object().at("role"), "admin") << chat.body;
  // Bob is out: the chat no longer exists for him.
  EXPECT_EQ(http.get(base, bob.token).status, 404);
}

TEST(Chats, ListShowsUnreadCountsAndLastMessage) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account();
  const std::string id = create_direct(http, alice, bob.user_id);
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(http.post("/v1/chats/" + id + "/messages",
                        {{"client_msg_id", "m" + std::to_string(i)}, {"body", "b"}}, alice.token)
                  .status,
              201);
  }
  auto listed = http.get("/v1/chats", bob.token);
  ASSERT_EQ(listed.status, 200) << describe(listed);
  const auto chats = listed.json().as_object().at("chats").as_array();
  ASSERT_EQ(chats.size(), 1u) << listed.body;
  const auto& c = chats[0].as_object();
  EXPECT_EQ(c.at("chat_id"), id.c_str());
  EXPECT_EQ(client::int_field(c, "unread"), 3) << listed.body;
  EXPECT_EQ(client::int_field(c.at("last_message").as_object(), "seq"), 3) << listed.body;
  // The sender's own messages never count as unread.
  auto mine = http.get("/v1/chats", alice.token);
  EXPECT_EQ(
      client::int_field(mine.json().as_object().at("chats").as_array()[0].as_object(), "unread"), 0)
      << mine.body;
}

TEST(Chats, GroupSizeLimitIsEnforced) {
  ChatServer server({"--max-group-members", "3"});
  auto http = server.http();
  std::vector<Account> users;
  for (int i = 0; i < 4; ++i)
    users.push_back(server.new_account());
  auto too_big = http.post("/v1/chats",
                           {{"type", "group"},
                            {"title", "big"},
                            {"members", {users[1].user_id, users[2].user_id, users[3].user_id}}},
                           users[0].token);
  EXPECT_EQ(too_big.status / 100, 4) << describe(too_big);
  const std::string id = create_group(http, users[0], "ok", {users[1].user_id, users[2].user_id});
  auto add =
      http.post("/v1/chats/" + id + "/members", {{"user_ids", {users[3].user_id}}}, users[0].token);
  EXPECT_EQ(add.status / 100, 4) << describe(add);
  EXPECT_EQ(full_history(http, users[0], id).size(), 1u);
}

}  // namespace
}  // namespace chat::test

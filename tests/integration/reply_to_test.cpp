// reply_to (PROTOCOL.md "Messages", docs/protocol.md): a reply names an
// existing seq of the same chat, else bad_request; history and the live event
// carry it; a reply to a message that was deleted later still points at it.
#include <gtest/gtest.h>

#include "state_fixtures.hpp"

namespace chat::test {
namespace {

using namespace state;

HttpResponse post_reply(HttpClient& http, const Account& from, const std::string& chat,
                        const std::string& body, json::value reply_to) {
  return http.post("/v1/chats/" + chat + "/messages",
                   {{"client_msg_id", client::random_client_msg_id()},
                    {"body", body},
                    {"reply_to", std::move(reply_to)}},
                   from.token);
}

TEST(ReplyTo, ReferencesAnExistingSeqOfTheSameChat) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account(),
                carol = server.new_account();
  const std::string chat = create_direct(http, alice, bob.user_id);
  const std::string other = create_direct(http, alice, carol.user_id);
  for (int i = 1; i <= 3; ++i)
    post_text(http, alice, other, "other " + std::to_string(i));
  post_text(http, alice, chat, "question");  // 1

  auto ok = post_reply(http, bob, chat, "answer", 1);
  ASSERT_EQ(ok.status, 201) << describe(ok);
  EXPECT_EQ(client::int_field(ok.json().as_object(), "reply_to"), 1);

  for (const json::value& bad : {json::value(0), json::value(3), json::value(99)}) {
    auto r = post_reply(http, bob, chat, "bad reply", bad);
    EXPECT_EQ(r.status, 400) << "reply_to " << bad << ": " << describe(r);
    EXPECT_EQ(r.error_code(), "bad_request");
  }
  // seq 3 exists in the other chat, not in this one (which has 2).
  auto cross = post_reply(http, alice, chat, "cross", 3);
  EXPECT_EQ(cross.status, 400) << describe(cross);
  auto wrong_type = post_reply(http, bob, chat, "typed", "1");
  EXPECT_EQ(wrong_type.status, 400) << describe(wrong_type);
  auto negative = post_reply(http, bob, chat, "negative", -1);
  EXPECT_EQ(negative.status, 400) << describe(negative);

  // Over the WebSocket, with the live event carrying it.
  auto wa = server.connect_ws(alice.token), wb = server.connect_ws(bob.token);
  auto sent = wa->call({{"type", "send"},
                        {"chat_id", chat},
                        {"client_msg_id", client::random_client_msg_id()},
                        {"body", "follow-up"},
                        {"reply_to", 2}});
  ASSERT_EQ(sent["type"], "ok") << sent;
  EXPECT_EQ(client::int_field(sent, "seq"), 3);
  auto ev = wait_for(*wb, message_event_where(chat, 3), 5s);
  ASSERT_TRUE(is_message_event_of(ev, chat)) << ev;
  EXPECT_EQ(client::int_field(message_of(ev), "reply_to"), 2);
  auto refused = wa->call({{"type", "send"},
                           {"chat_id", chat},
                           {"client_msg_id", client::random_client_msg_id()},
                           {"body", "to the future"},
                           {"reply_to", 4}});
  EXPECT_EQ(refused["type"], "error") << refused;
  EXPECT_EQ(refused["code"], "bad_request") << refused;

  // Nothing was stored by the refusals; history returns reply_to (null when none).
  auto history = full_history(http, alice, chat);
  ASSERT_EQ(history.size(), 3u);
  EXPECT_TRUE(history[0].at("reply_to").is_null()) << history[0];
  EXPECT_EQ(client::int_field(history[1], "reply_to"), 1);
  EXPECT_EQ(client::int_field(history[2], "reply_to"), 2);

  // Deleting the original keeps the reply's reference.
  auto del = http.del("/v1/chats/" + chat + "/messages/1", alice.token);
  ASSERT_EQ(del.status, 204) << describe(del);
  history = full_history(http, bob, chat);
  EXPECT_EQ(client::int_field(history[1], "reply_to"), 1);
  // And a reply to a deleted message is still a reply to an existing seq.
  auto late = post_reply(http, bob, chat, "replying to the deleted one", 1);
  EXPECT_EQ(late.status, 201) << describe(late);
}

}  // namespace
}  // namespace chat::test

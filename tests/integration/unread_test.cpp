// Unread counts and read_seq in GET /v1/chats (PROTOCOL.md "Chats"): messages
// from others, system messages excluded, above the user's read_seq; read
// state is per user, so a read on one device clears the count everywhere and
// the user's other devices get the user's own `read` receipt.
#include <gtest/gtest.h>

#include "state_fixtures.hpp"

namespace chat::test {
namespace {

using namespace state;

TEST(Unread, CountsOnlyOtherMembersNonSystemMessages) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account(),
                carol = server.new_account();
  // seq 1: "created"; seq 2: "members_added" (a second system message).
  const std::string chat = create_group(http, alice, "g", {bob.user_id});
  auto add = http.post("/v1/chats/" + chat + "/members",
                       {{"user_ids", json::array{json::value(carol.user_id)}}}, alice.token);
  ASSERT_EQ(add.status, 200) << describe(add);

  auto fresh = chat_entry(http, bob, chat);
  EXPECT_EQ(client::int_field(fresh, "unread"), 0) << "system messages never count: " << fresh;
  EXPECT_EQ(client::int_field(fresh, "read_seq"), 0) << fresh;

  post_text(http, alice, chat, "a1");  // 3
  post_text(http, alice, chat, "a2");  // 4
  post_text(http, bob, chat, "b1");    // 5
  post_text(http, alice, chat, "a3");  // 6
  post_text(http, carol, chat, "c1");  // 7

  EXPECT_EQ(unread_of(http, alice, chat), 2) << "bob's and carol's";
  EXPECT_EQ(unread_of(http, bob, chat), 4) << "alice's three and carol's";
  EXPECT_EQ(unread_of(http, carol, chat), 4) << "alice's three and bob's";

  // Bob reads to 4: a3 and c1 remain.
  ASSERT_EQ(put_status(http, bob, chat, 4, "read").status, 204);
  auto entry = chat_entry(http, bob, chat);
  EXPECT_EQ(client::int_field(entry, "unread"), 2) << entry;
  EXPECT_EQ(client::int_field(entry, "read_seq"), 4) << entry;
  // Reading to the end clears it; others are unaffected.
  ASSERT_EQ(put_status(http, bob, chat, 7, "read").status, 204);
  entry = chat_entry(http, bob, chat);
  EXPECT_EQ(client::int_field(entry, "unread"), 0) << entry;
  EXPECT_EQ(client::int_field(entry, "read_seq"), 7) << entry;
  EXPECT_EQ(unread_of(http, carol, chat), 4);
  // `delivered` is not `read`.
  ASSERT_EQ(put_status(http, carol, chat, 7, "delivered").status, 204);
  EXPECT_EQ(unread_of(http, carol, chat), 4);
  EXPECT_EQ(client::int_field(chat_entry(http, carol, chat), "read_seq"), 0);

  // New messages count again, from the mark.
  post_text(http, carol, chat, "c2");  // 8
  post_text(http, bob, chat, "b2");    // 9
  EXPECT_EQ(unread_of(http, bob, chat), 1);
  EXPECT_EQ(unread_of(http, alice, chat), 4) << "b1, c1, c2, b2";
}

TEST(Unread, ReadOnOneDeviceClearsItForAllDevices) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account();
  const Account bob_phone = client::add_device(http, bob, "phone");
  const Account bob_laptop = client::add_device(http, bob, "laptop");
  const std::string chat = create_direct(http, alice, bob.user_id);
  for (int i = 0; i < 3; ++i)
    post_text(http, alice, chat, "m" + std::to_string(i));

  auto phone = server.connect_ws(bob_phone.token);
  auto laptop = server.connect_ws(bob_laptop.token);
  for (const auto* d : {&bob, &bob_phone, &bob_laptop}) {
    EXPECT_EQ(unread_of(http, *d, chat), 3) << "unread is per user, same on every device";
  }

  ASSERT_EQ(ws_read(*phone, chat, 3)["type"], "ok");
  for (const auto* d : {&bob, &bob_phone, &bob_laptop}) {
    auto entry = chat_entry(http, *d, chat);
    EXPECT_EQ(client::int_field(entry, "unread"), 0) << entry;
    EXPECT_EQ(client::int_field(entry, "read_seq"), 3) << entry;
  }
  // The laptop learns it live: bob's own read receipt.
  auto r = wait_for(*laptop, receipt_where(chat, bob.user_id, "read", 3), 5s);
  ASSERT_TRUE(is_receipt(r)) << r;
  EXPECT_GT(offset_of(r), 0);

  // A device that was offline gets the same receipt from its cursor.
  auto desk = server.connect_ws(bob.token);
  auto replayed = wait_for(*desk, receipt_where(chat, bob.user_id, "read", 3), 5s);
  EXPECT_TRUE(is_receipt(replayed)) << replayed;

  post_text(http, alice, chat, "m3");
  EXPECT_EQ(unread_of(http, bob_laptop, chat), 1);
  EXPECT_EQ(unread_of(http, alice, chat), 0) << "alice's own messages never count for her";
}

TEST(Unread, DirectChatAndOwnMessages) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account();
  const std::string chat = create_direct(http, alice, bob.user_id);
  auto a = server.connect_ws(alice.token);
  ASSERT_EQ(ws_send(*a, chat, "x")["type"], "ok");
  ASSERT_EQ(ws_send(*a, chat, "y")["type"], "ok");
  post_text(http, bob, chat, "z");
  EXPECT_EQ(unread_of(http, alice, chat), 1);
  EXPECT_EQ(unread_of(http, bob, chat), 2);
  // Reading past messages of one's own only still counts as read up to there.
  ASSERT_EQ(ws_read(*a, chat, 3)["type"], "ok");
  EXPECT_EQ(unread_of(http, alice, chat), 0);
  EXPECT_EQ(unread_of(http, bob, chat), 2);
}

}  // namespace
}  // namespace chat::test

// Delivery and read receipts (PROTOCOL.md "Events", "Delivered"/"Read";
// docs/protocol.md): per-member high-water marks, a `receipt` event to the
// senders of the messages a mark just covered (and, for `read`, to the
// reader's own devices), marks that never move back, read implying delivered,
// the REST status and receipts endpoints, and receipts waiting in the stream
// of an offline sender.
#include <gtest/gtest.h>

#include "state_fixtures.hpp"

namespace chat::test {
namespace {

using namespace state;

constexpr auto kWait = 5s;      // for something that must arrive
constexpr auto kQuiet = 600ms;  // for something that must not

// The receipts among the frames read until `pred` matched plus `quiet` more.
std::vector<Receipt> receipts_until(WsClient& ws, const Pred& pred,
                                    std::chrono::milliseconds quiet = kQuiet) {
  Frames seen;
  auto f = wait_for(ws, pred, kWait, &seen);
  EXPECT_FALSE(is_closed_or_timeout(f)) << "expected frame never came: " << f;
  for (auto& g : drain(ws, quiet))
    seen.push_back(std::move(g));
  return receipts_in(seen);
}

std::vector<Receipt> receipts_within(WsClient& ws, std::chrono::milliseconds window = kQuiet) {
  return receipts_in(drain(ws, window));
}

TEST(Receipts, DeliveredWhenAnyDeviceOfTheRecipientAcks) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account();
  const Account alice2 = client::add_device(http, alice, "alice-2");
  const Account bob2 = client::add_device(http, bob, "bob-2");
  const std::string chat = create_direct(http, alice, bob.user_id);
  auto a1 = server.connect_ws(alice.token), a2 = server.connect_ws(alice2.token);
  auto b1 = server.connect_ws(bob.token), b2 = server.connect_ws(bob2.token);

  ASSERT_EQ(ws_send(*a1, chat, "one")["type"], "ok");
  ASSERT_EQ(ws_send(*a1, chat, "two")["type"], "ok");
  // Only bob's second device acknowledges; the first never does.
  const auto offset = offset_of_message(*b2, chat, 2);
  const auto before = wall_ms();
  auto ok = ws_ack(*b2, offset);
  ASSERT_EQ(ok["type"], "ok") << ok;
  const auto after = wall_ms();

  for (auto* ws : {a1.get(), a2.get()}) {
    Frames seen;
    auto r = wait_for(*ws, receipt_where(chat, bob.user_id, "delivered", 2), kWait, &seen);
    ASSERT_TRUE(is_receipt(r)) << "alice's device got no delivered receipt: " << r;
    EXPECT_GT(offset_of(r), 0);
    EXPECT_GE(client::int_field(r, "ts"), before - 2000);
    EXPECT_LE(client::int_field(r, "ts"), after + 2000);
    for (auto& g : drain(*ws, kQuiet))
      seen.push_back(std::move(g));
    EXPECT_EQ(receipts_in(seen), (std::vector<Receipt>{{chat, bob.user_id, "delivered", 2}}))
        << "one receipt for the whole range, up_to the new mark";
  }
  // `delivered` receipts go to the senders only, not to the recipient's devices.
  EXPECT_TRUE(receipts_within(*b1).empty());
  EXPECT_TRUE(receipts_within(*b2).empty());

  for (std::int64_t seq : {1, 2}) {
    auto marks = receipts_of(http, alice, chat, seq);
    ASSERT_EQ(marks.size(), 1u) << "only the other member is listed";
    ASSERT_TRUE(marks.contains(bob.user_id));
    ASSERT_TRUE(marks[bob.user_id].delivered_ts.is_int64()) << "seq " << seq;
    EXPECT_GE(marks[bob.user_id].delivered_ts.as_int64(), before - 2000);
    EXPECT_TRUE(marks[bob.user_id].read_ts.is_null());
  }
  // Alice never acknowledged anything: bob sees her marks empty.
  auto marks = receipts_of(http, bob, chat, 1);
  ASSERT_EQ(marks.size(), 1u);
  ASSERT_TRUE(marks.contains(alice.user_id));
  EXPECT_TRUE(marks[alice.user_id].delivered_ts.is_null());
  EXPECT_TRUE(marks[alice.user_id].read_ts.is_null());
}

TEST(Receipts, AckOverRestDelivers) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account();
  const std::string chat = create_direct(http, alice, bob.user_id);
  auto a1 = server.connect_ws(alice.token);
  post_text(http, alice, chat, "over rest");

  auto poll = http.request("GET", "/v1/events?after=0&timeout_ms=3000", {},
                           {.bearer = bob.token, .timeout = 15s});
  ASSERT_EQ(poll.status, 200) << describe(poll);
  std::int64_t offset = 0;
  const json::value poll_body = poll.json();
  for (const auto& e : poll_body.as_object().at("events").as_array()) {
    if (is_message_event_of(e.as_object(), chat)) offset = offset_of(e.as_object());
  }
  ASSERT_GT(offset, 0) << poll.body;
  auto ack = http.post("/v1/events/ack", {{"offset", offset}}, bob.token);
  ASSERT_EQ(ack.status, 204) << describe(ack);

  auto r = wait_for(*a1, receipt_where(chat, bob.user_id, "delivered", 1), kWait);
  EXPECT_TRUE(is_receipt(r)) << r;
}

TEST(Receipts, OneAckCoversEveryChatInItsRange) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account(),
                carol = server.new_account();
  const std::string with_alice = create_direct(http, alice, bob.user_id);
  const std::string with_carol = create_direct(http, carol, bob.user_id);
  auto wa = server.connect_ws(alice.token), wc = server.connect_ws(carol.token);
  auto wb = server.connect_ws(bob.token);
  post_text(http, alice, with_alice, "a1");
  post_text(http, carol, with_carol, "c1");
  post_text(http, carol, with_carol, "c2");
  post_text(http, alice, with_alice, "a2");
  offset_of_message(*wb, with_carol, 2);
  const auto last = offset_of_message(*wb, with_alice, 2);
  ASSERT_EQ(ws_ack(*wb, last)["type"], "ok");
  EXPECT_EQ(receipts_until(*wa, receipt_where(with_alice, bob.user_id, "delivered", 2)),
            (std::vector<Receipt>{{with_alice, bob.user_id, "delivered", 2}}));
  EXPECT_EQ(receipts_until(*wc, receipt_where(with_carol, bob.user_id, "delivered", 2)),
            (std::vector<Receipt>{{with_carol, bob.user_id, "delivered", 2}}));
}

TEST(Receipts, ReadReachesSendersAndTheReadersOtherDevicesAndImpliesDelivered) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account();
  const Account bob2 = client::add_device(http, bob, "bob-2");
  const std::string chat = create_direct(http, alice, bob.user_id);
  auto a1 = server.connect_ws(alice.token);
  auto b1 = server.connect_ws(bob.token), b2 = server.connect_ws(bob2.token);
  for (int i = 1; i <= 3; ++i)
    ASSERT_EQ(ws_send(*a1, chat, "m" + std::to_string(i))["type"], "ok");

  const auto offset = offset_of_message(*b1, chat, 3);
  // Bob reads without ever acknowledging.
  auto ok = ws_read(*b1, chat, 3);
  ASSERT_EQ(ok["type"], "ok") << ok;

  EXPECT_EQ(receipts_until(*a1, receipt_where(chat, bob.user_id, "read", 3)),
            (std::vector<Receipt>{{chat, bob.user_id, "read", 3}}))
      << "read implies delivered: no separate delivered receipt";
  // The reader's devices (both, the reading one included) learn of it.
  for (auto* ws : {b1.get(), b2.get()}) {
    auto r = wait_for(*ws, receipt_where(chat, bob.user_id, "read", 3), kWait);
    EXPECT_TRUE(is_receipt(r)) << r;
  }
  for (std::int64_t seq = 1; seq <= 3; ++seq) {
    auto marks = receipts_of(http, alice, chat, seq);
    EXPECT_TRUE(marks[bob.user_id].delivered_ts.is_int64())
        << "read implies delivered, seq " << seq;
    EXPECT_TRUE(marks[bob.user_id].read_ts.is_int64()) << "seq " << seq;
  }

  // A later ack covering the same messages moves nothing: no receipt.
  ASSERT_EQ(ws_ack(*b1, offset)["type"], "ok");
  EXPECT_TRUE(receipts_within(*a1).empty());
}

TEST(Receipts, MarksNeverMoveBackwards) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account();
  const Account bob2 = client::add_device(http, bob, "bob-2");
  const std::string chat = create_direct(http, alice, bob.user_id);
  auto a1 = server.connect_ws(alice.token);
  auto b1 = server.connect_ws(bob.token), b2 = server.connect_ws(bob2.token);
  for (int i = 1; i <= 3; ++i)
    ASSERT_EQ(ws_send(*a1, chat, "m" + std::to_string(i))["type"], "ok");

  ASSERT_EQ(ws_read(*b1, chat, 3)["type"], "ok");
  ASSERT_TRUE(is_receipt(wait_for(*a1, receipt_where(chat, bob.user_id, "read", 3), kWait)));
  ASSERT_TRUE(is_receipt(wait_for(*b2, receipt_where(chat, bob.user_id, "read", 3), kWait)));
  const auto read_ts = receipts_of(http, alice, chat, 3)[bob.user_id].read_ts;
  ASSERT_TRUE(read_ts.is_int64());

  // Lower marks: accepted, and nothing changes.
  auto older = ws_read(*b1, chat, 2);
  EXPECT_EQ(older["type"], "ok") << older;
  auto r1 = put_status(http, bob, chat, 1, "read");
  EXPECT_EQ(r1.status, 204) << describe(r1);
  auto r2 = put_status(http, bob, chat, 2, "delivered");
  EXPECT_EQ(r2.status, 204) << describe(r2);
  EXPECT_TRUE(receipts_within(*a1).empty()) << "a mark moved back or a no-op emitted a receipt";
  EXPECT_TRUE(receipts_within(*b2, 200ms).empty());
  auto marks = receipts_of(http, alice, chat, 3);
  EXPECT_EQ(marks[bob.user_id].read_ts, read_ts);
  for (std::int64_t seq = 1; seq <= 3; ++seq) {
    EXPECT_TRUE(receipts_of(http, alice, chat, seq)[bob.user_id].read_ts.is_int64()) << seq;
  }

  // The mark still moves forward.
  ASSERT_EQ(ws_send(*a1, chat, "m4")["type"], "ok");
  EXPECT_TRUE(receipts_of(http, alice, chat, 4)[bob.user_id].read_ts.is_null());
  ASSERT_EQ(ws_read(*b2, chat, 4)["type"], "ok");
  EXPECT_EQ(receipts_until(*a1, receipt_where(chat, bob.user_id, "read", 4)),
            (std::vector<Receipt>{{chat, bob.user_id, "read", 4}}));
}

TEST(Receipts, RestStatusEndpoint) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account(),
                carol = server.new_account();
  const std::string chat = create_direct(http, alice, bob.user_id);
  auto a1 = server.connect_ws(alice.token);
  post_text(http, alice, chat, "one");
  post_text(http, alice, chat, "two");

  auto d = put_status(http, bob, chat, 1, "delivered");
  EXPECT_EQ(d.status, 204) << describe(d);
  EXPECT_TRUE(d.body.empty());
  EXPECT_EQ(receipts_until(*a1, receipt_where(chat, bob.user_id, "delivered", 1)),
            (std::vector<Receipt>{{chat, bob.user_id, "delivered", 1}}));
  auto r = put_status(http, bob, chat, 2, "read");
  EXPECT_EQ(r.status, 204) << describe(r);
  EXPECT_EQ(receipts_until(*a1, receipt_where(chat, bob.user_id, "read", 2)),
            (std::vector<Receipt>{{chat, bob.user_id, "read", 2}}));

  auto bad = put_status(http, bob, chat, 2, "seen");
  EXPECT_EQ(bad.status, 400) << describe(bad);
  EXPECT_EQ(bad.error_code(), "bad_request");
  auto missing = http.put("/v1/chats/" + chat + "/messages/2/status", json::object{}, bob.token);
  EXPECT_EQ(missing.status, 400) << describe(missing);
  auto beyond = put_status(http, bob, chat, 3, "read");
  EXPECT_EQ(beyond.status, 400) << describe(beyond);
  EXPECT_EQ(beyond.error_code(), "bad_request");
  auto stranger = put_status(http, carol, chat, 1, "read");
  EXPECT_EQ(stranger.status, 404) << describe(stranger);
  EXPECT_EQ(stranger.error_code(), "not_found");
  auto no_chat = put_status(http, bob, "c0000000000000000", 1, "read");
  EXPECT_EQ(no_chat.status, 404) << describe(no_chat);
  auto anon = http.put("/v1/chats/" + chat + "/messages/1/status", {{"status", "read"}});
  EXPECT_EQ(anon.status, 401) << describe(anon);
  EXPECT_TRUE(receipts_within(*a1, 300ms).empty()) << "a refused status emitted a receipt";
}

TEST(Receipts, ReadOverWebSocketIsValidated) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account(),
                carol = server.new_account();
  const std::string chat = create_direct(http, alice, bob.user_id);
  post_text(http, alice, chat, "one");
  auto b = server.connect_ws(bob.token);
  auto c = server.connect_ws(carol.token);

  auto zero = ws_read(*b, chat, 0);
  EXPECT_EQ(zero["type"], "error") << zero;
  EXPECT_EQ(zero["code"], "bad_request") << zero;
  auto beyond = ws_read(*b, chat, 2);
  EXPECT_EQ(beyond["type"], "error") << beyond;
  EXPECT_EQ(beyond["code"], "bad_request") << beyond;
  auto stranger = ws_read(*c, chat, 1);
  EXPECT_EQ(stranger["type"], "error") << stranger;
  EXPECT_EQ(stranger["code"], "not_found") << stranger;
  auto unknown = ws_read(*b, "c0000000000000000", 1);
  EXPECT_EQ(unknown["code"], "not_found") << unknown;
  auto wrong_type = b->call({{"type", "read"}, {"chat_id", chat}, {"seq", "1"}});
  EXPECT_EQ(wrong_type["code"], "bad_request") << wrong_type;
  // Without an id: no ok, but a failure is still reported (id null).
  ASSERT_TRUE(b->send_json({{"type", "read"}, {"chat_id", chat}, {"seq", 5}}));
  auto err = wait_for(
      *b, [](const json::object& f) { return has_type(f, "error"); }, kWait);
  EXPECT_EQ(err["code"], "bad_request") << err;
  EXPECT_TRUE(err["id"].is_null()) << err;
  // And a good read without an id works silently.
  ASSERT_TRUE(b->send_json({{"type", "read"}, {"chat_id", chat}, {"seq", 1}}));
  EXPECT_TRUE(eventually(
      [&] { return receipts_of(http, alice, chat, 1)[bob.user_id].read_ts.is_int64(); }, kWait));
}

TEST(Receipts, ReceiptsEndpointListsTheOtherMembersMarks) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account(),
                carol = server.new_account(), dave = server.new_account();
  const std::string chat = create_group(http, alice, "g", {bob.user_id, carol.user_id});
  const auto seq = post_text(http, alice, chat, "hello group");
  ASSERT_EQ(seq, 2);

  auto marks = receipts_of(http, alice, chat, seq);
  ASSERT_EQ(marks.size(), 2u);
  for (const auto* u : {&bob, &carol}) {
    ASSERT_TRUE(marks.contains(u->user_id));
    EXPECT_TRUE(marks[u->user_id].delivered_ts.is_null());
    EXPECT_TRUE(marks[u->user_id].read_ts.is_null());
  }
  const auto before = wall_ms();
  ASSERT_EQ(put_status(http, bob, chat, seq, "delivered").status, 204);
  ASSERT_EQ(put_status(http, carol, chat, seq, "read").status, 204);
  const auto after = wall_ms();
  marks = receipts_of(http, alice, chat, seq);
  ASSERT_TRUE(marks[bob.user_id].delivered_ts.is_int64());
  EXPECT_GE(marks[bob.user_id].delivered_ts.as_int64(), before - 2000);
  EXPECT_LE(marks[bob.user_id].delivered_ts.as_int64(), after + 2000);
  EXPECT_TRUE(marks[bob.user_id].read_ts.is_null());
  EXPECT_TRUE(marks[carol.user_id].delivered_ts.is_int64()) << "read implies delivered";
  ASSERT_TRUE(marks[carol.user_id].read_ts.is_int64());
  EXPECT_GE(marks[carol.user_id].read_ts.as_int64(), before - 2000);

  // Bob's view lists alice and carol, not bob.
  auto bobs = receipts_of(http, bob, chat, seq);
  EXPECT_EQ(bobs.size(), 2u);
  EXPECT_TRUE(bobs.contains(alice.user_id));
  EXPECT_TRUE(bobs.contains(carol.user_id));
  EXPECT_FALSE(bobs.contains(bob.user_id));

  auto beyond = http.get("/v1/chats/" + chat + "/messages/3/receipts", alice.token);
  EXPECT_EQ(beyond.status, 404) << describe(beyond);
  auto stranger = http.get("/v1/chats/" + chat + "/messages/2/receipts", dave.token);
  EXPECT_EQ(stranger.status, 404) << describe(stranger);
  EXPECT_EQ(stranger.error_code(), "not_found");
}

TEST(Receipts, GoOnlyToTheSendersOfTheCoveredRange) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account(),
                carol = server.new_account();
  const std::string chat = create_group(http, alice, "g", {bob.user_id, carol.user_id});
  auto wa = server.connect_ws(alice.token), wb = server.connect_ws(bob.token),
       wc = server.connect_ws(carol.token);
  ASSERT_EQ(client::int_field(ws_send(*wa, chat, "from alice"), "seq"), 2);
  ASSERT_EQ(client::int_field(ws_send(*wb, chat, "from bob"), "seq"), 3);
  const auto bob_offset = offset_of_message(*wb, chat, 3);

  ASSERT_EQ(ws_read(*wc, chat, 2)["type"], "ok");  // covers (0, 2]: alice's message
  ASSERT_EQ(ws_read(*wc, chat, 3)["type"], "ok");  // covers (2, 3]: bob's message
  EXPECT_EQ(receipts_until(*wa, receipt_where(chat, carol.user_id, "read", 2)),
            (std::vector<Receipt>{{chat, carol.user_id, "read", 2}}));
  EXPECT_EQ(receipts_until(*wb, receipt_where(chat, carol.user_id, "read", 3)),
            (std::vector<Receipt>{{chat, carol.user_id, "read", 3}}));
  EXPECT_EQ(
      receipts_until(*wc, receipt_where(chat, carol.user_id, "read", 3)),
      (std::vector<Receipt>{{chat, carol.user_id, "read", 2}, {chat, carol.user_id, "read", 3}}));

  // Bob's ack covers alice's message and his own: only alice hears of it.
  ASSERT_EQ(ws_ack(*wb, bob_offset)["type"], "ok");
  EXPECT_EQ(receipts_until(*wa, receipt_where(chat, bob.user_id, "delivered", 3)),
            (std::vector<Receipt>{{chat, bob.user_id, "delivered", 3}}));
  EXPECT_TRUE(receipts_within(*wb).empty()) << "a member's own messages bring it no receipt";
  EXPECT_TRUE(receipts_within(*wc, 200ms).empty());
}

// PROTOCOL.md's group case at scale: 5 users with 3 devices each; two of them
// send, the others acknowledge and read. Receipts reach exactly the senders'
// devices (and, for read, the reader's own), nobody else.
TEST(Receipts, GroupOfFiveWithThreeDevicesEach) {
  ChatServer server;
  auto http = server.http();
  std::vector<Account> users;
  std::vector<std::vector<Account>> devices(5);
  for (int u = 0; u < 5; ++u) {
    users.push_back(server.new_account("d0"));
    devices[u].push_back(users.back());
    devices[u].push_back(client::add_device(http, users.back(), "d1"));
    devices[u].push_back(client::add_device(http, users.back(), "d2"));
  }
  std::vector<std::string> others;
  for (int u = 1; u < 5; ++u)
    others.push_back(users[u].user_id);
  const std::string chat = create_group(http, users[0], "five", others);
  std::vector<std::vector<std::unique_ptr<WsClient>>> ws(5);
  for (int u = 0; u < 5; ++u) {
    for (const auto& d : devices[u])
      ws[u].push_back(server.connect_ws(d.token));
  }
  auto id = [&](int u) { return users[static_cast<std::size_t>(u)].user_id; };

  // Users 0 and 1 send: seq 2, 3 (user 0), 4 (user 1).
  ASSERT_EQ(client::int_field(ws_send(*ws[0][0], chat, "a"), "seq"), 2);
  ASSERT_EQ(client::int_field(ws_send(*ws[0][1], chat, "b"), "seq"), 3);
  ASSERT_EQ(client::int_field(ws_send(*ws[1][2], chat, "c"), "seq"), 4);

  // User 2's middle device acknowledges through seq 4: delivered to users 0 and 1.
  ASSERT_EQ(ws_ack(*ws[2][1], offset_of_message(*ws[2][1], chat, 4))["type"], "ok");
  // User 3 reads to 3 (only user 0's messages), then to 4 (user 1's).
  ASSERT_EQ(ws_read(*ws[3][0], chat, 3)["type"], "ok");
  ASSERT_EQ(ws_read(*ws[3][2], chat, 4)["type"], "ok");
  // User 4 reads to 2 over REST (user 0's message).
  ASSERT_EQ(put_status(http, devices[4][1], chat, 2, "read").status, 204);
  // Going back changes nothing.
  ASSERT_EQ(ws_read(*ws[3][1], chat, 2)["type"], "ok");
  ASSERT_EQ(put_status(http, devices[2][0], chat, 3, "delivered").status, 204);
  // User 0 sends again; user 2's first device acknowledges it: (4, 5] is user 0's alone.
  ASSERT_EQ(client::int_field(ws_send(*ws[0][2], chat, "d"), "seq"), 5);
  ASSERT_EQ(ws_ack(*ws[2][0], offset_of_message(*ws[2][0], chat, 5))["type"], "ok");

  const std::vector<std::vector<Receipt>> expected = {
      {{chat, id(2), "delivered", 4},
       {chat, id(3), "read", 3},
       {chat, id(4), "read", 2},
       {chat, id(2), "delivered", 5}},
      {{chat, id(2), "delivered", 4}, {chat, id(3), "read", 4}},
      {},
      {{chat, id(3), "read", 3}, {chat, id(3), "read", 4}},
      {{chat, id(4), "read", 2}},
  };
  for (int u = 0; u < 5; ++u) {
    for (int d = 0; d < 3; ++d) {
      auto& socket = *ws[u][d];
      const auto& want = expected[u];
      // Read until this device has as many receipts as expected, then a little more.
      Frames seen;
      if (!want.empty()) {
        std::size_t got = 0;
        wait_for(
            socket, [&](const json::object& f) { return is_receipt(f) && ++got == want.size(); },
            kWait, &seen);
      }
      for (auto& f : drain(socket, want.empty() ? 400ms : 200ms))
        seen.push_back(std::move(f));
      EXPECT_EQ(receipts_in(seen), want) << "user " << u << " device " << d;
      // Receipt offsets are strictly increasing within a device's stream.
      std::int64_t last = 0;
      for (const auto& f : only(seen, is_receipt)) {
        EXPECT_GT(offset_of(f), last);
        last = offset_of(f);
      }
    }
  }

  // The stored marks agree.
  auto marks = receipts_of(http, users[0], chat, 2);
  EXPECT_TRUE(marks[id(1)].delivered_ts.is_null());
  EXPECT_TRUE(marks[id(2)].delivered_ts.is_int64());
  EXPECT_TRUE(marks[id(2)].read_ts.is_null());
  EXPECT_TRUE(marks[id(3)].read_ts.is_int64());
  EXPECT_TRUE(marks[id(4)].read_ts.is_int64());
  auto marks4 = receipts_of(http, users[1], chat, 4);
  EXPECT_TRUE(marks4[id(3)].read_ts.is_int64());
  EXPECT_TRUE(marks4[id(4)].read_ts.is_null()) << "user 4 read only to 2";
  EXPECT_TRUE(marks4[id(4)].delivered_ts.is_null());
}

TEST(Receipts, OfflineSenderGetsThemOnResume) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account();
  const std::string chat = create_direct(http, alice, bob.user_id);
  auto a = server.connect_ws(alice.token);
  ASSERT_EQ(ws_send(*a, chat, "one")["type"], "ok");
  ASSERT_EQ(ws_send(*a, chat, "two")["type"], "ok");
  // Alice acknowledges her stream through her own second message, then leaves.
  const auto alice_cursor = offset_of_message(*a, chat, 2);
  ASSERT_EQ(ws_ack(*a, alice_cursor)["type"], "ok");
  a->close();
  a.reset();

  auto b = server.connect_ws(bob.token);
  ASSERT_EQ(ws_ack(*b, offset_of_message(*b, chat, 2))["type"], "ok");
  ASSERT_EQ(ws_read(*b, chat, 1)["type"], "ok");
  ASSERT_EQ(ws_read(*b, chat, 2)["type"], "ok");

  json::object ok;
  a = server.connect_ws(alice.token, std::nullopt, &ok);
  EXPECT_EQ(client::int_field(ok, "cursor"), alice_cursor);
  Frames seen;
  std::size_t got = 0;
  wait_for(
      *a, [&](const json::object& f) { return is_receipt(f) && ++got == 3; }, kWait, &seen);
  for (auto& f : drain(*a, 300ms))
    seen.push_back(std::move(f));
  EXPECT_EQ(receipts_in(seen), (std::vector<Receipt>{{chat, bob.user_id, "delivered", 2},
                                                     {chat, bob.user_id, "read", 1},
                                                     {chat, bob.user_id, "read", 2}}));
  std::int64_t last = alice_cursor;
  for (const auto& f : only(seen, is_receipt)) {
    EXPECT_GT(offset_of(f), last) << "catch-up is after the cursor, in offset order";
    last = offset_of(f);
  }
  // Acknowledged, they are not sent again.
  ASSERT_EQ(ws_ack(*a, last)["type"], "ok");
  a->close();
  a = server.connect_ws(alice.token);
  EXPECT_TRUE(receipts_within(*a, 400ms).empty());
}

// A socket knows which messages it wrote, and its acks use that instead of
// reading the stream back -- but only for what it wrote. A device that resumes
// past its cursor (from_offset) skips events it never receives here; its ack
// still covers them, and their senders still hear of it.
TEST(Receipts, AnAckCoversEventsTheSocketNeverWrote) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account(),
                carol = server.new_account();
  const std::string with_alice = create_direct(http, alice, bob.user_id);
  const std::string with_carol = create_direct(http, carol, bob.user_id);
  auto wa = server.connect_ws(alice.token), wc = server.connect_ws(carol.token);
  ASSERT_EQ(ws_send(*wc, with_carol, "while bob was away")["type"], "ok");

  json::object ok;
  auto wb = server.connect_ws(bob.token, std::uint64_t{1'000'000}, &ok);  // resume at the head
  EXPECT_EQ(client::int_field(ok, "cursor"), 0);
  ASSERT_EQ(ws_send(*wa, with_alice, "live")["type"], "ok");
  ASSERT_EQ(ws_ack(*wb, offset_of_message(*wb, with_alice, 1))["type"], "ok");

  EXPECT_EQ(receipts_until(*wa, receipt_where(with_alice, bob.user_id, "delivered", 1)),
            (std::vector<Receipt>{{with_alice, bob.user_id, "delivered", 1}}));
  EXPECT_EQ(receipts_until(*wc, receipt_where(with_carol, bob.user_id, "delivered", 1)),
            (std::vector<Receipt>{{with_carol, bob.user_id, "delivered", 1}}))
      << "the skipped message was acknowledged too";
}

}  // namespace
}  // namespace chat::test

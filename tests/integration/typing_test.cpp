// Typing indicators (PROTOCOL.md `typing`): relayed to the chat's other
// members that are online, on all their devices, never to the typist, never
// stored; `typing: false` follows when the typist says so, sends a message, or
// stays silent for 6 s.
#include <gtest/gtest.h>

#include "state_fixtures.hpp"

namespace chat::test {
namespace {

using namespace state;

json::object typing_frame(const std::string& chat, bool typing) {
  return {{"type", "typing"}, {"chat_id", chat}, {"typing", typing}};
}

bool is_typing(const json::object& f) {
  return has_type(f, "typing");
}

void expect_typing(const json::object& f, const std::string& chat, const std::string& user,
                   bool typing) {
  ASSERT_TRUE(is_typing(f)) << f;
  EXPECT_EQ(str(f, "chat_id"), chat) << f;
  EXPECT_EQ(str(f, "user_id"), user) << f;
  EXPECT_EQ(f.at("typing"), typing) << f;
  EXPECT_FALSE(f.contains("offset")) << "typing is ephemeral: " << f;
}

TEST(Typing, RelayedToOtherOnlineMembersOnAllDevicesNeverToTheTypist) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account(),
                carol = server.new_account(), dave = server.new_account();
  const Account alice2 = client::add_device(http, alice, "alice-2");
  const Account bob2 = client::add_device(http, bob, "bob-2");
  const std::string chat =
      create_group(http, alice, "g", {bob.user_id, carol.user_id, dave.user_id});
  auto a1 = server.connect_ws(alice.token), a2 = server.connect_ws(alice2.token);
  auto b1 = server.connect_ws(bob.token), b2 = server.connect_ws(bob2.token);
  auto c1 = server.connect_ws(carol.token);
  // dave has no socket.

  auto ok = a1->call(typing_frame(chat, true));
  EXPECT_EQ(ok["type"], "ok") << ok;
  for (auto* ws : {b1.get(), b2.get(), c1.get()}) {
    expect_typing(wait_for(*ws, typing_where(chat, alice.user_id), 3s), chat, alice.user_id, true);
  }
  ASSERT_TRUE(a1->send_json(typing_frame(chat, false)));  // no id: no reply
  for (auto* ws : {b1.get(), b2.get(), c1.get()}) {
    expect_typing(wait_for(*ws, typing_where(chat, alice.user_id), 3s), chat, alice.user_id, false);
  }
  for (auto* ws : {a1.get(), a2.get()}) {
    auto frames = drain(*ws, 500ms);
    EXPECT_TRUE(only(frames, is_typing).empty()) << "typing echoed to the typist";
    EXPECT_TRUE(only(frames, [](const json::object& f) { return has_type(f, "ok"); }).empty())
        << "a frame without an id got an ok";
  }

  // Dave comes online afterwards: nothing was stored for him.
  auto d = server.connect_ws(dave.token);
  EXPECT_TRUE(only(drain(*d, 700ms), is_typing).empty()) << "typing replayed";
  // Now online, he gets the next one.
  ASSERT_EQ(b2->call(typing_frame(chat, true))["type"], "ok");
  expect_typing(wait_for(*d, typing_where(chat, bob.user_id), 3s), chat, bob.user_id, true);
  expect_typing(wait_for(*a2, typing_where(chat, bob.user_id), 3s), chat, bob.user_id, true);
  EXPECT_TRUE(only(drain(*b1, 300ms), is_typing).empty()) << "echoed to the typist's other device";
}

TEST(Typing, SendingAMessageEndsIt) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account();
  const std::string chat = create_direct(http, alice, bob.user_id);
  auto wa = server.connect_ws(alice.token), wb = server.connect_ws(bob.token);

  ASSERT_EQ(wa->call(typing_frame(chat, true))["type"], "ok");
  expect_typing(wait_for(*wb, typing_where(chat, alice.user_id), 3s), chat, alice.user_id, true);
  const auto sent = Clock::now();
  ASSERT_EQ(ws_send(*wa, chat, "done typing")["type"], "ok");
  Frames seen;
  auto stop = wait_for(*wb, typing_where(chat, alice.user_id), 3s, &seen);
  expect_typing(stop, chat, alice.user_id, false);
  EXPECT_LT(elapsed_ms(sent), 3000) << "ended by the message, not by the expiry";

  // Over REST too.
  ASSERT_EQ(wa->call(typing_frame(chat, true))["type"], "ok");
  expect_typing(wait_for(*wb, typing_where(chat, alice.user_id), 3s), chat, alice.user_id, true);
  post_text(http, alice, chat, "from rest");
  expect_typing(wait_for(*wb, typing_where(chat, alice.user_id), 3s), chat, alice.user_id, false);

  // Bob's typing reaches alice the same way (a direct chat, both directions).
  ASSERT_EQ(wb->call(typing_frame(chat, true))["type"], "ok");
  expect_typing(wait_for(*wa, typing_where(chat, bob.user_id), 3s), chat, bob.user_id, true);
}

TEST(Typing, ExpiresSixSecondsAfterTheLastTypingTrue) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account(),
                carol = server.new_account();
  const std::string chat = create_group(http, alice, "g", {bob.user_id, carol.user_id});
  auto wa = server.connect_ws(alice.token), wb = server.connect_ws(bob.token),
       wc = server.connect_ws(carol.token);

  // Alice types once; carol types twice, 3 s apart (the second refreshes the expiry).
  const auto t0 = Clock::now();
  ASSERT_EQ(wa->call(typing_frame(chat, true))["type"], "ok");
  ASSERT_EQ(wc->call(typing_frame(chat, true))["type"], "ok");
  std::optional<std::int64_t> alice_stopped, carol_stopped;
  bool refreshed = false;
  while (elapsed_ms(t0) < 11'500 && !(alice_stopped && carol_stopped)) {
    if (!refreshed && elapsed_ms(t0) >= 3000) {
      ASSERT_EQ(wc->call(typing_frame(chat, true))["type"], "ok");
      refreshed = true;
    }
    auto f = wb->next(200ms);
    if (!is_typing(f) || f.at("typing") != false) continue;
    if (str(f, "user_id") == alice.user_id && !alice_stopped) alice_stopped = elapsed_ms(t0);
    if (str(f, "user_id") == carol.user_id && !carol_stopped) carol_stopped = elapsed_ms(t0);
  }
  ASSERT_TRUE(alice_stopped) << "alice's typing never expired";
  EXPECT_GE(*alice_stopped, 5500);
  EXPECT_LE(*alice_stopped, 8000);
  ASSERT_TRUE(carol_stopped) << "carol's typing never expired";
  EXPECT_GE(*carol_stopped, 8500) << "the repeated typing:true did not refresh the expiry";
  EXPECT_LE(*carol_stopped, 11'500);
}

TEST(Typing, NotStoredNotReplayed) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account();
  const std::string chat = create_direct(http, alice, bob.user_id);
  auto wa = server.connect_ws(alice.token);
  auto wb = server.connect_ws(bob.token);
  ASSERT_EQ(wa->call(typing_frame(chat, true))["type"], "ok");
  expect_typing(wait_for(*wb, typing_where(chat, alice.user_id), 3s), chat, alice.user_id, true);
  wb->close();

  auto again = server.connect_ws(bob.token);
  EXPECT_TRUE(only(drain(*again, 700ms), is_typing).empty()) << "replayed after a reconnect";
  auto replay = server.connect_ws(bob.token, 0);
  EXPECT_TRUE(only(drain(*replay, 700ms), is_typing).empty()) << "in the stored stream";
  auto poll = http.request("GET", "/v1/events?after=0&timeout_ms=0", {}, {.bearer = bob.token});
  ASSERT_EQ(poll.status, 200) << describe(poll);
  const json::value poll_body = poll.json();
  for (const auto& e : poll_body.as_object().at("events").as_array()) {
    EXPECT_FALSE(is_typing(e.as_object())) << "typing in the event stream: " << e;
  }
}

TEST(Typing, OnlyMembersMayTypeAndFramesAreChecked) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account(),
                carol = server.new_account();
  const std::string chat = create_direct(http, alice, bob.user_id);
  auto wb = server.connect_ws(bob.token), wc = server.connect_ws(carol.token);

  auto e = wc->call(typing_frame(chat, true));
  EXPECT_EQ(e["type"], "error") << e;
  EXPECT_EQ(e["code"], "not_found") << e;
  e = wc->call(typing_frame("c0000000000000000", true));
  EXPECT_EQ(e["code"], "not_found") << e;
  e = wc->call({{"type", "typing"}, {"chat_id", chat}, {"typing", "yes"}});
  EXPECT_EQ(e["code"], "bad_request") << e;
  e = wc->call({{"type", "typing"}, {"chat_id", chat}});
  EXPECT_EQ(e["code"], "bad_request") << e;
  // Without an id, a refusal still comes back (id null).
  ASSERT_TRUE(wc->send_json(typing_frame(chat, true)));
  auto err = wait_for(
      *wc, [](const json::object& f) { return has_type(f, "error"); }, 3s);
  EXPECT_EQ(err["code"], "not_found") << err;
  EXPECT_TRUE(err["id"].is_null()) << err;
  EXPECT_TRUE(only(drain(*wb, 500ms), is_typing).empty()) << "a non-member's typing was relayed";
}

}  // namespace
}  // namespace chat::test

// Delivery over WebSockets: live 1:1 and group messages, catch-up from the
// device cursor after being offline, every device of a user gets every event,
// cursors are per device. PROTOCOL.md "The WebSocket".
#include <gtest/gtest.h>

#include <thread>

#include "fixtures.hpp"

namespace chat::test {
namespace {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::vector<std::int64_t> seqs(const std::vector<json::object>& events) {
  std::vector<std::int64_t> out;
  for (const auto& e : events)
    out.push_back(seq_of(e));
  return out;
}

std::vector<std::int64_t> range(std::int64_t first, std::int64_t last) {
  std::vector<std::int64_t> out;
  for (auto s = first; s <= last; ++s)
    out.push_back(s);
  return out;
}

// Acknowledges `offset` (with an id, so the server's ok tells it was applied).
void ack(WsClient& ws, std::int64_t offset) {
  auto r = ws.call({{"type", "ack"}, {"offset", offset}});
  ASSERT_EQ(r["type"], "ok") << r;
}

void post_text(HttpClient& http, const Account& from, const std::string& chat,
               const std::string& body) {
  auto r =
      http.post("/v1/chats/" + chat + "/messages",
                {{"client_msg_id", client::random_client_msg_id()}, {"body", body}}, from.token);
  ASSERT_EQ(r.status, 201) << describe(r);
}

TEST(Delivery, LiveDirectMessageReachesThePeerAndTheSendingDevice) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account();
  const std::string chat = create_direct(http, alice, bob.user_id);
  auto ws_a = server.connect_ws(alice.token);
  auto ws_b = server.connect_ws(bob.token);

  const auto before = now_ms();
  auto ok = ws_send(*ws_a, chat, "hello", "cm-1");
  const auto after = now_ms();
  ASSERT_EQ(ok["type"], "ok") << ok;
  EXPECT_EQ(ok["chat_id"], chat.c_str());
  EXPECT_EQ(client::int_field(ok, "seq"), 1);
  const std::string message_id = client::string_field(ok, "message_id");
  const auto ts = client::int_field(ok, "ts");
  EXPECT_GE(ts, before - 5000);
  EXPECT_LE(ts, after + 5000);

  for (auto* ws : {ws_b.get(), ws_a.get()}) {
    auto ev = ws->next_where([&](const json::object& f) { return is_message_event_of(f, chat); });
    ASSERT_EQ(ev["type"], "message") << ev;
    EXPECT_GT(client::int_field(ev, "offset"), 0);
    const auto& m = message_of(ev);
    EXPECT_EQ(client::int_field(m, "seq"), 1);
    EXPECT_EQ(client::string_field(m, "message_id"), message_id);
    EXPECT_EQ(client::string_field(m, "sender"), alice.user_id);
    EXPECT_EQ(client::string_field(m, "sender_device"), alice.device_id);
    EXPECT_EQ(client::string_field(m, "kind"), "text");
    EXPECT_EQ(client::string_field(m, "body"), "hello");
    EXPECT_EQ(client::string_field(m, "client_msg_id"), "cm-1");
    EXPECT_EQ(client::int_field(m, "ts"), ts);
  }

  auto back = ws_send(*ws_b, chat, "hi back");
  ASSERT_EQ(back["type"], "ok") << back;
  EXPECT_EQ(client::int_field(back, "seq"), 2);
  auto got = collect_messages_until_seq(*ws_a, chat, 2);
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(seq_of(got.back()), 2);
  EXPECT_EQ(message_of(got.back()).at("body"), "hi back");
}

TEST(Delivery, LiveGroupMessagesReachEveryMemberInSeqOrder) {
  ChatServer server;
  auto http = server.http();
  std::vector<Account> users;
  std::vector<std::unique_ptr<WsClient>> sockets;
  for (int i = 0; i < 4; ++i) {
    users.push_back(server.new_account());
    sockets.push_back(server.connect_ws(users.back().token));
  }
  const std::string chat =
      create_group(http, users[0], "four", {users[1].user_id, users[2].user_id, users[3].user_id});
  for (int i = 0; i < 3; ++i) {
    auto ok = ws_send(*sockets[static_cast<std::size_t>(i)], chat, "msg " + std::to_string(i));
    ASSERT_EQ(ok["type"], "ok") << ok;
    EXPECT_EQ(client::int_field(ok, "seq"), i + 2);
  }
  for (std::size_t u = 0; u < users.size(); ++u) {
    auto got = collect_messages_until_seq(*sockets[u], chat, 4);
    EXPECT_EQ(seqs(got), range(1, 4)) << "member " << u;
    if (got.size() == 4) {
      EXPECT_EQ(message_of(got[0]).at("kind"), "system");
      for (int i = 0; i < 3; ++i) {
        const auto& m = message_of(got[static_cast<std::size_t>(i + 1)]);
        EXPECT_EQ(m.at("body"), ("msg " + std::to_string(i)).c_str());
        EXPECT_EQ(m.at("sender"), users[static_cast<std::size_t>(i)].user_id.c_str());
      }
    }
  }
}

TEST(Delivery, OfflineRecipientCatchesUpFromItsCursorInOrder) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account();
  const std::string chat = create_direct(http, alice, bob.user_id);

  std::int64_t acked = 0;
  {
    auto ws = server.connect_ws(bob.token);
    for (int i = 1; i <= 3; ++i)
      post_text(http, alice, chat, "early " + std::to_string(i));
    auto got = collect_messages_until_seq(*ws, chat, 3);
    ASSERT_EQ(seqs(got), range(1, 3));
    acked = client::int_field(got.back(), "offset");
    ack(*ws, acked);
    ws->close();
    EXPECT_FALSE(ws->is_open());
  }
  for (int i = 4; i <= 8; ++i)
    post_text(http, alice, chat, "late " + std::to_string(i));

  for (int round = 0; round < 2; ++round) {
    // Twice: nothing is acknowledged in the first round, so the second gets
    // the same events again (at-least-once).
    json::object ok;
    auto ws = server.connect_ws(bob.token, std::nullopt, &ok);
    EXPECT_EQ(client::int_field(ok, "cursor"), acked) << ok;
    EXPECT_GE(client::int_field(ok, "head"), acked + 5) << ok;
    std::vector<json::object> frames;
    for (;;) {
      auto f = ws->next(2s);
      if (f["type"] == "timeout" || f["type"] == "closed") break;
      frames.push_back(std::move(f));
    }
    std::vector<json::object> messages;
    std::int64_t last_offset = acked;
    for (const auto& f : frames) {
      if (!f.contains("offset")) continue;  // ephemeral events (presence) carry none
      const auto offset = client::int_field(f, "offset");
      EXPECT_GT(offset, last_offset) << "offsets must increase and start after the cursor: " << f;
      last_offset = offset;
      if (is_message_event_of(f, chat)) messages.push_back(f);
    }
    EXPECT_EQ(seqs(messages), range(4, 8)) << "round " << round;
    for (const auto& m : messages) {
      EXPECT_EQ(message_of(m).at("body"), ("late " + std::to_string(seq_of(m))).c_str());
    }
  }
}

TEST(Delivery, EveryDeviceOfBothUsersGetsEveryMessage) {
  ChatServer server;
  auto http = server.http();
  const Account a1 = server.new_account("a1"), b1 = server.new_account("b1");
  const Account a2 = client::add_device(http, a1, "a2");
  const Account b2 = client::add_device(http, b1, "b2");
  ASSERT_EQ(a2.user_id, a1.user_id);
  ASSERT_EQ(b2.user_id, b1.user_id);
  const std::string chat = create_direct(http, a1, b1.user_id);
  auto wa1 = server.connect_ws(a1.token), wa2 = server.connect_ws(a2.token);
  auto wb1 = server.connect_ws(b1.token), wb2 = server.connect_ws(b2.token);

  ASSERT_EQ(ws_send(*wa1, chat, "from a1")["type"], "ok");
  ASSERT_EQ(ws_send(*wb2, chat, "from b2")["type"], "ok");
  const std::vector<std::pair<const char*, WsClient*>> devices = {
      {"a1", wa1.get()}, {"a2", wa2.get()}, {"b1", wb1.get()}, {"b2", wb2.get()}};
  for (const auto& [name, ws] : devices) {
    auto got = collect_messages_until_seq(*ws, chat, 2);
    ASSERT_EQ(seqs(got), range(1, 2)) << "device " << name;
    EXPECT_EQ(message_of(got[0]).at("sender_device"), a1.device_id.c_str()) << name;
    EXPECT_EQ(message_of(got[1]).at("sender_device"), b2.device_id.c_str()) << name;
  }
}

TEST(Delivery, CursorsArePerDevice) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account(), b1 = server.new_account("b1");
  const Account b2 = client::add_device(http, b1, "b2");
  const std::string chat = create_direct(http, alice, b1.user_id);
  for (int i = 1; i <= 3; ++i)
    post_text(http, alice, chat, "m" + std::to_string(i));

  std::int64_t acked = 0;
  {
    auto ws = server.connect_ws(b1.token);
    auto got = collect_messages_until_seq(*ws, chat, 3);
    ASSERT_EQ(seqs(got), range(1, 3));
    acked = client::int_field(got.back(), "offset");
    ack(*ws, acked);
    ws->close();
  }
  {
    // b2 acknowledged nothing: it still gets all three.
    json::object ok;
    auto ws = server.connect_ws(b2.token, std::nullopt, &ok);
    EXPECT_LT(client::int_field(ok, "cursor"), acked) << ok;
    auto got = collect_messages_until_seq(*ws, chat, 3, 5s);
    EXPECT_EQ(seqs(got), range(1, 3));
  }
  {
    // b1 resumes after its ack: no message comes again.
    json::object ok;
    auto ws = server.connect_ws(b1.token, std::nullopt, &ok);
    EXPECT_EQ(client::int_field(ok, "cursor"), acked) << ok;
    auto again = collect_messages(
        *ws, chat, [](const std::vector<json::object>& got) { return !got.empty(); }, 1500ms);
    EXPECT_TRUE(again.empty()) << "re-sent after ack: " << again.front();
  }
  {
    // from_offset 0 replays the whole stream.
    auto ws = server.connect_ws(b1.token, 0);
    auto got = collect_messages_until_seq(*ws, chat, 3, 5s);
    EXPECT_EQ(seqs(got), range(1, 3));
  }
}

TEST(Delivery, PingsAreAnswered) {
  ChatServer server;
  const Account a = server.new_account();
  auto ws = server.connect_ws(a.token);
  auto pong = ws->call({{"type", "ping"}, {"id", "p-1"}}, 5s);
  EXPECT_EQ(pong["type"], "pong") << pong;
  EXPECT_EQ(pong["id"], "p-1");
  EXPECT_TRUE(ws->ping(5s)) << "no pong for a WebSocket ping frame";
  EXPECT_TRUE(ws->is_open());
}

TEST(Delivery, IdleSocketIsClosedAndAPingingOneIsNot) {
  ChatServer server({"--ws-idle-timeout-ms", "1000"});
  const Account a = server.new_account();
  auto idle = server.connect_ws(a.token);
  auto busy = server.connect_ws(a.token);
  const auto until = std::chrono::steady_clock::now() + 2500ms;
  while (std::chrono::steady_clock::now() < until) {
    ASSERT_TRUE(busy->ping(2s)) << "a pinging socket was closed: " << busy->close_code();
    std::this_thread::sleep_for(250ms);
  }
  auto f = idle->next_of_type("closed", 3s);
  EXPECT_EQ(f["type"], "closed") << "a socket silent for 2.5 s outlived a 1 s idle timeout";
  EXPECT_TRUE(busy->is_open());
}

}  // namespace
}  // namespace chat::test

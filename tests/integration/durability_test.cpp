// What survives a restart: idempotent sends across SIGTERM + start, and every
// acknowledged message across kill -9 (PROTOCOL.md: a message is acknowledged
// only after it is durably stored).
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "fixtures.hpp"

namespace chat::test {
namespace {

json::object send_with_id(WsClient& ws, const std::string& chat, const std::string& cmid,
                          const std::string& body) {
  return ws.call({{"type", "send"}, {"chat_id", chat}, {"client_msg_id", cmid}, {"body", body}});
}

HttpResponse post_with_id(HttpClient& http, const Account& from, const std::string& chat,
                          const std::string& cmid, const std::string& body) {
  return http.post("/v1/chats/" + chat + "/messages", {{"client_msg_id", cmid}, {"body", body}},
                   from.token);
}

TEST(Durability, IdempotentRetryReturnsTheSameSeqBeforeAndAfterARestart) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account();
  const std::string chat = create_direct(http, alice, bob.user_id);

  std::string message_id;
  {
    auto ws = server.connect_ws(alice.token);
    auto first = send_with_id(*ws, chat, "retry-me", "once");
    ASSERT_EQ(first["type"], "ok") << first;
    EXPECT_EQ(client::int_field(first, "seq"), 1);
    message_id = client::string_field(first, "message_id");

    auto retry = send_with_id(*ws, chat, "retry-me", "once");
    ASSERT_EQ(retry["type"], "ok") << retry;
    EXPECT_EQ(client::int_field(retry, "seq"), 1);
    EXPECT_EQ(client::string_field(retry, "message_id"), message_id);

    auto rest_retry = post_with_id(http, alice, chat, "retry-me", "once");
    EXPECT_EQ(rest_retry.status, 200) << describe(rest_retry);
    EXPECT_EQ(client::int_field(rest_retry.json().as_object(), "seq"), 1);

    auto other = post_with_id(http, alice, chat, "another", "twice");
    EXPECT_EQ(other.status, 201) << describe(other);
    EXPECT_EQ(client::int_field(other.json().as_object(), "seq"), 2);

    // The same client_msg_id from the other user is a different message.
    auto bobs = post_with_id(http, bob, chat, "retry-me", "bob's");
    EXPECT_EQ(bobs.status, 201) << describe(bobs);
    EXPECT_EQ(client::int_field(bobs.json().as_object(), "seq"), 3);
  }

  ASSERT_EQ(server.stop(), 0) << "SIGTERM must shut down cleanly with exit code 0";
  server.start();
  http = server.http();

  // Tokens survive; the retry still maps to seq 1, on both transports.
  ASSERT_EQ(http.get("/v1/me", alice.token).status, 200);
  auto ws = server.connect_ws(alice.token);
  auto retry = send_with_id(*ws, chat, "retry-me", "once");
  ASSERT_EQ(retry["type"], "ok") << retry;
  EXPECT_EQ(client::int_field(retry, "seq"), 1);
  EXPECT_EQ(client::string_field(retry, "message_id"), message_id);
  auto rest_retry = post_with_id(http, alice, chat, "retry-me", "once");
  EXPECT_EQ(rest_retry.status, 200) << describe(rest_retry);
  EXPECT_EQ(client::int_field(rest_retry.json().as_object(), "seq"), 1);

  auto fresh = send_with_id(*ws, chat, "after-restart", "thrice");
  ASSERT_EQ(fresh["type"], "ok") << fresh;
  EXPECT_EQ(client::int_field(fresh, "seq"), 4);

  const auto history = full_history(http, bob, chat);
  ASSERT_EQ(history.size(), 4u);
  for (std::size_t i = 0; i < history.size(); ++i) {
    EXPECT_EQ(client::int_field(history[i], "seq"), static_cast<std::int64_t>(i + 1));
  }
  EXPECT_EQ(history[0].at("client_msg_id"), "retry-me");
  EXPECT_EQ(history[0].at("body"), "once");
  EXPECT_EQ(history[3].at("client_msg_id"), "after-restart");
}

// The history must be exactly seqs 1..n, and every acknowledged message must
// sit at its acknowledged seq, unchanged. Returns the history.
std::vector<json::object> expect_acked_in_history(HttpClient& http, const Account& reader,
                                                  const std::string& chat,
                                                  const std::vector<SentMessage>& acked) {
  auto history = full_history(http, reader, chat);
  for (std::size_t i = 0; i < history.size(); ++i) {
    EXPECT_EQ(client::int_field(history[i], "seq"), static_cast<std::int64_t>(i + 1))
        << "history has a gap or a duplicate seq";
  }
  for (const auto& m : acked) {
    if (m.seq <= 0) continue;  // never acknowledged
    EXPECT_LE(static_cast<std::size_t>(m.seq), history.size())
        << "acknowledged seq " << m.seq << " lost by kill -9";
    if (static_cast<std::size_t>(m.seq) > history.size()) continue;
    const auto& stored = history[static_cast<std::size_t>(m.seq - 1)];
    EXPECT_EQ(stored.at("client_msg_id"), m.client_msg_id.c_str()) << "seq " << m.seq;
    EXPECT_EQ(stored.at("body"), m.body.c_str()) << "seq " << m.seq;
    EXPECT_EQ(stored.at("message_id"), m.message_id.c_str()) << "seq " << m.seq;
  }
  return history;
}

TEST(Durability, EveryAcknowledgedMessageSurvivesKill9) {
  constexpr int kAcked = 300;
  constexpr int kInFlight = 200;
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account();
  const std::string chat = create_direct(http, alice, bob.user_id);

  // Phase 1: everything acknowledged, then kill -9 at once.
  std::vector<SentMessage> first;
  {
    auto ws = server.connect_ws(alice.token);
    first = send_many(
        *ws, chat, kAcked, [](int i) { return "acked " + std::to_string(i); }, 32);
    server.kill9();
  }
  server.start();
  http = server.http();
  auto history = expect_acked_in_history(http, bob, chat, first);
  EXPECT_EQ(history.size(), static_cast<std::size_t>(kAcked)) << "nothing beyond what was sent";

  // Phase 2: kill -9 while sends are in flight. What was acknowledged is
  // there; what was not may or may not be, but seqs stay gapless and nothing
  // foreign or doubled appears.
  std::vector<SentMessage> second(kInFlight);
  {
    auto ws = server.connect_ws(alice.token);
    for (int i = 0; i < kInFlight; ++i) {
      auto& m = second[static_cast<std::size_t>(i)];
      m.client_msg_id = "inflight-" + std::to_string(i);
      m.body = "in flight " + std::to_string(i);
      ASSERT_TRUE(ws->send_json({{"type", "send"},
                                 {"id", i},
                                 {"chat_id", chat},
                                 {"client_msg_id", m.client_msg_id},
                                 {"body", m.body}}));
    }
    int acks = 0;
    while (acks < kInFlight / 4) {
      auto f = ws->next(10s);
      ASSERT_NE(f["type"], "timeout");
      ASSERT_NE(f["type"], "closed");
      if (f["type"] != "ok") continue;
      auto& m = second[static_cast<std::size_t>(client::int_field(f, "id"))];
      m.seq = client::int_field(f, "seq");
      m.message_id = client::string_field(f, "message_id");
      ++acks;
    }
    server.kill9();
  }
  server.start();
  http = server.http();
  history = expect_acked_in_history(http, bob, chat, first);
  expect_acked_in_history(http, bob, chat, second);
  EXPECT_GE(history.size(), static_cast<std::size_t>(kAcked + kInFlight / 4));
  EXPECT_LE(history.size(), static_cast<std::size_t>(kAcked + kInFlight));
  std::set<std::string> ids;
  for (std::size_t i = kAcked; i < history.size(); ++i) {
    const std::string cmid = client::string_field(history[i], "client_msg_id");
    EXPECT_TRUE(cmid.starts_with("inflight-")) << history[i];
    EXPECT_TRUE(ids.insert(cmid).second) << "stored twice: " << cmid;
  }

  // The event stream survived with the messages: bob replays them all, in order.
  auto ws = server.connect_ws(bob.token, 0);
  auto events =
      collect_messages_until_seq(*ws, chat, static_cast<std::int64_t>(history.size()), 20s);
  ASSERT_EQ(events.size(), history.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(seq_of(events[i]), static_cast<std::int64_t>(i + 1));
    EXPECT_EQ(message_of(events[i]).at("message_id"), history[i].at("message_id"));
  }

  // And the server goes on numbering after the survivors.
  auto next = post_with_id(http, alice, chat, "after-crash", "x");
  ASSERT_EQ(next.status, 201) << describe(next);
  EXPECT_EQ(client::int_field(next.json().as_object(), "seq"),
            static_cast<std::int64_t>(history.size() + 1));
}

}  // namespace
}  // namespace chat::test

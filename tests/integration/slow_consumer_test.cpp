// A client that stops reading is disconnected once its send queue passes
// --ws-max-queued-bytes (close 1013), loses nothing, and resumes from its
// cursor. ARCHITECTURE.md principle 5: bounded per-connection queues with a
// clear policy for slow consumers.
#include <gtest/gtest.h>

#include <thread>

#include "fixtures.hpp"

namespace chat::test {
namespace {

TEST(SlowConsumer, IsDisconnectedWith1013AndResumesFromItsCursor) {
  // 800 messages of 16 KiB: 12.5 MiB, far more than the 64 KiB queue plus what
  // the kernel buffers (the reader's receive buffer is pinned to 64 KiB; the
  // server's send buffer may grow to net.ipv4.tcp_wmem's maximum, 4 MiB here).
  constexpr int kMessages = 800;
  constexpr int kOverflow = 500;  // 7.8 MiB: sure to be past the kernel buffers and the queue
  constexpr std::size_t kBodyBytes = 16 * 1024;
  ChatServer server({"--ws-max-queued-bytes", "65536"});
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account();
  const std::string chat = create_direct(http, alice, bob.user_id);

  WsClient slow;
  slow.set_receive_buffer(64 * 1024);
  ASSERT_EQ(slow.connect(server.host(), server.port()), 101);
  auto ok = client::ws_auth(slow, bob.token);
  ASSERT_EQ(ok["type"], "ok") << ok;
  const auto cursor = client::int_field(ok, "cursor");

  // Bob does not read while alice sends. Alice reads her own socket (her
  // device gets her messages too) and keeps at most 2 sends in flight, so her
  // own queue never holds more than ~2 events: she is not the slow one.
  auto fast = server.connect_ws(alice.token);
  const std::string filler(kBodyBytes - 16, 'x');
  const auto body_of = [&](int i) { return std::to_string(i) + ":" + filler; };
  auto sent = send_many(*fast, chat, kOverflow, body_of, 2);
  ASSERT_EQ(sent.back().seq, kOverflow);

  // Bob's queue has overflowed by now. The server closes with 1013, but the
  // close frame waits behind what bob has not read, and the server drops the
  // TCP connection if the close handshake takes longer than its grace period
  // (5 s): so bob reads at once, while alice sends the rest.
  std::string rest_failure;
  std::thread rest([&] {
    try {
      send_many(
          *fast, chat, kMessages - kOverflow, [&](int i) { return body_of(kOverflow + i); }, 2);
    } catch (const std::exception& e) {
      rest_failure = e.what();
    }
  });
  std::vector<std::int64_t> before_close;
  for (;;) {
    auto f = slow.next(10s);
    if (f["type"] == "timeout") break;
    if (f["type"] == "closed") break;
    if (is_message_event_of(f, chat)) before_close.push_back(seq_of(f));
  }
  rest.join();
  ASSERT_EQ(rest_failure, "");
  ASSERT_FALSE(slow.is_open()) << "bob was never disconnected; he read " << before_close.size()
                               << " of " << kMessages << " messages";
  EXPECT_EQ(slow.close_code(), 1013)
      << slow.close_reason() << " (1006: no close frame came, bob read too late?)";
  EXPECT_LT(before_close.size(), static_cast<std::size_t>(kMessages));
  for (std::size_t i = 0; i < before_close.size(); ++i) {
    EXPECT_EQ(before_close[i], static_cast<std::int64_t>(i + 1)) << "in order before the close";
  }

  // He acknowledged nothing, so the next connection starts at the same cursor
  // and brings every message, in order, acknowledging as a real client would.
  json::object again;
  auto ws = server.connect_ws(bob.token, std::nullopt, &again);
  EXPECT_EQ(client::int_field(again, "cursor"), cursor) << again;
  std::vector<std::int64_t> seqs;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (seqs.size() < static_cast<std::size_t>(kMessages) &&
         std::chrono::steady_clock::now() < deadline) {
    auto f = ws->next(10s);
    if (f["type"] == "timeout" || f["type"] == "closed") {
      ADD_FAILURE() << "resuming: " << f << " after " << seqs.size() << " messages";
      break;
    }
    if (!is_message_event_of(f, chat)) continue;
    seqs.push_back(seq_of(f));
    const auto body = client::string_field(message_of(f), "body");
    EXPECT_EQ(body.size(), kBodyBytes - 16 + std::to_string(seqs.back() - 1).size() + 1);
    if (seqs.size() % 100 == 0) {
      ASSERT_TRUE(ws->send_json({{"type", "ack"}, {"offset", client::int_field(f, "offset")}}));
    }
  }
  ASSERT_EQ(seqs.size(), static_cast<std::size_t>(kMessages));
  for (std::size_t i = 0; i < seqs.size(); ++i) {
    ASSERT_EQ(seqs[i], static_cast<std::int64_t>(i + 1)) << "gap, duplicate or reordering";
  }
  EXPECT_TRUE(ws->is_open()) << "a client that reads must not be disconnected: "
                             << ws->close_code();
}

}  // namespace
}  // namespace chat::test

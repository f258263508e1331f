// Operations endpoints: /healthz, /metrics, /v1/discover, /v1/limits; and the
// clean SIGTERM shutdown. PROTOCOL.md "Operations", "Conventions" (limits).
#include <gtest/gtest.h>

#include <sys/resource.h>

#include <sstream>
#include <thread>

#include "fixtures.hpp"

namespace chat::test {
namespace {

// The value of an unlabelled sample `name` in Prometheus text, or -1.
double metric(const std::string& text, const std::string& name) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
  }
  return -1;
}

TEST(Ops, HealthMetricsDiscoverAndLimits) {
  ChatServer server({"--max-group-members", "7", "--max-frame-bytes", "200000"});
  auto http = server.http();
  EXPECT_EQ(http.get("/healthz").status, 200);

  const Account alice = server.new_account(), bob = server.new_account();
  const std::string chat = create_direct(http, alice, bob.user_id);
  auto wa = server.connect_ws(alice.token);
  auto wb = server.connect_ws(bob.token);

  auto before = http.get("/metrics");
  ASSERT_EQ(before.status, 200) << describe(before);
  EXPECT_EQ(metric(before.body, "chatd_connections"), 2) << before.body;
  const double stored = metric(before.body, "chatd_messages_stored_total");
  const double delivered = metric(before.body, "chatd_events_delivered_total");
  ASSERT_GE(stored, 0) << before.body;
  ASSERT_GE(delivered, 0) << before.body;

  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(ws_send(*wa, chat, "m")["type"], "ok");
  ASSERT_EQ(collect_messages_until_seq(*wb, chat, 3).size(), 3u);
  auto after = http.get("/metrics");
  EXPECT_EQ(metric(after.body, "chatd_messages_stored_total"), stored + 3) << after.body;
  // Each message reached two sockets (bob's and alice's own device).
  EXPECT_GE(metric(after.body, "chatd_events_delivered_total"), delivered + 6) << after.body;

  auto discover = http.get("/v1/discover");
  ASSERT_EQ(discover.status, 200) << describe(discover);
  const std::string ws_url = client::string_field(discover.json().as_object(), "ws_url");
  EXPECT_EQ(ws_url, "ws://" + server.host() + ":" + std::to_string(server.port()) + "/v1/ws");

  auto limits = http.get("/v1/limits");
  ASSERT_EQ(limits.status, 200) << describe(limits);
  const auto l = limits.json().as_object();
  EXPECT_EQ(client::int_field(l, "max_group_members"), 7) << limits.body;
  EXPECT_EQ(client::int_field(l, "max_frame_bytes"), 200000) << limits.body;
  EXPECT_EQ(client::int_field(l, "max_body_bytes"), 65536) << limits.body;
  EXPECT_EQ(client::int_field(l, "max_title_chars"), 128) << limits.body;

  // The configured frame limit is the enforced one.
  wa->send_raw(WsClient::encode_frame(1, std::string(200'001, ' ')));
  auto closed = wa->next_where([](const json::object&) { return false; }, 5s);
  EXPECT_EQ(closed["type"], "closed") << closed;
  EXPECT_EQ(wa->close_code(), 1009) << wa->close_reason();

  wa.reset();
  wb->close();
  EXPECT_EQ(server.stop(), 0) << "SIGTERM must end chatd with exit code 0";
}

// chatd raises its soft open-files limit to the hard one and keeps what its
// store needs (RocksDB's table cache + a margin) out of the connections it
// accepts: the default --max-connections is derived from the real limit.
TEST(Ops, DefaultConnectionLimitComesFromTheOpenFilesLimit) {
  rlimit rl{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
  ASSERT_NE(rl.rlim_max, RLIM_INFINITY);
  ChatServer server;  // the child inherits our hard limit
  const std::string line = server.wait_for_line(
      [](const std::string& l) { return l.rfind("chatd: accepting up to ", 0) == 0; }, 5s);
  const std::size_t hard = rl.rlim_max;
  // 576 = RocksDB's 512 table files + 64 (docs/operations.md, "Limits of one process").
  const std::size_t expected = hard > 2 * 576 ? hard - 576 : hard / 2;
  EXPECT_EQ(line, "chatd: accepting up to " + std::to_string(expected) +
                      " connections (open-files limit " + std::to_string(hard) + ")");
}

// At --max-connections chatd stops accepting instead of running out of file
// descriptors (which its store needs too): a new client waits in the listen
// backlog, is served as soon as another one leaves, and the pause is counted.
TEST(Ops, AtMaxConnectionsNewClientsWaitUntilOthersLeave) {
  // One worker: one listener, so the count is exact (each worker's listener may
  // have one accept in flight when the limit is reached).
  ChatServer server({"--max-connections", "3", "--threads", "1"});
  const Account alice = server.new_account();
  // new_account's HTTP connection must be gone before the sockets are counted.
  for (int i = 0; i < 50; ++i) {
    auto probe = server.http();
    if (metric(probe.get("/metrics").body, "chatd_http_connections") == 1) break;
    std::this_thread::sleep_for(20ms);
  }
  std::vector<std::unique_ptr<WsClient>> held;
  for (int i = 0; i < 3; ++i)
    held.push_back(server.connect_ws(alice.token));

  auto waiting = server.http();
  const auto unanswered = waiting.raw("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n", 700ms);
  EXPECT_EQ(unanswered.status, 0) << "a fourth connection must wait, not be served";
  for (auto& ws : held)  // the three are still served
    EXPECT_TRUE(ws->ping(2s));

  held[0]->close();
  held.erase(held.begin());
  auto http = server.http();
  const auto answered = http.get("/healthz");  // waits in the backlog, then is served
  EXPECT_EQ(answered.status, 200) << describe(answered);
  EXPECT_GT(metric(http.get("/metrics").body, "chatd_accept_pauses_total"), 0);
}

}  // namespace
}  // namespace chat::test

// Operations endpoints: /healthz, /metrics, /v1/discover, /v1/limits; and the
// clean SIGTERM shutdown. PROTOCOL.md "Operations", "Conventions" (limits).
#include <gtest/gtest.h>

#include <sstream>

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

}  // namespace
}  // namespace chat::test

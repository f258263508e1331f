// The long-poll fallback: GET /v1/events answers at once when events exist,
// waits for the next one otherwise, answers empty at its timeout; POST
// /v1/events/ack moves the same device cursor the WebSocket uses.
#include <gtest/gtest.h>

#include <thread>

#include "fixtures.hpp"

namespace chat::test {
namespace {

using Clock = std::chrono::steady_clock;

std::int64_t elapsed_ms(Clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - since).count();
}

HttpResponse poll(HttpClient& http, const Account& who, std::int64_t after, int timeout_ms) {
  return http.request(
      "GET",
      "/v1/events?after=" + std::to_string(after) + "&timeout_ms=" + std::to_string(timeout_ms), {},
      {.bearer = who.token, .timeout = std::chrono::milliseconds(timeout_ms + 10'000)});
}

std::vector<json::object> message_events(const json::object& body, const std::string& chat) {
  std::vector<json::object> out;
  for (const auto& e : body.at("events").as_array()) {
    if (is_message_event_of(e.as_object(), chat)) out.push_back(e.as_object());
  }
  return out;
}

void post_text(HttpClient& http, const Account& from, const std::string& chat,
               const std::string& body) {
  auto r =
      http.post("/v1/chats/" + chat + "/messages",
                {{"client_msg_id", client::random_client_msg_id()}, {"body", body}}, from.token);
  ASSERT_EQ(r.status, 201) << describe(r);
}

struct World {
  ChatServer server;
  HttpClient http = server.http();
  Account alice = server.new_account();
  Account bob = server.new_account();
  std::string chat = create_direct(http, alice, bob.user_id);
};

TEST(LongPoll, AnswersAtOnceWhenEventsExist) {
  World s;
  post_text(s.http, s.alice, s.chat, "one");
  post_text(s.http, s.alice, s.chat, "two");
  const auto start = Clock::now();
  auto r = poll(s.http, s.bob, 0, 10'000);
  EXPECT_LT(elapsed_ms(start), 3000) << "events existed, the poll should not wait";
  ASSERT_EQ(r.status, 200) << describe(r);
  const auto body = r.json().as_object();
  const auto messages = message_events(body, s.chat);
  ASSERT_EQ(messages.size(), 2u) << r.body;
  EXPECT_EQ(seq_of(messages[0]), 1);
  EXPECT_EQ(seq_of(messages[1]), 2);
  std::int64_t last = 0;
  for (const auto& e : body.at("events").as_array()) {
    const auto offset = client::int_field(e.as_object(), "offset");
    EXPECT_GT(offset, last) << "events in offset order";
    last = offset;
  }
  EXPECT_EQ(client::int_field(body, "head"), last) << r.body;
}

TEST(LongPoll, WaitsUntilAMessageArrives) {
  World s;
  auto first = poll(s.http, s.bob, 0, 0);
  ASSERT_EQ(first.status, 200) << describe(first);
  const auto head = client::int_field(first.json().as_object(), "head");

  std::thread sender([&] {
    std::this_thread::sleep_for(700ms);
    auto http = s.server.http();
    post_text(http, s.alice, s.chat, "late");
  });
  const auto start = Clock::now();
  auto r = poll(s.http, s.bob, head, 10'000);
  const auto waited = elapsed_ms(start);
  sender.join();
  ASSERT_EQ(r.status, 200) << describe(r);
  EXPECT_GE(waited, 500) << "answered before the message was sent";
  EXPECT_LT(waited, 5000) << "did not answer soon after the message arrived";
  const auto messages = message_events(r.json().as_object(), s.chat);
  ASSERT_EQ(messages.size(), 1u) << r.body;
  EXPECT_EQ(message_of(messages[0]).at("body"), "late");
  EXPECT_GT(client::int_field(messages[0], "offset"), head);
}

TEST(LongPoll, AnswersEmptyAtTheTimeout) {
  World s;
  const auto head = client::int_field(poll(s.http, s.bob, 0, 0).json().as_object(), "head");
  const auto start = Clock::now();
  auto r = poll(s.http, s.bob, head, 1000);
  const auto waited = elapsed_ms(start);
  ASSERT_EQ(r.status, 200) << describe(r);
  EXPECT_GE(waited, 900);
  EXPECT_LT(waited, 5000);
  const auto body = r.json().as_object();
  EXPECT_TRUE(body.at("events").as_array().empty()) << r.body;
  EXPECT_EQ(client::int_field(body, "head"), head);
}

TEST(LongPoll, AckMovesTheDeviceCursor) {
  World s;
  for (int i = 1; i <= 3; ++i)
    post_text(s.http, s.alice, s.chat, "m" + std::to_string(i));
  auto r = poll(s.http, s.bob, 0, 0);
  ASSERT_EQ(r.status, 200) << describe(r);
  const auto messages = message_events(r.json().as_object(), s.chat);
  ASSERT_EQ(messages.size(), 3u) << r.body;
  const auto second = client::int_field(messages[1], "offset");

  auto acked = s.http.post("/v1/events/ack", {{"offset", second}}, s.bob.token);
  ASSERT_EQ(acked.status, 204) << describe(acked);

  // The WebSocket sees the same cursor and resumes after it.
  json::object ok;
  auto ws = s.server.connect_ws(s.bob.token, std::nullopt, &ok);
  EXPECT_EQ(client::int_field(ok, "cursor"), second) << ok;
  auto got = collect_messages_until_seq(*ws, s.chat, 3, 5s);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(seq_of(got[0]), 3);

  // Beyond the head is refused and leaves the cursor alone.
  auto beyond = s.http.post("/v1/events/ack", {{"offset", second + 1000}}, s.bob.token);
  EXPECT_EQ(beyond.status, 400) << describe(beyond);
  EXPECT_EQ(beyond.error_code(), "bad_request");
  json::object ok2;
  auto ws2 = s.server.connect_ws(s.bob.token, std::nullopt, &ok2);
  EXPECT_EQ(client::int_field(ok2, "cursor"), second) << ok2;
}

TEST(LongPoll, RefusesBadTokensAndBadParameters) {
  World s;
  auto no_token = s.http.get("/v1/events?after=0&timeout_ms=0");
  EXPECT_EQ(no_token.status, 401) << describe(no_token);
  for (const std::string query : {"after=abc", "after=-1", "after=0&timeout_ms=abc",
                                  "after=9007199254740992", "after=99999999999999999999999"}) {
    auto r = s.http.get("/v1/events?" + query, s.bob.token);
    EXPECT_EQ(r.status, 400) << query << ": " << describe(r);
    EXPECT_EQ(r.error_code(), "bad_request") << query;
  }
  EXPECT_TRUE(server_still_serves(s.server).empty());
}

}  // namespace
}  // namespace chat::test

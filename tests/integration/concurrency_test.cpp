// Many concurrent senders into one group: every member device must observe
// the same gapless, duplicate-free sequence. PROTOCOL.md "Messages": seq is
// per chat, strictly increasing and gapless; every member and every device
// sees the same order.
#include <gtest/gtest.h>

#include <mutex>
#include <thread>

#include "fixtures.hpp"

namespace chat::test {
namespace {

// What one member device saw of one message, in arrival order.
struct Seen {
  std::int64_t seq = 0;
  std::string message_id;
  std::string sender;
  std::string client_msg_id;
};

TEST(Concurrency, TwentySendersIntoOneGroupSeeOneGaplessOrder) {
  constexpr int kUsers = 20;
  constexpr int kPerUser = 500;
  constexpr int kWindow = 16;                  // sends in flight per connection
  constexpr std::int64_t kSystemMessages = 1;  // "created"
  constexpr std::int64_t kLastSeq = kUsers * kPerUser + kSystemMessages;

  ChatServer server;
  auto http = server.http();
  std::vector<Account> users;
  std::vector<std::string> others;
  for (int i = 0; i < kUsers; ++i) {
    users.push_back(server.new_account());
    if (i > 0) others.push_back(users.back().user_id);
  }
  const std::string chat = create_group(http, users[0], "twenty", others);
  std::vector<std::unique_ptr<WsClient>> sockets;
  for (const auto& u : users)
    sockets.push_back(server.connect_ws(u.token));

  std::vector<std::vector<Seen>> seen(kUsers);
  std::vector<std::vector<SentMessage>> sent(kUsers);
  std::vector<std::string> failures(kUsers);
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int i = 0; i < kUsers; ++i) {
    threads.emplace_back([&, i] {
      auto& ws = *sockets[static_cast<std::size_t>(i)];
      auto& mine = seen[static_cast<std::size_t>(i)];
      mine.reserve(static_cast<std::size_t>(kLastSeq));
      const auto on_event = [&](json::object f) {
        if (!is_message_event_of(f, chat)) return;
        const auto& m = message_of(f);
        // System messages have a null sender and client_msg_id.
        const auto text_or_empty = [&](const char* key) {
          const auto* v = m.if_contains(key);
          return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
        };
        mine.push_back({client::int_field(m, "seq"), client::string_field(m, "message_id"),
                        text_or_empty("sender"), text_or_empty("client_msg_id")});
      };
      try {
        sent[static_cast<std::size_t>(i)] = send_many(
            ws, chat, kPerUser,
            [i](int k) { return "user " + std::to_string(i) + " message " + std::to_string(k); },
            kWindow, on_event, 90s);
        // Then read until this device has seen the last seq (or a minute of waiting).
        const auto deadline = std::chrono::steady_clock::now() + 60s;
        while ((mine.empty() || mine.back().seq < kLastSeq) &&
               std::chrono::steady_clock::now() < deadline) {
          auto f = ws.next(5s);
          if (f["type"] == "closed" || f["type"] == "timeout") {
            failures[static_cast<std::size_t>(i)] = "while reading: " + json::serialize(f);
            return;
          }
          on_event(std::move(f));
        }
      } catch (const std::exception& e) {
        failures[static_cast<std::size_t>(i)] = e.what();
      }
    });
  }
  for (auto& t : threads)
    t.join();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  for (int i = 0; i < kUsers; ++i)
    ASSERT_EQ(failures[static_cast<std::size_t>(i)], "") << "user " << i;
  EXPECT_LT(elapsed, 60s) << "10,000 messages took "
                          << std::chrono::duration_cast<std::chrono::seconds>(elapsed).count()
                          << " s";

  // Every device saw exactly seqs 1..kLastSeq, in order, once each.
  for (int i = 0; i < kUsers; ++i) {
    const auto& mine = seen[static_cast<std::size_t>(i)];
    ASSERT_EQ(mine.size(), static_cast<std::size_t>(kLastSeq)) << "member " << i;
    for (std::size_t k = 0; k < mine.size(); ++k) {
      ASSERT_EQ(mine[k].seq, static_cast<std::int64_t>(k + 1))
          << "member " << i << ": gap, duplicate or reordering at position " << k;
    }
  }
  // ... and the same message at each seq.
  const auto& reference = seen[0];
  for (int i = 1; i < kUsers; ++i) {
    const auto& mine = seen[static_cast<std::size_t>(i)];
    for (std::size_t k = 0; k < mine.size(); ++k) {
      ASSERT_EQ(mine[k].message_id, reference[k].message_id)
          << "member " << i << " and member 0 disagree at seq " << k + 1;
    }
  }
  // Every acknowledged send is the message at its seq.
  for (int i = 0; i < kUsers; ++i) {
    for (const auto& m : sent[static_cast<std::size_t>(i)]) {
      ASSERT_GE(m.seq, 2);
      ASSERT_LE(m.seq, kLastSeq);
      const Seen& at = reference[static_cast<std::size_t>(m.seq - 1)];
      ASSERT_EQ(at.sender, users[static_cast<std::size_t>(i)].user_id) << "seq " << m.seq;
      ASSERT_EQ(at.client_msg_id, m.client_msg_id) << "seq " << m.seq;
      ASSERT_EQ(at.message_id, m.message_id) << "seq " << m.seq;
    }
  }
  // History agrees with what was delivered.
  const auto history = full_history(http, users[5], chat);
  ASSERT_EQ(history.size(), static_cast<std::size_t>(kLastSeq));
  for (std::size_t k = 0; k < history.size(); ++k) {
    ASSERT_EQ(client::string_field(history[k], "message_id"), reference[k].message_id)
        << "seq " << k + 1;
  }
}

}  // namespace
}  // namespace chat::test

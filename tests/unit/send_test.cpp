// core/send_pipeline over a real ChatCore and RocksDB store: seq assignment,
// validation, concurrency, idempotency (also across a restart).
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <algorithm>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "base/random.hpp"
#include "core/validation.hpp"
#include "test_support.hpp"

namespace chat::test {
namespace {
namespace json = boost::json;

class SendTest : public DomainTest {
 protected:
  std::vector<store::MessageRecord> all_messages(const core::Principal& who,
                                                 const std::string& chat) {
    std::vector<store::MessageRecord> out;
    core::HistoryQuery q;
    q.after = 0;
    q.limit = 200;
    for (;;) {
      auto page = core().history().page(who, chat, q);
      if (!page) throw std::runtime_error("history: " + error_text(page.error()));
      if (page->empty()) return out;
      q.after = page->back().seq;
      out.insert(out.end(), page->begin(), page->end());
    }
  }
  // (chat_id, seq) of every message event in `user`'s stream, in stream order,
  // checking that offsets are consecutive from 1.
  std::vector<json::object> message_events(const std::string& user) {
    std::vector<json::object> out;
    std::uint64_t expected_offset = 1;
    for (auto& e : events_of(user)) {
      EXPECT_EQ(e.at("offset").to_number<std::uint64_t>(), expected_offset++);
      if (e.at("type") == "message") out.push_back(e.at("message").as_object());
    }
    return out;
  }
};

TEST_F(SendTest, SeqsAreGaplessFromOne) {
  core::Principal a = new_user(), b = new_user();
  auto chat = create_direct(a, b.user_id);
  ASSERT_TRUE(chat.ok());
  std::int64_t last_ts = 0;
  for (int i = 0; i < 12; ++i) {
    const core::Principal& who = i % 3 == 0 ? b : a;
    clock_.advance(7);
    auto r = send(who, text(chat->chat_id, "cm" + std::to_string(i), "msg " + std::to_string(i)));
    ASSERT_TRUE(r.ok()) << error_text(r.error());
    EXPECT_EQ(r->seq, static_cast<std::uint64_t>(i + 1));
    EXPECT_TRUE(r->created);
    EXPECT_EQ(r->chat_id, chat->chat_id);
    EXPECT_TRUE(core::plausible_id(r->message_id, 'm')) << r->message_id;
    EXPECT_EQ(r->ts, clock_.now_ms());
    EXPECT_GT(r->ts, last_ts);
    last_ts = r->ts;
    auto m = parse_json_object(*r->message_json);
    EXPECT_EQ(m.at("seq").to_number<std::uint64_t>(), r->seq);
    EXPECT_EQ(m.at("sender"), json::value(who.user_id));
    EXPECT_EQ(m.at("sender_device"), json::value(who.device_id));
    EXPECT_EQ(m.at("body"), json::value("msg " + std::to_string(i)));
    EXPECT_EQ(m.at("client_msg_id"), json::value("cm" + std::to_string(i)));
    EXPECT_EQ(m.at("kind"), "text");
  }
  auto stored = all_messages(a, chat->chat_id);
  ASSERT_EQ(stored.size(), 12u);
  for (std::size_t i = 0; i < stored.size(); ++i) {
    EXPECT_EQ(stored[i].seq, i + 1);
    EXPECT_EQ(stored[i].body, "msg " + std::to_string(i));
  }
  auto view = core().chats().get(b, chat->chat_id);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(parse_json_object(*view->json).at("last_seq").to_number<std::uint64_t>(), 12u);
}

TEST_F(SendTest, TimestampsNeverGoBackwards) {
  core::Principal a = new_user(), b = new_user();
  auto chat = create_direct(a, b.user_id);
  ASSERT_TRUE(chat.ok());
  auto first = send(a, text(chat->chat_id, "1", "one"));
  ASSERT_TRUE(first.ok());
  clock_.advance(-60'000);  // the wall clock jumps back
  auto second = send(a, text(chat->chat_id, "2", "two"));
  ASSERT_TRUE(second.ok());
  EXPECT_GE(second->ts, first->ts);
  EXPECT_EQ(second->seq, first->seq + 1);
}

TEST_F(SendTest, ReplyToMustBeAnExistingSeq) {
  core::Principal a = new_user(), b = new_user();
  auto chat = create_direct(a, b.user_id);
  ASSERT_TRUE(chat.ok());
  send_ok(a, chat->chat_id, "first");
  auto req = text(chat->chat_id, "r1", "reply");
  req.reply_to = 1;
  auto ok = send(b, req);
  ASSERT_TRUE(ok.ok()) << error_text(ok.error());
  EXPECT_EQ(parse_json_object(*ok->message_json).at("reply_to").to_number<std::uint64_t>(), 1u);
  EXPECT_EQ(*core().sequencer().store().get_message(chat->chat_id, 2)->reply_to, 1u);

  for (std::uint64_t bad : {std::uint64_t{0}, std::uint64_t{3}, std::uint64_t{1000}}) {
    auto r = text(chat->chat_id, "bad" + std::to_string(bad), "reply");
    r.reply_to = bad;
    EXPECT_EQ(send(b, r).error().code, ErrorCode::bad_request) << bad;
  }
  EXPECT_EQ(all_messages(a, chat->chat_id).size(), 2u);
}

TEST_F(SendTest, InvalidRequestsStoreNothing) {
  core::Principal a = new_user(), b = new_user();
  auto chat = create_direct(a, b.user_id);
  ASSERT_TRUE(chat.ok());
  const std::string id = chat->chat_id;

  auto no_body = text(id, "x", "");
  no_body.body.reset();
  EXPECT_EQ(send(a, no_body).error().code, ErrorCode::bad_request);
  EXPECT_EQ(send(a, text(id, "x", "")).error().code, ErrorCode::bad_request);
  EXPECT_EQ(send(a, text(id, "", "body")).error().code, ErrorCode::bad_request);
  EXPECT_EQ(send(a, text(id, std::string(65, 'c'), "body")).error().code, ErrorCode::bad_request);
  EXPECT_EQ(
      send(a, text(id, "x", std::string(config_.limits.max_body_bytes + 1, 'b'))).error().code,
      ErrorCode::too_large);
  auto media = text(id, "x", "with media");
  media.media = {new_id('f')};
  EXPECT_EQ(send(a, media).error().code, ErrorCode::not_found);  // unknown media id
  media.media = {"not-an-id"};
  EXPECT_EQ(send(a, media).error().code, ErrorCode::not_found);
  auto many_media = text(id, "x", "with media");
  many_media.media.assign(config_.limits.max_media_per_message + 1, "f");
  EXPECT_EQ(send(a, many_media).error().code, ErrorCode::too_large);
  EXPECT_EQ(send(a, text(new_id('c'), "x", "hi")).error().code, ErrorCode::not_found);
  EXPECT_EQ(send(a, text("nonsense", "x", "hi")).error().code, ErrorCode::not_found);

  EXPECT_TRUE(all_messages(a, id).empty());
  EXPECT_EQ(core().events().head(a.user_id), 1u);  // just the chat event

  // The limits are inclusive.
  EXPECT_TRUE(
      send(a, text(id, std::string(64, 'c'), std::string(config_.limits.max_body_bytes, 'b')))
          .ok());
  std::string multibyte_id;
  for (int i = 0; i < 64; ++i)
    multibyte_id += "\xc3\xa9";  // 64 characters, 128 bytes
  EXPECT_TRUE(send(a, text(id, multibyte_id, "ok")).ok());
}

TEST_F(SendTest, ConcurrentSendsGetGaplessUniqueSeqs) {
  constexpr int kThreadsPerUser = 2;
  constexpr int kPerThread = 40;
  std::vector<core::Principal> users = {new_user(), new_user(), new_user()};
  const std::string id = group_id(users[0], {users[1].user_id, users[2].user_id});  // seq 1

  struct Sent {
    std::string sender, body;
    std::uint64_t seq;
  };
  std::mutex mutex;
  std::vector<Sent> sent;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (std::size_t u = 0; u < users.size(); ++u) {
    for (int t = 0; t < kThreadsPerUser; ++t) {
      threads.emplace_back([&, u, t] {
        std::vector<Waiter<Result<core::SendOutcome>>> waiters(kPerThread);
        std::vector<std::string> bodies;
        for (int i = 0; i < kPerThread; ++i) {
          std::string tag = std::to_string(u) + "/" + std::to_string(t) + "/" + std::to_string(i);
          bodies.push_back("body " + tag);
          core().send().send(users[u], text(id, "cm " + tag, bodies.back()), waiters[i].callback());
        }
        std::uint64_t previous = 0;
        for (int i = 0; i < kPerThread; ++i) {
          auto r = waiters[i].get();
          if (!r.ok()) {
            failures.fetch_add(1);
            continue;
          }
          // One thread's sends are sequenced in the order it made them.
          EXPECT_GT(r->seq, previous);
          previous = r->seq;
          std::lock_guard lock(mutex);
          sent.push_back({users[u].user_id, bodies[i], r->seq});
        }
      });
    }
  }
  for (auto& th : threads)
    th.join();
  ASSERT_EQ(failures.load(), 0);

  const std::size_t total = users.size() * kThreadsPerUser * kPerThread;
  ASSERT_EQ(sent.size(), total);
  std::vector<std::uint64_t> seqs;
  for (const auto& s : sent)
    seqs.push_back(s.seq);
  std::sort(seqs.begin(), seqs.end());
  for (std::size_t i = 0; i < total; ++i)
    ASSERT_EQ(seqs[i], i + 2) << "gap or duplicate";

  // The log holds exactly what each send was told.
  std::map<std::uint64_t, Sent> by_seq;
  for (const auto& s : sent)
    by_seq[s.seq] = s;
  auto log = all_messages(users[1], id);
  ASSERT_EQ(log.size(), total + 1);
  for (std::size_t i = 1; i < log.size(); ++i) {
    EXPECT_EQ(log[i].seq, i + 1);
    EXPECT_EQ(log[i].body, by_seq[log[i].seq].body);
    EXPECT_EQ(log[i].sender, by_seq[log[i].seq].sender);
  }

  // Every member's stream has one event per message, in seq order, own messages included.
  for (const auto& user : users) {
    auto events = message_events(user.user_id);
    ASSERT_EQ(events.size(), total + 1) << user.user_id;
    std::size_t own = 0;
    for (std::size_t i = 0; i < events.size(); ++i) {
      EXPECT_EQ(events[i].at("seq").to_number<std::uint64_t>(), i + 1);
      if (events[i].at("sender") == json::value(user.user_id)) ++own;
    }
    EXPECT_EQ(own, static_cast<std::size_t>(kThreadsPerUser * kPerThread));
  }
}

TEST_F(SendTest, RetryWithTheSameClientMsgIdReturnsTheOriginal) {
  core::Principal a = new_user(), b = new_user();
  auto chat = create_direct(a, b.user_id);
  ASSERT_TRUE(chat.ok());
  const std::string id = chat->chat_id;
  send_ok(a, id, "before");

  auto first = send(a, text(id, "retry-me", "original"));
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(first->created);
  EXPECT_EQ(first->seq, 2u);
  const std::uint64_t head_a = core().events().head(a.user_id);
  const std::uint64_t head_b = core().events().head(b.user_id);

  auto retry = send(a, text(id, "retry-me", "a different body"));
  ASSERT_TRUE(retry.ok());
  EXPECT_FALSE(retry->created);
  EXPECT_EQ(retry->seq, first->seq);
  EXPECT_EQ(retry->message_id, first->message_id);
  EXPECT_EQ(retry->ts, first->ts);
  EXPECT_EQ(parse_json_object(*retry->message_json).at("body"), "original");
  // Nothing new stored, nobody notified.
  EXPECT_EQ(all_messages(a, id).size(), 2u);
  EXPECT_EQ(core().events().head(a.user_id), head_a);
  EXPECT_EQ(core().events().head(b.user_id), head_b);

  // The key is (sender, chat, client_msg_id): another sender's same id is new.
  auto other_sender = send(b, text(id, "retry-me", "b's message"));
  ASSERT_TRUE(other_sender.ok());
  EXPECT_TRUE(other_sender->created);
  EXPECT_EQ(other_sender->seq, 3u);
  // So is the same id in another chat.
  core::Principal c = new_user();
  auto other_chat = create_direct(a, c.user_id);
  ASSERT_TRUE(other_chat.ok());
  auto elsewhere = send(a, text(other_chat->chat_id, "retry-me", "elsewhere"));
  ASSERT_TRUE(elsewhere.ok());
  EXPECT_TRUE(elsewhere->created);
  EXPECT_EQ(elsewhere->seq, 1u);
}

TEST_F(SendTest, RetryAfterRestartReturnsTheOriginalAndSeqsContinue) {
  core::Principal a = new_user(), b = new_user();
  auto chat = create_direct(a, b.user_id);
  ASSERT_TRUE(chat.ok());
  const std::string id = chat->chat_id;
  auto first = send(a, text(id, "persisted", "original"));
  ASSERT_TRUE(first.ok());
  send_ok(b, id, "second");

  reopen();
  auto retry = send(a, text(id, "persisted", "again"));
  ASSERT_TRUE(retry.ok()) << error_text(retry.error());
  EXPECT_FALSE(retry->created);
  EXPECT_EQ(retry->seq, first->seq);
  EXPECT_EQ(retry->message_id, first->message_id);
  EXPECT_EQ(parse_json_object(*retry->message_json).at("body"), "original");

  auto next = send(a, text(id, "new", "third"));
  ASSERT_TRUE(next.ok());
  EXPECT_TRUE(next->created);
  EXPECT_EQ(next->seq, 3u);
  EXPECT_GE(next->ts, first->ts);
  auto log = all_messages(b, id);
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[2].body, "third");
}

TEST_F(SendTest, RetriesWhileTheFirstIsInFlightGetTheSameSeq) {
  core::Principal a = new_user(), b = new_user();
  auto chat = create_direct(a, b.user_id);
  ASSERT_TRUE(chat.ok());
  constexpr int kTries = 5;
  std::vector<Waiter<Result<core::SendOutcome>>> waiters(kTries);
  for (auto& w : waiters)
    core().send().send(a, text(chat->chat_id, "dup", "hello"), w.callback());
  int created = 0;
  for (auto& w : waiters) {
    auto r = w.get();
    ASSERT_TRUE(r.ok()) << error_text(r.error());
    EXPECT_EQ(r->seq, 1u);
    created += r->created;
  }
  EXPECT_EQ(created, 1);
  EXPECT_EQ(all_messages(a, chat->chat_id).size(), 1u);
  EXPECT_EQ(message_events(b.user_id).size(), 1u);
}

TEST_F(SendTest, StopCompletesAndKeepsEverySubmittedSend) {
  core::Principal a = new_user(), b = new_user();
  auto chat = create_direct(a, b.user_id);
  ASSERT_TRUE(chat.ok());
  constexpr int kCount = 100;
  auto succeeded = std::make_shared<std::atomic<int>>(0);
  for (int i = 0; i < kCount; ++i) {
    core().send().send(a, text(chat->chat_id, "cm" + std::to_string(i), "m" + std::to_string(i)),
                       [succeeded](Result<core::SendOutcome> r) {
                         if (r.ok()) succeeded->fetch_add(1);
                       });
  }
  core().stop();  // without waiting first
  EXPECT_EQ(succeeded->load(), kCount);
  close();
  open();
  auto log = all_messages(a, chat->chat_id);
  ASSERT_EQ(log.size(), static_cast<std::size_t>(kCount));
  for (int i = 0; i < kCount; ++i)
    EXPECT_EQ(log[i].body, "m" + std::to_string(i));
  EXPECT_EQ(message_events(b.user_id).size(), static_cast<std::size_t>(kCount));
}

// Destruction without stop() (an exception unwinding main, a test) must not
// run the writer's completions on destroyed services.
TEST_F(SendTest, DestroyingTheCoreWithoutStopCompletesEverySubmittedSend) {
  core::Principal a = new_user(), b = new_user();
  auto chat = create_direct(a, b.user_id);
  ASSERT_TRUE(chat.ok());
  constexpr int kCount = 200;
  auto succeeded = std::make_shared<std::atomic<int>>(0);
  for (int i = 0; i < kCount; ++i) {
    core().send().send(a, text(chat->chat_id, "cm" + std::to_string(i), "m" + std::to_string(i)),
                       [succeeded](Result<core::SendOutcome> r) {
                         if (r.ok()) succeeded->fetch_add(1);
                       });
  }
  core_.reset();  // no stop(), no waiting
  EXPECT_EQ(succeeded->load(), kCount);
  open();
  EXPECT_EQ(all_messages(a, chat->chat_id).size(), static_cast<std::size_t>(kCount));
}

}  // namespace
}  // namespace chat::test

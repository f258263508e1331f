// core/event_stream and core/history over a real ChatCore and RocksDB store.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <string>
#include <vector>

#include "base/random.hpp"
#include "test_support.hpp"

namespace chat::test {
namespace {
namespace json = boost::json;

// ---- event stream ------------------------------------------------------------------

class EventStreamTest : public DomainTest {};

TEST_F(EventStreamTest, EveryMemberGetsEveryMessageInOrderIncludingItsOwn) {
  core::Principal a = new_user(), b = new_user();
  auto chat = create_direct(a, b.user_id);
  ASSERT_TRUE(chat.ok());
  std::vector<std::string> senders;
  for (int i = 0; i < 6; ++i) {
    const core::Principal& who = i % 2 ? b : a;
    send_ok(who, chat->chat_id, "m" + std::to_string(i));
    senders.push_back(who.user_id);
  }
  for (const auto& user : {a.user_id, b.user_id}) {
    auto events = events_of(user);
    ASSERT_EQ(events.size(), 7u) << user;  // the chat event, then six messages
    EXPECT_EQ(events[0].at("type"), "chat");
    EXPECT_EQ(events[0].at("chat").as_object().at("chat_id"), json::value(chat->chat_id));
    for (std::size_t i = 0; i < events.size(); ++i) {
      EXPECT_EQ(events[i].at("offset").to_number<std::uint64_t>(), i + 1);
    }
    for (std::size_t i = 1; i < events.size(); ++i) {
      ASSERT_EQ(events[i].at("type"), "message");
      const auto& m = events[i].at("message").as_object();
      EXPECT_EQ(m.at("chat_id"), json::value(chat->chat_id));
      EXPECT_EQ(m.at("seq").to_number<std::uint64_t>(), i);
      EXPECT_EQ(m.at("sender"), json::value(senders[i - 1]));
      EXPECT_EQ(m.at("body"), json::value("m" + std::to_string(i - 1)));
    }
    EXPECT_EQ(core().events().head(user), 7u);
  }
  // The stored stream reads the same after a restart.
  auto before = events_of(a.user_id);
  reopen();
  EXPECT_EQ(events_of(a.user_id), before);
  EXPECT_EQ(core().events().head(a.user_id), 7u);
}

TEST_F(EventStreamTest, ReadHonoursAfterAndLimit) {
  core::Principal a = new_user(), b = new_user();
  auto chat = create_direct(a, b.user_id);
  ASSERT_TRUE(chat.ok());
  for (int i = 0; i < 5; ++i)
    send_ok(a, chat->chat_id, "x");
  // Head is 6 (chat event + 5 messages).
  auto page = core().events().read(a.user_id, 2, 2);
  ASSERT_EQ(page.frames.size(), 2u);
  EXPECT_EQ(page.frames[0].offset, 3u);
  EXPECT_EQ(page.frames[1].offset, 4u);
  EXPECT_EQ(page.last_offset, 4u);
  auto last = core().events().read(a.user_id, 5, 100);
  ASSERT_EQ(last.frames.size(), 1u);
  EXPECT_EQ(last.last_offset, 6u);
  auto at_head = core().events().read(a.user_id, 6, 100);
  EXPECT_TRUE(at_head.frames.empty());
  EXPECT_EQ(at_head.last_offset, 6u);
  EXPECT_TRUE(core().events().read(a.user_id, 1000, 100).frames.empty());
  EXPECT_TRUE(core().events().read(new_id('u'), 0, 100).frames.empty());
  EXPECT_EQ(core().events().head(new_id('u')), 0u);
}

TEST_F(EventStreamTest, LiveListenersGetEventsBeforeTheSenderIsAcked) {
  core::Principal a = new_user(), b = new_user();
  auto chat = create_direct(a, b.user_id);
  ASSERT_TRUE(chat.ok());
  auto listener = std::make_shared<RecordingListener>(b.device_id);
  core().hub().subscribe(b.user_id, listener);
  EXPECT_EQ(core().hub().listeners(), 1u);
  EXPECT_EQ(core().hub().users(), 1u);

  for (int i = 0; i < 3; ++i) {
    const std::uint64_t seq = send_ok(a, chat->chat_id, "live " + std::to_string(i));
    // Publication happens before the sender's completion.
    auto frames = listener->frames();
    ASSERT_EQ(frames.size(), static_cast<std::size_t>(i + 1));
    const auto& f = frames.back();
    EXPECT_EQ(f.offset, core().events().head(b.user_id));
    EXPECT_GT(f.sequenced_ms, 0);
    auto o = parse_json_object(proto::event_frame(f.offset, *f.tail));
    EXPECT_EQ(o.at("type"), "message");
    EXPECT_EQ(o.at("message").as_object().at("seq").to_number<std::uint64_t>(), seq);
  }
  // The live frames are the stored ones.
  auto stored = core().events().read(b.user_id, 1, 100).frames;
  auto live = listener->frames();
  ASSERT_EQ(stored.size(), live.size());
  for (std::size_t i = 0; i < live.size(); ++i) {
    EXPECT_EQ(stored[i].offset, live[i].offset);
    EXPECT_EQ(parse_json_object(proto::event_frame(stored[i].offset, *stored[i].tail)),
              parse_json_object(proto::event_frame(live[i].offset, *live[i].tail)));
  }
  core().hub().unsubscribe(b.user_id, listener.get());
  EXPECT_EQ(core().hub().listeners(), 0u);
  send_ok(a, chat->chat_id, "not live");
  EXPECT_EQ(listener->frames().size(), 3u);
}

TEST_F(EventStreamTest, CursorsArePerDeviceAndNeverMoveBackwards) {
  const std::string phone = next_phone();
  Account d1 = sign_in(phone, "one");
  Account d2 = sign_in(phone, "two");
  core::Principal b = new_user();
  auto chat = create_direct(d1.who, b.user_id);
  ASSERT_TRUE(chat.ok());
  for (int i = 0; i < 4; ++i)
    send_ok(b, chat->chat_id, "x");
  const std::uint64_t head = core().events().head(d1.who.user_id);
  ASSERT_EQ(head, 5u);

  EXPECT_EQ(core().events().position(d1.who).cursor, 0u);
  EXPECT_EQ(core().events().position(d2.who).cursor, 0u);  // head was 0 when d2 was created

  ASSERT_TRUE(ack(d1.who, 3).ok());
  EXPECT_EQ(core().events().position(d1.who).cursor, 3u);
  EXPECT_EQ(core().events().position(d2.who).cursor, 0u);  // per device

  auto back = ack(d1.who, 1);
  EXPECT_TRUE(back.ok());  // allowed, but ignored
  EXPECT_EQ(core().events().position(d1.who).cursor, 3u);
  EXPECT_TRUE(ack(d1.who, 3).ok());
  EXPECT_EQ(core().events().position(d1.who).cursor, 3u);

  auto beyond = ack(d1.who, head + 1);
  ASSERT_FALSE(beyond.ok());
  EXPECT_EQ(beyond.error().code, ErrorCode::bad_request);
  EXPECT_EQ(core().events().position(d1.who).cursor, 3u);
  EXPECT_EQ(ack(d2.who, 1'000'000).error().code, ErrorCode::bad_request);

  ASSERT_TRUE(ack(d2.who, 2).ok());
  ASSERT_TRUE(ack(d1.who, head).ok());
  auto pos = core().events().position(d1.who);
  EXPECT_EQ(pos.cursor, head);
  EXPECT_EQ(pos.head, head);

  // Cursors are durable.
  reopen();
  EXPECT_EQ(core().events().position(d1.who).cursor, head);
  EXPECT_EQ(core().events().position(d2.who).cursor, 2u);
  EXPECT_TRUE(ack(d2.who, 1).ok());
  EXPECT_EQ(core().events().position(d2.who).cursor, 2u);  // still never backwards
  EXPECT_EQ(ack(d2.who, head + 1).error().code, ErrorCode::bad_request);
}

TEST_F(EventStreamTest, AckWithAnEmptyStream) {
  core::Principal a = new_user();
  EXPECT_TRUE(ack(a, 0).ok());
  EXPECT_EQ(ack(a, 1).error().code, ErrorCode::bad_request);
  auto pos = core().events().position(a);
  EXPECT_EQ(pos.cursor, 0u);
  EXPECT_EQ(pos.head, 0u);
}

// ---- history ---------------------------------------------------------------------

class HistoryTest : public DomainTest {
 protected:
  static constexpr int kMessages = 30;
  static constexpr std::int64_t kStep = 1000;

  // A direct chat whose message with seq s has body "m<s>" and ts = t0 + s * kStep.
  void SetUp() override {
    DomainTest::SetUp();
    a_ = new_user();
    b_ = new_user();
    outsider_ = new_user();
    auto chat = create_direct(a_, b_.user_id);
    ASSERT_TRUE(chat.ok());
    chat_ = chat->chat_id;
    t0_ = clock_.now_ms();
    for (int s = 1; s <= kMessages; ++s) {
      clock_.set(t0_ + s * kStep);
      ASSERT_EQ(send_ok(s % 2 ? a_ : b_, chat_, "m" + std::to_string(s)),
                static_cast<std::uint64_t>(s));
    }
  }

  std::vector<std::uint64_t> page(core::HistoryQuery q, const core::Principal* who = nullptr) {
    auto r = core().history().page(who ? *who : a_, chat_, q);
    if (!r) throw std::runtime_error("history: " + error_text(r.error()));
    std::vector<std::uint64_t> seqs;
    for (const auto& m : *r) {
      EXPECT_EQ(m.body, "m" + std::to_string(m.seq));
      EXPECT_EQ(m.ts, t0_ + static_cast<std::int64_t>(m.seq) * kStep);
      seqs.push_back(m.seq);
    }
    return seqs;
  }
  static core::HistoryQuery before(std::uint64_t s, std::optional<std::size_t> limit = {}) {
    core::HistoryQuery q;
    q.before = s;
    q.limit = limit;
    return q;
  }
  static core::HistoryQuery after(std::uint64_t s, std::optional<std::size_t> limit = {}) {
    core::HistoryQuery q;
    q.after = s;
    q.limit = limit;
    return q;
  }
  static core::HistoryQuery since(std::int64_t ts, std::optional<std::size_t> limit = {}) {
    core::HistoryQuery q;
    q.since_ts = ts;
    q.limit = limit;
    return q;
  }
  static std::vector<std::uint64_t> seqs(std::uint64_t from, std::uint64_t to) {
    std::vector<std::uint64_t> out;
    if (from <= to) {
      for (std::uint64_t s = from; s <= to; ++s)
        out.push_back(s);
    } else {
      for (std::uint64_t s = from; s >= to; --s)
        out.push_back(s);
    }
    return out;
  }

  core::Principal a_, b_, outsider_;
  std::string chat_;
  std::int64_t t0_ = 0;
};

TEST_F(HistoryTest, NoCursorIsTheNewestPageNewestFirst) {
  EXPECT_EQ(page({}), seqs(30, 1));
  EXPECT_EQ(page({.limit = 5}), seqs(30, 26));
  EXPECT_EQ(page({}, &b_), seqs(30, 1));
}

TEST_F(HistoryTest, BeforeIsExclusiveNewestFirst) {
  EXPECT_EQ(page(before(10, 3)), seqs(9, 7));
  EXPECT_EQ(page(before(10)), seqs(9, 1));
  EXPECT_EQ(page(before(2)), seqs(1, 1));
  EXPECT_TRUE(page(before(1)).empty());
  EXPECT_TRUE(page(before(0)).empty());
  EXPECT_EQ(page(before(31, 2)), seqs(30, 29));
  EXPECT_EQ(page(before(1'000'000, 2)), seqs(30, 29));
}

TEST_F(HistoryTest, AfterIsExclusiveOldestFirst) {
  EXPECT_EQ(page(after(10, 3)), seqs(11, 13));
  EXPECT_EQ(page(after(0, 4)), seqs(1, 4));
  EXPECT_EQ(page(after(25)), seqs(26, 30));
  EXPECT_TRUE(page(after(30)).empty());
  EXPECT_TRUE(page(after(1'000'000)).empty());
}

TEST_F(HistoryTest, SinceTsIsInclusiveOldestFirst) {
  EXPECT_EQ(page(since(t0_ + 5 * kStep, 3)), seqs(5, 7));      // exactly seq 5's ts
  EXPECT_EQ(page(since(t0_ + 5 * kStep + 1, 3)), seqs(6, 8));  // just after it
  EXPECT_EQ(page(since(t0_ + 5 * kStep - 1, 3)), seqs(5, 7));  // just before it
  EXPECT_EQ(page(since(0, 2)), seqs(1, 2));
  EXPECT_EQ(page(since(t0_ + 30 * kStep)), seqs(30, 30));
  EXPECT_TRUE(page(since(t0_ + 30 * kStep + 1)).empty());
}

TEST_F(HistoryTest, SinceTsWithEqualTimestamps) {
  // Five more messages in the same millisecond: since_ts finds the first of them.
  clock_.set(t0_ + 100 * kStep);
  std::vector<std::uint64_t> same;
  for (int i = 0; i < 5; ++i)
    same.push_back(send_ok(a_, chat_, "same"));
  auto r = core().history().page(a_, chat_, since(t0_ + 100 * kStep));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 5u);
  for (std::size_t i = 0; i < 5; ++i)
    EXPECT_EQ((*r)[i].seq, same[i]);
}

TEST_F(HistoryTest, OnlyOneCursorAtATime) {
  core::HistoryQuery q;
  q.before = 10;
  q.after = 2;
  EXPECT_EQ(core().history().page(a_, chat_, q).error().code, ErrorCode::bad_request);
  core::HistoryQuery r;
  r.after = 2;
  r.since_ts = 0;
  EXPECT_EQ(core().history().page(a_, chat_, r).error().code, ErrorCode::bad_request);
}

TEST_F(HistoryTest, MembersOnly) {
  EXPECT_EQ(core().history().page(outsider_, chat_, {}).error().code, ErrorCode::not_found);
  EXPECT_EQ(core().history().page(a_, new_id('c'), {}).error().code, ErrorCode::not_found);
}

TEST_F(HistoryTest, SurvivesARestart) {
  reopen();
  EXPECT_EQ(page(after(27)), seqs(28, 30));
  EXPECT_EQ(page(since(t0_ + 29 * kStep)), seqs(29, 30));
}

TEST_F(HistoryTest, LimitDefaultsTo50AndIsClampedTo200) {
  // 230 messages in all; sent without waiting so they commit in a few batches.
  constexpr int kMore = 200;
  clock_.set(t0_ + 1000 * kStep);
  std::vector<Waiter<Result<core::SendOutcome>>> waiters(kMore);
  for (int i = 0; i < kMore; ++i) {
    core().send().send(a_, text(chat_, "more" + std::to_string(i), "more"), waiters[i].callback());
  }
  for (auto& w : waiters)
    ASSERT_TRUE(w.get().ok());
  const std::uint64_t last = kMessages + kMore;

  auto count = [&](core::HistoryQuery q) {
    auto r = core().history().page(a_, chat_, q);
    if (!r) throw std::runtime_error(error_text(r.error()));
    return r->size();
  };
  EXPECT_EQ(count({}), 50u);
  EXPECT_EQ(count({.limit = 200}), 200u);
  EXPECT_EQ(count({.limit = 201}), 200u);
  EXPECT_EQ(count({.limit = 100000}), 200u);
  EXPECT_EQ(count({.limit = 0}), 1u);
  EXPECT_EQ(count(after(0, 1000)), 200u);
  EXPECT_EQ(count(after(200, 1000)), last - 200);
  EXPECT_EQ(count(since(0, 1000)), 200u);
  EXPECT_EQ(count(before(last + 1, 1000)), 200u);

  auto newest = core().history().page(a_, chat_, {});
  ASSERT_TRUE(newest.ok());
  EXPECT_EQ(newest->front().seq, last);
  EXPECT_EQ(newest->back().seq, last - 49);
}

}  // namespace
}  // namespace chat::test

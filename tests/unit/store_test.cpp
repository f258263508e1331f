// store/: the RocksDB backend and the group-commit writer, on a real store in a
// temp dir.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <map>
#include <mutex>
#include <numeric>
#include <thread>
#include <vector>

#include "store/group_commit_writer.hpp"
#include "store/rocks/codec.hpp"
#include "store/rocks/rocks_store.hpp"
#include "test_support.hpp"

namespace chat::store {
namespace {
using test::TempDir;
using test::wait_ready;

UserRecord user(int i) {
  return {.user_id = "u" + std::to_string(i),
          .phone = "+1555000" + std::to_string(1000 + i),
          .name = "user " + std::to_string(i),
          .last_seen_privacy = "everyone",
          .created_ts = i};
}

MessageRecord message(const std::string& chat, std::uint64_t seq, std::int64_t ts) {
  MessageRecord m;
  m.chat_id = chat;
  m.seq = seq;
  m.message_id = "m" + std::to_string(seq);
  m.sender = "u1";
  m.sender_device = "d1";
  m.ts = ts;
  m.kind = "text";
  m.body = "body " + std::to_string(seq);
  return m;
}

void apply(Store& s, std::vector<Mutation> batch) {
  auto status = s.apply(batch, true);
  ASSERT_TRUE(status.ok()) << status.error().message;
}

std::vector<std::uint64_t> seqs(const std::vector<MessageRecord>& ms) {
  std::vector<std::uint64_t> out;
  for (const auto& m : ms)
    out.push_back(m.seq);
  return out;
}

// ---- RocksStore ------------------------------------------------------------------

class RocksStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { store_ = open_rocks_store(dir_.sub("db")); }
  void reopen() {
    store_.reset();
    store_ = open_rocks_store(dir_.sub("db"));
  }
  TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(RocksStoreTest, MessageRoundTripsEveryField) {
  MessageRecord m = message("c1", 1, 1000);
  m.reply_to = 0;
  m.kind = "media";
  m.media = {MediaItem{.media_id = "f1",
                       .mime = "image/png",
                       .size = 1u << 20,
                       .sha256 = std::string(64, 'a'),
                       .filename = "a \"b\".png",
                       .width = 10,
                       .height = 20,
                       .thumbnail = true},
             MediaItem{.media_id = "f2",
                       .mime = "video/mp4",
                       .size = 5'000'000'000ull,
                       .sha256 = std::string(64, 'b'),
                       .duration_ms = 61'000}};
  m.client_msg_id = "cm1";
  m.body = "quote \" backslash \\ nul? no; \xc3\xa9";
  MessageRecord sys;
  sys.chat_id = "c1";
  sys.seq = 2;
  sys.message_id = "m2";
  sys.ts = 1001;
  sys.kind = "system";
  sys.system_json = R"({"action":"created"})";
  sys.deleted = true;
  apply(*store_, {PutMessage{m}, PutMessage{sys}});
  reopen();

  auto got = store_->get_message("c1", 1);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->chat_id, "c1");
  EXPECT_EQ(got->seq, 1u);
  EXPECT_EQ(got->message_id, "m1");
  EXPECT_EQ(got->sender, "u1");
  EXPECT_EQ(got->sender_device, "d1");
  EXPECT_EQ(got->ts, 1000);
  EXPECT_EQ(got->kind, "media");
  EXPECT_EQ(got->body, m.body);
  ASSERT_TRUE(got->reply_to.has_value());
  EXPECT_EQ(*got->reply_to, 0u);
  EXPECT_EQ(got->media, m.media);
  EXPECT_EQ(got->client_msg_id, "cm1");
  EXPECT_FALSE(got->deleted);

  auto got_sys = store_->get_message("c1", 2);
  ASSERT_TRUE(got_sys.has_value());
  EXPECT_EQ(got_sys->kind, "system");
  EXPECT_EQ(got_sys->system_json, sys.system_json);
  EXPECT_TRUE(got_sys->sender.empty());
  EXPECT_FALSE(got_sys->reply_to.has_value());
  EXPECT_TRUE(got_sys->deleted);

  EXPECT_FALSE(store_->get_message("c1", 3).has_value());
  EXPECT_FALSE(store_->get_message("c2", 1).has_value());
}

TEST_F(RocksStoreTest, MessageRangesStayInsideTheirChat) {
  std::vector<Mutation> batch;
  for (std::uint64_t s = 1; s <= 10; ++s)
    batch.push_back(PutMessage{message("c1", s, 100 + s)});
  // "c10" shares the prefix "c1" as a string; the key separator keeps them apart.
  for (std::uint64_t s = 1; s <= 3; ++s)
    batch.push_back(PutMessage{message("c10", s, s)});
  batch.push_back(PutMessage{message("c0", 1, 1)});
  apply(*store_, std::move(batch));

  EXPECT_EQ(seqs(store_->messages_ascending("c1", 1, 10, 100)),
            (std::vector<std::uint64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
  EXPECT_EQ(seqs(store_->messages_ascending("c1", 4, 6, 100)),
            (std::vector<std::uint64_t>{4, 5, 6}));
  EXPECT_EQ(seqs(store_->messages_ascending("c1", 4, 100, 2)), (std::vector<std::uint64_t>{4, 5}));
  EXPECT_EQ(seqs(store_->messages_ascending("c1", 0, UINT64_MAX, 100)).size(), 10u);
  EXPECT_TRUE(store_->messages_ascending("c1", 6, 4, 100).empty());
  EXPECT_TRUE(store_->messages_ascending("c1", 11, 20, 100).empty());

  EXPECT_EQ(seqs(store_->messages_descending("c1", 1, 10, 3)),
            (std::vector<std::uint64_t>{10, 9, 8}));
  EXPECT_EQ(seqs(store_->messages_descending("c1", 4, 6, 100)),
            (std::vector<std::uint64_t>{6, 5, 4}));
  EXPECT_EQ(seqs(store_->messages_descending("c1", 1, 1000, 2)),
            (std::vector<std::uint64_t>{10, 9}));
  EXPECT_EQ(seqs(store_->messages_descending("c10", 1, UINT64_MAX, 100)),
            (std::vector<std::uint64_t>{3, 2, 1}));
  EXPECT_TRUE(store_->messages_descending("c1", 6, 4, 100).empty());
  EXPECT_TRUE(store_->messages_descending("c2", 1, 10, 100).empty());
  for (const auto& m : store_->messages_ascending("c10", 1, 10, 100))
    EXPECT_EQ(m.chat_id, "c10");
}

TEST_F(RocksStoreTest, IdempotencyIndex) {
  MessageRecord m = message("c1", 7, 1);
  m.client_msg_id = "retry-me";
  MessageRecord no_id = message("c1", 8, 2);
  apply(*store_, {PutMessage{m}, PutMessage{no_id}});
  EXPECT_EQ(store_->find_idempotent("u1", "c1", "retry-me"), std::optional<std::uint64_t>(7));
  EXPECT_FALSE(store_->find_idempotent("u2", "c1", "retry-me").has_value());
  EXPECT_FALSE(store_->find_idempotent("u1", "c2", "retry-me").has_value());
  EXPECT_FALSE(store_->find_idempotent("u1", "c1", "retry").has_value());
  EXPECT_FALSE(store_->find_idempotent("u1", "c1", "").has_value());
}

TEST_F(RocksStoreTest, EventsAfter) {
  std::vector<Mutation> batch;
  for (std::uint64_t o = 1; o <= 5; ++o) {
    batch.push_back(PutEvent{{.user_id = "u1",
                              .offset = o,
                              .kind = EventKind::message,
                              .chat_id = "c1",
                              .seq = o * 10}});
  }
  batch.push_back(PutEvent{{.user_id = "u1",
                            .offset = 6,
                            .kind = EventKind::receipt,
                            .chat_id = "c1",
                            .seq = 50,
                            .actor = "u2",
                            .status = "read",
                            .ts = 99}});
  batch.push_back(PutEvent{
      {.user_id = "u10", .offset = 1, .kind = EventKind::chat, .chat_id = "c2", .seq = 0}});
  apply(*store_, std::move(batch));

  auto all = store_->events_after("u1", 0, 100);
  ASSERT_EQ(all.size(), 6u);
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(all[i].user_id, "u1");
    EXPECT_EQ(all[i].offset, i + 1);
    EXPECT_EQ(all[i].kind, EventKind::message);
    EXPECT_EQ(all[i].seq, (i + 1) * 10);
  }
  EXPECT_EQ(all[5].kind, EventKind::receipt);
  EXPECT_EQ(all[5].actor, "u2");
  EXPECT_EQ(all[5].status, "read");
  EXPECT_EQ(all[5].ts, 99);

  auto tail = store_->events_after("u1", 3, 2);
  ASSERT_EQ(tail.size(), 2u);
  EXPECT_EQ(tail[0].offset, 4u);
  EXPECT_EQ(tail[1].offset, 5u);
  EXPECT_TRUE(store_->events_after("u1", 6, 100).empty());
  ASSERT_EQ(store_->events_after("u10", 0, 100).size(), 1u);
  EXPECT_TRUE(store_->events_after("u2", 0, 100).empty());
}

TEST_F(RocksStoreTest, DevicesTokensAndCursors) {
  DeviceRecord d{.user_id = "u1",
                 .device_id = "d1",
                 .name = "phone",
                 .token_hash = "h1",
                 .created_ts = 5,
                 .last_active_ts = 6};
  DeviceRecord d2{.user_id = "u1",
                  .device_id = "d2",
                  .name = "web",
                  .token_hash = "h2",
                  .created_ts = 7,
                  .last_active_ts = 7};
  apply(*store_, {PutUser{user(1)}, PutPhone{"+15550001001", "u1"}, PutDevice{d}, PutDevice{d2},
                  PutCursor{{"u1", "d1", 42}}});

  EXPECT_EQ(store_->find_user_by_phone("+15550001001"), std::optional<std::string>("u1"));
  EXPECT_FALSE(store_->find_user_by_phone("+15550009999").has_value());
  auto u = store_->get_user("u1");
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->name, "user 1");
  EXPECT_EQ(u->phone, user(1).phone);

  auto p = store_->find_token("h1");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->user_id, "u1");
  EXPECT_EQ(p->device_id, "d1");
  EXPECT_EQ(store_->list_devices("u1").size(), 2u);
  EXPECT_EQ(store_->get_cursor("u1", "d1"), 42u);
  EXPECT_EQ(store_->get_cursor("u1", "d2"), 0u);

  apply(*store_, {DeleteDevice{"u1", "d1", "h1"}});
  EXPECT_FALSE(store_->find_token("h1").has_value());
  EXPECT_FALSE(store_->get_device("u1", "d1").has_value());
  EXPECT_EQ(store_->get_cursor("u1", "d1"), 0u);
  auto left = store_->list_devices("u1");
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].device_id, "d2");
  EXPECT_TRUE(store_->find_token("h2").has_value());
}

TEST_F(RocksStoreTest, StartupScans) {
  apply(*store_,
        {PutUser{user(1)}, PutUser{user(2)}, PutUser{user(3)},
         PutChat{{"c1", ChatType::group, "T", 10}}, PutMember{{"c1", "u1", Role::admin, 10}},
         PutMember{{"c1", "u2", Role::member, 11}}, PutMessage{message("c1", 1, 100)},
         PutMessage{message("c1", 2, 200)}, PutChat{{"c2", ChatType::direct, "", 20}},
         PutMember{{"c2", "u1", Role::member, 20}}, PutMember{{"c2", "u3", Role::member, 20}},
         PutDirect{"u1", "u3", "c2"},
         PutEvent{{.user_id = "u1", .offset = 1, .chat_id = "c1", .seq = 1}},
         PutEvent{{.user_id = "u1", .offset = 2, .chat_id = "c1", .seq = 2}},
         PutEvent{{.user_id = "u2", .offset = 1, .chat_id = "c1", .seq = 1}},
         DeleteMember{"c1", "u2"}});
  reopen();

  std::map<std::string, ChatSnapshot> chats;
  store_->for_each_chat([&](ChatSnapshot&& s) { chats[s.chat.chat_id] = std::move(s); });
  ASSERT_EQ(chats.size(), 2u);
  EXPECT_EQ(chats["c1"].chat.type, ChatType::group);
  EXPECT_EQ(chats["c1"].chat.title, "T");
  EXPECT_EQ(chats["c1"].last_seq, 2u);
  EXPECT_EQ(chats["c1"].last_ts, 200);
  ASSERT_EQ(chats["c1"].members.size(), 1u);
  EXPECT_EQ(chats["c1"].members[0].user_id, "u1");
  EXPECT_EQ(chats["c1"].members[0].role, Role::admin);
  EXPECT_EQ(chats["c2"].last_seq, 0u);
  EXPECT_EQ(chats["c2"].members.size(), 2u);

  std::map<std::string, std::uint64_t> heads;
  store_->for_each_user_head([&](const std::string& u, std::uint64_t h) { heads[u] = h; });
  EXPECT_EQ(heads, (std::map<std::string, std::uint64_t>{{"u1", 2}, {"u2", 1}}));

  int directs = 0;
  store_->for_each_direct([&](const std::string& lo, const std::string& hi, const std::string& c) {
    ++directs;
    EXPECT_EQ(lo, "u1");
    EXPECT_EQ(hi, "u3");
    EXPECT_EQ(c, "c2");
  });
  EXPECT_EQ(directs, 1);
}

TEST(RocksCodec, OldMessageMediaIdsStillDecode) {
  // Rows written when a message's "m" was a list of media ids.
  MessageRecord m;
  rocks::decode(R"({"id":"m1","ts":5,"k":"media","s":"u1","m":["f1","f2",7]})", m);
  ASSERT_EQ(m.media.size(), 2u);
  EXPECT_EQ(m.media[0], MediaItem{.media_id = "f1"});
  EXPECT_EQ(m.media[1], MediaItem{.media_id = "f2"});
  EXPECT_EQ(m.kind, "media");
}

MediaRecord media(const std::string& id, const std::string& sha, std::int64_t created,
                  bool sent = false) {
  MediaRecord r;
  r.item = {.media_id = id,
            .mime = "image/jpeg",
            .size = 100,
            .sha256 = sha,
            .filename = "x.jpg",
            .width = 3,
            .height = 4,
            .thumbnail = true};
  r.uploader = "u1";
  r.thumbnail_mime = "image/jpeg";
  r.created_ts = created;
  r.sent = sent;
  return r;
}

std::vector<std::string> ids_of(const std::vector<MediaRecord>& ms) {
  std::vector<std::string> out;
  for (const auto& m : ms)
    out.push_back(m.item.media_id);
  return out;
}

TEST_F(RocksStoreTest, MediaRecordRoundTripsAndIndexesItsBlob) {
  const std::string sha(64, 'a');
  auto f1 = media("f1", sha, 1000);
  auto f2 = media("f2", sha, 2000);
  f2.item.width.reset();
  f2.item.height.reset();
  f2.item.duration_ms = 42;
  f2.item.thumbnail = false;
  f2.thumbnail_mime.clear();
  apply(*store_, {PutMedia{f1}, PutMedia{f2}});
  reopen();

  auto got = store_->get_media("f1");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->item, f1.item);
  EXPECT_EQ(got->uploader, "u1");
  EXPECT_EQ(got->thumbnail_mime, "image/jpeg");
  EXPECT_EQ(got->created_ts, 1000);
  EXPECT_FALSE(got->sent);
  auto got2 = store_->get_media("f2");
  ASSERT_TRUE(got2.has_value());
  EXPECT_EQ(got2->item, f2.item);
  EXPECT_FALSE(store_->get_media("f3").has_value());

  // Two records share the blob: it stays referenced until both are gone.
  EXPECT_TRUE(store_->blob_referenced(sha));
  EXPECT_FALSE(store_->blob_referenced(std::string(64, 'b')));
  EXPECT_FALSE(store_->blob_referenced(sha.substr(0, 63)));  // a prefix is not the blob
  apply(*store_, {DeleteMedia{"f1", sha, 1000}});
  EXPECT_FALSE(store_->get_media("f1").has_value());
  EXPECT_TRUE(store_->blob_referenced(sha));
  apply(*store_, {DeleteMedia{"f2", sha, 2000}});
  EXPECT_FALSE(store_->blob_referenced(sha));
}

TEST_F(RocksStoreTest, UnsentMediaIndexFollowsSent) {
  apply(*store_, {PutMedia{media("f3", "s3", 3000)}, PutMedia{media("f1", "s1", 1000)},
                  PutMedia{media("f2", "s2", 2000)}, PutMedia{media("f0", "s0", 500, true)}});
  // Oldest first, strictly before the bound, sent ones never.
  EXPECT_EQ(ids_of(store_->unsent_media_before(3000, 100)), (std::vector<std::string>{"f1", "f2"}));
  EXPECT_EQ(ids_of(store_->unsent_media_before(3001, 1)), (std::vector<std::string>{"f1"}));
  EXPECT_TRUE(store_->unsent_media_before(1000, 100).empty());

  auto f1 = media("f1", "s1", 1000, true);  // sent: leaves the unsent index
  apply(*store_, {PutMedia{f1}, DeleteMedia{"f2", "s2", 2000}});
  EXPECT_EQ(ids_of(store_->unsent_media_before(10'000, 100)), (std::vector<std::string>{"f3"}));
  EXPECT_TRUE(store_->get_media("f1")->sent);
}

TEST_F(RocksStoreTest, MediaRefsAndCandidates) {
  apply(*store_, {PutMediaRef{{"f1", "c1", 2}}, PutMediaRef{{"f1", "c1", 1}},
                  PutMediaRef{{"f1", "c10", 1}}, PutMediaRef{{"f10", "c1", 9}}});
  // "f10" shares the prefix "f1" as a string; the separator keeps them apart.
  EXPECT_EQ(store_->media_refs("f1", 100),
            (std::vector<MediaRefRecord>{{"f1", "c1", 1}, {"f1", "c1", 2}, {"f1", "c10", 1}}));
  EXPECT_EQ(store_->media_refs("f1", 1).size(), 1u);
  EXPECT_EQ(store_->media_refs("f10", 100), (std::vector<MediaRefRecord>{{"f10", "c1", 9}}));
  EXPECT_TRUE(store_->media_candidates(100).empty());

  // Dropping a ref makes the media a candidate, until the sweep is done with it.
  apply(*store_, {DeleteMediaRef{{"f1", "c1", 2}}, DeleteMediaRef{{"f10", "c1", 9}}});
  reopen();
  EXPECT_EQ(store_->media_refs("f1", 100),
            (std::vector<MediaRefRecord>{{"f1", "c1", 1}, {"f1", "c10", 1}}));
  EXPECT_TRUE(store_->media_refs("f10", 100).empty());
  EXPECT_EQ(store_->media_candidates(100), (std::vector<std::string>{"f1", "f10"}));
  EXPECT_EQ(store_->media_candidates(1), (std::vector<std::string>{"f1"}));
  apply(*store_, {DeleteMediaCandidate{"f1"}});
  EXPECT_EQ(store_->media_candidates(100), (std::vector<std::string>{"f10"}));
}

// ---- GroupCommitWriter ---------------------------------------------------------

class WriterTest : public ::testing::TestWithParam<Durability> {
 protected:
  void SetUp() override { store_ = open_rocks_store(dir_.sub("db")); }
  TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_P(WriterTest, CompletionsRunInSubmissionOrderAfterCommit) {
  constexpr int kCount = 300;
  std::vector<int> order;  // touched only on the writer thread, read after the last completion
  std::atomic<int> not_visible{0};
  std::promise<void> last;
  auto last_done = last.get_future();
  {
    GroupCommitWriter writer(*store_, GetParam());
    for (int i = 0; i < kCount; ++i) {
      writer.submit({PutUser{user(i)}}, [&, i] {
        // A completion runs only once its mutations are applied.
        if (!store_->get_user("u" + std::to_string(i))) not_visible.fetch_add(1);
        order.push_back(i);
        if (i == kCount - 1) last.set_value();
      });
    }
    wait_ready(last_done);
    EXPECT_EQ(writer.mutations_committed(), static_cast<std::uint64_t>(kCount));
    EXPECT_GE(writer.batches_committed(), 1u);
    EXPECT_LE(writer.batches_committed(), static_cast<std::uint64_t>(kCount));
  }
  ASSERT_EQ(order.size(), static_cast<std::size_t>(kCount));
  for (int i = 0; i < kCount; ++i)
    ASSERT_EQ(order[i], i);
  EXPECT_EQ(not_visible.load(), 0);
}

TEST_P(WriterTest, AfterBatchRunsOncePerBatchAfterItsCompletions) {
  constexpr int kCount = 200;
  // Writer thread only: completions since the last after-batch call, and the
  // sizes the after-batch calls saw.
  int pending = 0;
  std::vector<int> batch_sizes;
  std::promise<void> last;
  auto last_done = last.get_future();
  std::uint64_t batches = 0;
  {
    GroupCommitWriter writer(*store_, GetParam());
    writer.set_after_batch([&] {
      batch_sizes.push_back(pending);
      pending = 0;
      if (std::accumulate(batch_sizes.begin(), batch_sizes.end(), 0) == kCount) last.set_value();
    });
    for (int i = 0; i < kCount; ++i)
      writer.submit({PutUser{user(i)}}, [&] { ++pending; });
    wait_ready(last_done);
    batches = writer.batches_committed();
  }
  // One call per committed batch, each after (and covering) its completions.
  EXPECT_EQ(batch_sizes.size(), batches);
  for (int size : batch_sizes)
    EXPECT_GT(size, 0);
  EXPECT_EQ(pending, 0);
}

TEST_P(WriterTest, ConcurrentSubmittersKeepTheirOwnOrder) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 100;
  std::mutex mutex;
  std::vector<std::vector<int>> seen(kThreads);
  std::atomic<int> done{0};
  std::promise<void> all;
  auto all_done = all.get_future();
  {
    GroupCommitWriter writer(*store_, GetParam());
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          writer.submit({PutUser{user(t * kPerThread + i)}}, [&, t, i] {
            {
              std::lock_guard lock(mutex);
              seen[t].push_back(i);
            }
            if (done.fetch_add(1) + 1 == kThreads * kPerThread) all.set_value();
          });
        }
      });
    }
    for (auto& th : threads)
      th.join();
    wait_ready(all_done);
  }
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(seen[t].size(), static_cast<std::size_t>(kPerThread));
    for (int i = 0; i < kPerThread; ++i)
      EXPECT_EQ(seen[t][i], i);
  }
}

TEST_P(WriterTest, DestructionCommitsEverythingSubmitted) {
  constexpr int kCount = 500;
  std::atomic<int> completions{0};
  {
    GroupCommitWriter writer(*store_, GetParam());
    for (int i = 0; i < kCount; ++i) {
      std::vector<Mutation> ms{PutUser{user(i)},
                               PutEvent{{.user_id = "u0",
                                         .offset = static_cast<std::uint64_t>(i + 1),
                                         .chat_id = "c",
                                         .seq = static_cast<std::uint64_t>(i)}}};
      writer.submit(std::move(ms), [&] { completions.fetch_add(1); });
    }
    // No waiting: the destructor must drain the queue.
  }
  EXPECT_EQ(completions.load(), kCount);
  store_.reset();
  store_ = open_rocks_store(dir_.sub("db"));
  for (int i = 0; i < kCount; ++i) {
    ASSERT_TRUE(store_->get_user("u" + std::to_string(i)).has_value()) << i;
  }
  EXPECT_EQ(store_->events_after("u0", 0, 10'000).size(), static_cast<std::size_t>(kCount));
}

TEST_P(WriterTest, EmptySubmissionsAndNullCompletions) {
  std::promise<void> p;
  auto f = p.get_future();
  {
    GroupCommitWriter writer(*store_, GetParam());
    writer.submit({PutUser{user(1)}}, nullptr);
    writer.submit({}, [&] { p.set_value(); });
    wait_ready(f);
  }
  EXPECT_TRUE(store_->get_user("u1").has_value());
}

INSTANTIATE_TEST_SUITE_P(Durabilities, WriterTest,
                         ::testing::Values(Durability::sync, Durability::batch, Durability::none),
                         [](const auto& info) {
                           switch (info.param) {
                             case Durability::sync:
                               return std::string("sync");
                             case Durability::batch:
                               return std::string("batch");
                             case Durability::none:
                               return std::string("none");
                           }
                           return std::string("unknown");
                         });

}  // namespace
}  // namespace chat::store

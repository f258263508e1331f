// core/deletion, core/receipts and unread counts over a real ChatCore and
// RocksDB store.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <string>
#include <vector>

#include "base/random.hpp"
#include "test_support.hpp"

namespace chat::test {
namespace {
namespace json = boost::json;
using core::ReceiptStatus;

class ConversationTest : public DomainTest {
 protected:
  Status del(const core::Principal& who, const std::string& chat, std::uint64_t seq) {
    return await<Status>(
        [&](auto cb) { core().deletion().delete_message(who, chat, seq, std::move(cb)); });
  }
  Status mark(const core::Principal& who, const std::string& chat, ReceiptStatus status,
              std::uint64_t seq) {
    return await<Status>(
        [&](auto cb) { core().receipts().mark(who, chat, status, seq, std::move(cb)); });
  }
  bool title_change(const core::Principal& who, const std::string& chat, const std::string& t) {
    auto r = await<Result<core::ChatView>>(
        [&](auto cb) { core().chats().set_title(who, chat, t, std::move(cb)); });
    return r.ok();
  }
  std::optional<store::MessageRecord> stored(const std::string& chat, std::uint64_t seq) {
    return core().sequencer().store().get_message(chat, seq);
  }
  // Events of `user` of the given type, in stream order.
  std::vector<json::object> events_of_type(const std::string& user, std::string_view type) {
    std::vector<json::object> out;
    for (auto& e : events_of(user)) {
      if (e.at("type") == json::value(type)) out.push_back(std::move(e));
    }
    return out;
  }
  const core::ChatListEntry* entry(const std::vector<core::ChatListEntry>& list,
                                   const std::string& chat) {
    for (const auto& e : list) {
      if (parse_json_object(e.chat_json).at("chat_id") == json::value(chat)) return &e;
    }
    return nullptr;
  }
  std::uint64_t unread(const core::Principal& who, const std::string& chat) {
    auto list = core().chats().list(who);
    const auto* e = entry(list, chat);
    if (!e) throw std::runtime_error("chat not in list");
    return e->unread;
  }
  std::uint64_t read_seq(const core::Principal& who, const std::string& chat) {
    auto list = core().chats().list(who);
    const auto* e = entry(list, chat);
    if (!e) throw std::runtime_error("chat not in list");
    return e->read_seq;
  }
};

// ---- delete for everyone ----------------------------------------------------------

TEST_F(ConversationTest, SenderDeletesForEveryone) {
  core::Principal a = new_user(), b = new_user();
  auto chat = create_direct(a, b.user_id);
  ASSERT_TRUE(chat.ok());
  const std::string id = chat->chat_id;
  send_ok(a, id, "oops");
  send_ok(b, id, "keep me");

  ASSERT_TRUE(del(a, id, 1).ok());
  auto m = stored(id, 1);
  ASSERT_TRUE(m.has_value());
  EXPECT_TRUE(m->deleted);
  EXPECT_TRUE(m->body.empty());  // erased from storage
  EXPECT_EQ(m->seq, 1u);
  EXPECT_EQ(m->sender, a.user_id);
  EXPECT_FALSE(stored(id, 2)->deleted);

  // Every member's devices get one `deleted` event, after the message events.
  for (const auto& user : {a.user_id, b.user_id}) {
    auto events = events_of(user);
    ASSERT_FALSE(events.empty());
    const auto& last = events.back();
    EXPECT_EQ(last.at("type"), "deleted") << user;
    EXPECT_EQ(last.at("chat_id"), json::value(id));
    EXPECT_EQ(last.at("seq").to_number<std::uint64_t>(), 1u);
    // Replaying the original message event shows the message as it is now.
    for (const auto& e : events) {
      if (e.at("type") != "message") continue;
      const auto& msg = e.at("message").as_object();
      if (msg.at("seq").to_number<std::uint64_t>() != 1) continue;
      EXPECT_EQ(msg.at("deleted"), true);
      EXPECT_TRUE(msg.at("body").is_null());
    }
  }

  // History keeps the seq.
  core::HistoryQuery q;
  q.after = 0;
  auto page = core().history().page(b, id, q);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 2u);
  EXPECT_TRUE((*page)[0].deleted);
  EXPECT_EQ((*page)[1].body, "keep me");

  // Deleting again succeeds and changes nothing.
  const std::uint64_t head = core().events().head(b.user_id);
  EXPECT_TRUE(del(a, id, 1).ok());
  EXPECT_EQ(core().events().head(b.user_id), head);

  reopen();
  EXPECT_TRUE(stored(id, 1)->deleted);
  EXPECT_EQ(events_of_type(b.user_id, "deleted").size(), 1u);
}

TEST_F(ConversationTest, WhoMayDelete) {
  core::Principal admin = new_user(), b = new_user(), c = new_user(), outsider = new_user();
  const std::string group = group_id(admin, {b.user_id, c.user_id});  // seq 1: system
  send_ok(b, group, "b's");                                           // seq 2
  send_ok(admin, group, "admin's");                                   // seq 3

  EXPECT_EQ(del(c, group, 2).error().code, ErrorCode::forbidden);  // not the sender
  EXPECT_EQ(del(b, group, 3).error().code, ErrorCode::forbidden);
  EXPECT_EQ(del(admin, group, 1).error().code, ErrorCode::forbidden);  // system message
  EXPECT_EQ(del(admin, group, 0).error().code, ErrorCode::not_found);
  EXPECT_EQ(del(admin, group, 4).error().code, ErrorCode::not_found);
  EXPECT_EQ(del(outsider, group, 2).error().code, ErrorCode::not_found);
  EXPECT_EQ(del(admin, new_id('c'), 2).error().code, ErrorCode::not_found);
  EXPECT_EQ(del(admin, "junk", 2).error().code, ErrorCode::not_found);
  EXPECT_FALSE(stored(group, 2)->deleted);
  EXPECT_TRUE(events_of_type(b.user_id, "deleted").empty());

  EXPECT_TRUE(del(admin, group, 2).ok());  // admins may delete anyone's message
  EXPECT_TRUE(stored(group, 2)->deleted);

  // In a direct chat there are no admins: only the sender.
  auto direct = create_direct(b, c.user_id);
  ASSERT_TRUE(direct.ok());
  send_ok(b, direct->chat_id, "mine");
  EXPECT_EQ(del(c, direct->chat_id, 1).error().code, ErrorCode::forbidden);
  EXPECT_TRUE(del(b, direct->chat_id, 1).ok());
}

TEST_F(ConversationTest, SendersHave48Hours) {
  core::Principal admin = new_user(), b = new_user();
  const std::string group = group_id(admin, {b.user_id});
  send_ok(b, group, "one");      // seq 2
  send_ok(b, group, "two");      // seq 3
  send_ok(admin, group, "own");  // seq 4
  clock_.advance(48ll * 3600 * 1000);
  EXPECT_TRUE(del(b, group, 2).ok());  // exactly 48 hours: still allowed
  clock_.advance(1);
  auto late = del(b, group, 3);
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, ErrorCode::forbidden);
  EXPECT_FALSE(stored(group, 3)->deleted);
  // An admin is not bound by the window.
  EXPECT_TRUE(del(admin, group, 3).ok());
  EXPECT_TRUE(del(admin, group, 4).ok());
}

TEST_F(ConversationTest, RepeatedDeleteIsAnsweredOnlyOnceDurable) {
  core::Principal a = new_user(), b = new_user();
  auto chat = create_direct(a, b.user_id);
  ASSERT_TRUE(chat.ok());
  send_ok(a, chat->chat_id, "x");
  const std::string id = chat->chat_id;
  const store::Store& store = core().sequencer().store();

  // Submitted back to back: the second may find the first still in flight.
  // Neither may be acknowledged before the deletion is stored.
  Waiter<bool> first, second;
  auto cb1 = first.callback();
  auto cb2 = second.callback();
  core().deletion().delete_message(
      a, id, 1, [&store, id, cb1](Status s) { cb1(s.ok() && store.get_message(id, 1)->deleted); });
  core().deletion().delete_message(
      a, id, 1, [&store, id, cb2](Status s) { cb2(s.ok() && store.get_message(id, 1)->deleted); });
  EXPECT_TRUE(first.get());
  EXPECT_TRUE(second.get());
  EXPECT_EQ(events_of_type(b.user_id, "deleted").size(), 1u);
}

// ---- receipts ------------------------------------------------------------------------

TEST_F(ConversationTest, ReadReceiptsReachTheSenderAndTheReadersOtherDevices) {
  core::Principal a = new_user(), b = new_user();
  auto chat = create_direct(a, b.user_id);
  ASSERT_TRUE(chat.ok());
  const std::string id = chat->chat_id;
  for (int i = 0; i < 3; ++i)
    send_ok(a, id, "m");
  const std::int64_t now = clock_.now_ms();

  ASSERT_TRUE(mark(b, id, ReceiptStatus::read, 2).ok());
  for (const auto& user : {a.user_id, b.user_id}) {
    auto receipts = events_of_type(user, "receipt");
    ASSERT_EQ(receipts.size(), 1u) << user;
    const auto& r = receipts[0];
    EXPECT_EQ(r.at("chat_id"), json::value(id));
    EXPECT_EQ(r.at("user_id"), json::value(b.user_id));
    EXPECT_EQ(r.at("status"), "read");
    EXPECT_EQ(r.at("up_to_seq").to_number<std::uint64_t>(), 2u);
    EXPECT_EQ(r.at("ts").to_number<std::int64_t>(), now);
  }

  auto at2 = core().receipts().of_message(a, id, 2);
  ASSERT_TRUE(at2.ok());
  ASSERT_EQ(at2->size(), 1u);
  EXPECT_EQ((*at2)[0].user_id, b.user_id);
  EXPECT_EQ((*at2)[0].read_ts, std::optional<std::int64_t>(now));
  EXPECT_EQ((*at2)[0].delivered_ts, std::optional<std::int64_t>(now));  // read implies delivered
  auto at3 = core().receipts().of_message(a, id, 3);
  ASSERT_TRUE(at3.ok());
  ASSERT_EQ(at3->size(), 1u);
  EXPECT_FALSE((*at3)[0].read_ts.has_value());
  EXPECT_FALSE((*at3)[0].delivered_ts.has_value());

  // Marks never move down: an older read changes nothing.
  ASSERT_TRUE(mark(b, id, ReceiptStatus::read, 1).ok());
  EXPECT_EQ(events_of_type(a.user_id, "receipt").size(), 1u);
  EXPECT_EQ(read_seq(b, id), 2u);

  reopen();
  auto persisted = core().receipts().of_message(a, id, 2);
  ASSERT_TRUE(persisted.ok());
  EXPECT_EQ((*persisted)[0].read_ts, std::optional<std::int64_t>(now));
  EXPECT_EQ(read_seq(b, id), 2u);
}

TEST_F(ConversationTest, AckingTheStreamMarksMessagesDelivered) {
  core::Principal a = new_user();
  const std::string phone = next_phone();
  Account b1 = sign_in(phone, "one");
  Account b2 = sign_in(phone, "two");
  auto chat = create_direct(a, b1.who.user_id);
  ASSERT_TRUE(chat.ok());
  const std::string id = chat->chat_id;
  for (int i = 0; i < 3; ++i)
    send_ok(a, id, "m");
  const std::uint64_t head = core().events().head(b1.who.user_id);

  ASSERT_TRUE(ack(b1.who, head).ok());
  auto receipts = events_of_type(a.user_id, "receipt");
  ASSERT_EQ(receipts.size(), 1u);
  EXPECT_EQ(receipts[0].at("status"), "delivered");
  EXPECT_EQ(receipts[0].at("user_id"), json::value(b1.who.user_id));
  EXPECT_EQ(receipts[0].at("up_to_seq").to_number<std::uint64_t>(), 3u);
  // `delivered` goes to the senders only, not to the user's own stream.
  EXPECT_TRUE(events_of_type(b1.who.user_id, "receipt").empty());
  auto at3 = core().receipts().of_message(a, id, 3);
  ASSERT_TRUE(at3.ok());
  EXPECT_TRUE((*at3)[0].delivered_ts.has_value());
  EXPECT_FALSE((*at3)[0].read_ts.has_value());

  // The user's other device acking the same events adds nothing.
  ASSERT_TRUE(ack(b2.who, head).ok());
  EXPECT_EQ(events_of_type(a.user_id, "receipt").size(), 1u);
}

TEST_F(ConversationTest, GroupReceiptsGoOnlyToTheSenders) {
  core::Principal a = new_user(), b = new_user(), c = new_user();
  const std::string group = group_id(a, {b.user_id, c.user_id});
  send_ok(a, group, "from a");  // seq 2
  ASSERT_TRUE(mark(c, group, ReceiptStatus::read, 2).ok());
  EXPECT_EQ(events_of_type(a.user_id, "receipt").size(), 1u);
  EXPECT_TRUE(events_of_type(b.user_id, "receipt").empty());   // b sent nothing
  EXPECT_EQ(events_of_type(c.user_id, "receipt").size(), 1u);  // c's other devices

  auto others = core().receipts().of_message(a, group, 2);
  ASSERT_TRUE(others.ok());
  EXPECT_EQ(others->size(), 2u);  // b and c, not a itself
  for (const auto& r : *others) {
    EXPECT_NE(r.user_id, a.user_id);
    EXPECT_EQ(r.read_ts.has_value(), r.user_id == c.user_id);
  }
}

TEST_F(ConversationTest, ReceiptInputValidation) {
  core::Principal a = new_user(), b = new_user(), outsider = new_user();
  auto chat = create_direct(a, b.user_id);
  ASSERT_TRUE(chat.ok());
  send_ok(a, chat->chat_id, "m");
  EXPECT_EQ(mark(b, chat->chat_id, ReceiptStatus::read, 0).error().code, ErrorCode::bad_request);
  EXPECT_EQ(mark(b, chat->chat_id, ReceiptStatus::read, 2).error().code, ErrorCode::bad_request);
  EXPECT_EQ(mark(outsider, chat->chat_id, ReceiptStatus::read, 1).error().code,
            ErrorCode::not_found);
  EXPECT_EQ(mark(b, new_id('c'), ReceiptStatus::read, 1).error().code, ErrorCode::not_found);
  EXPECT_EQ(core().receipts().of_message(outsider, chat->chat_id, 1).error().code,
            ErrorCode::not_found);
  EXPECT_EQ(core().receipts().of_message(a, chat->chat_id, 0).error().code, ErrorCode::not_found);
  EXPECT_EQ(core().receipts().of_message(a, chat->chat_id, 2).error().code, ErrorCode::not_found);
  EXPECT_TRUE(events_of_type(a.user_id, "receipt").empty());
}

// ---- unread counts ----------------------------------------------------------------------

TEST_F(ConversationTest, UnreadCountsMessagesFromOthersAboveReadSeq) {
  core::Principal a = new_user(), b = new_user(), c = new_user();
  const std::string group = group_id(a, {b.user_id, c.user_id});  // seq 1: system
  for (int i = 0; i < 3; ++i)
    send_ok(a, group, "a");  // seqs 2-4
  for (int i = 0; i < 2; ++i)
    send_ok(b, group, "b");  // seqs 5-6

  EXPECT_EQ(unread(a, group), 2u);  // own messages and system messages never count
  EXPECT_EQ(unread(b, group), 3u);
  EXPECT_EQ(unread(c, group), 5u);

  ASSERT_TRUE(mark(c, group, ReceiptStatus::read, 3).ok());
  EXPECT_EQ(read_seq(c, group), 3u);
  EXPECT_EQ(unread(c, group), 3u);  // seqs 4, 5, 6
  send_ok(a, group, "more");        // seq 7
  EXPECT_EQ(unread(c, group), 4u);
  ASSERT_TRUE(title_change(a, group, "renamed"));  // a system message
  EXPECT_EQ(unread(c, group), 4u);

  ASSERT_TRUE(mark(c, group, ReceiptStatus::read, 8).ok());
  EXPECT_EQ(unread(c, group), 0u);
  EXPECT_EQ(unread(b, group), 4u);  // b has read nothing: a's four messages

  reopen();
  EXPECT_EQ(unread(c, group), 0u);
  EXPECT_EQ(unread(b, group), 4u);
}

}  // namespace
}  // namespace chat::test

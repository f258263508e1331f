// core/push_outbox: targets, chat settings, and the durable outbox (when a
// push is due, coalescing, what is skipped, resolution of the payload,
// retries, withdrawal by clears, restarts), over a real ChatCore and RocksDB
// store with a manual clock.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/push_outbox.hpp"
#include "test_support.hpp"

namespace chat::test {
namespace {

using core::DuePush;
using core::PushResult;
using core::ReceiptStatus;

constexpr std::int64_t kDelay = 3'000;
const std::string kWebhook = R"({"kind":"webhook","url":"https://push.example/hook"})";

class PushOutboxTest : public DomainTest {
 protected:
  core::PushOutbox& push() { return core().push(); }

  Status set_target(const core::Principal& who, const std::string& device_id,
                    const std::string& json = kWebhook, const std::string& kind = "webhook") {
    return await<Status>(
        [&](auto cb) { push().set_target(who, device_id, json, kind, std::move(cb)); });
  }
  void target(const core::Principal& who) { ASSERT_TRUE(set_target(who, who.device_id).ok()); }

  Result<core::ChatSettings> settings(const core::Principal& who, const std::string& chat,
                                      core::ChatSettings s) {
    return await<Result<core::ChatSettings>>(
        [&](auto cb) { push().set_chat_settings(who, chat, s, std::move(cb)); });
  }

  void name(const core::Principal& who, const std::string& n) {
    proto::PatchMeRequest req;
    req.name = n;
    auto r = await<Result<core::Profile>>(
        [&](auto cb) { core().accounts().update_profile(who, req, std::move(cb)); });
    ASSERT_TRUE(r.ok());
  }

  Status mark_read(const core::Principal& who, const std::string& chat, std::uint64_t seq) {
    return await<Status>([&](auto cb) {
      core().receipts().mark(who, chat, ReceiptStatus::read, seq, std::move(cb));
    });
  }
  Status del(const core::Principal& who, const std::string& chat, std::uint64_t seq) {
    return await<Status>(
        [&](auto cb) { core().deletion().delete_message(who, chat, seq, std::move(cb)); });
  }

  std::vector<DuePush> due(std::size_t limit = 100) {
    return push().take_due(clock_.now_ms(), limit);
  }
  // complete() commits through the writer; a transaction with only a
  // completion runs after it, so this waits until it is durable.
  void complete(const DuePush& p, PushResult r, std::optional<std::int64_t> retry_after = {}) {
    push().complete(p, r, retry_after, clock_.now_ms());
    settle();
  }
  // Waits for every write submitted so far (take_due deletes skipped rows).
  void settle() {
    await<int>([&](auto cb) {
      core().sequencer().transact([&](core::Transaction& tx) { tx.on_committed([cb] { cb(0); }); });
    });
  }

  std::string direct(const core::Principal& a, const core::Principal& b) {
    auto r = create_direct(a, b.user_id);
    if (!r) throw std::runtime_error("create direct: " + error_text(r.error()));
    return r->chat_id;
  }

  // Alice and Bob in a direct chat; Bob's only device has a target.
  void pair() {
    alice = new_user();
    bob = new_user();
    name(alice, "Alice");
    name(bob, "Bob");
    chat = direct(alice, bob);
    target(bob);
  }

  core::Principal alice, bob;
  std::string chat;
};

TEST_F(PushOutboxTest, TargetsAreForTheCallersOwnDevicesOnly) {
  auto a = new_user();
  auto b = new_user();
  EXPECT_FALSE(push().target_kind(a.user_id, a.device_id));
  ASSERT_TRUE(set_target(a, a.device_id).ok());
  EXPECT_EQ(push().target_kind(a.user_id, a.device_id), "webhook");

  auto other = set_target(a, b.device_id);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, ErrorCode::not_found);
  EXPECT_FALSE(push().target_kind(b.user_id, b.device_id));
  EXPECT_FALSE(push().target_kind(a.user_id, b.device_id));
  EXPECT_EQ(set_target(a, "nonsense").error().code, ErrorCode::not_found);
  auto del_other = await<Status>([&](auto cb) { push().delete_target(a, b.device_id, cb); });
  EXPECT_EQ(del_other.error().code, ErrorCode::not_found);

  // Replaced, then removed.
  ASSERT_TRUE(set_target(a, a.device_id, R"({"kind":"fcm","token":"t"})", "fcm").ok());
  EXPECT_EQ(push().target_kind(a.user_id, a.device_id), "fcm");
  ASSERT_TRUE(await<Status>([&](auto cb) { push().delete_target(a, a.device_id, cb); }).ok());
  EXPECT_FALSE(push().target_kind(a.user_id, a.device_id));

  // Targets are stored.
  ASSERT_TRUE(set_target(a, a.device_id).ok());
  reopen();
  EXPECT_EQ(push().target_kind(a.user_id, a.device_id), "webhook");
}

TEST_F(PushOutboxTest, ChatSettingsAreForMembersAndStored) {
  pair();
  auto eve = new_user();
  EXPECT_EQ(settings(eve, chat, {}).error().code, ErrorCode::not_found);
  EXPECT_EQ(settings(bob, "c-nonsense", {}).error().code, ErrorCode::not_found);

  auto s = push().chat_settings(bob.user_id, chat);
  EXPECT_FALSE(s.muted_until);
  EXPECT_TRUE(s.preview);
  auto set = settings(bob, chat, {123, false});
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(set->muted_until, 123);
  reopen();
  s = push().chat_settings(bob.user_id, chat);
  EXPECT_EQ(s.muted_until, 123);
  EXPECT_FALSE(s.preview);
  EXPECT_TRUE(push().chat_settings(alice.user_id, chat).preview);  // per user
  ASSERT_TRUE(settings(bob, chat, {}).ok());
  EXPECT_FALSE(push().chat_settings(bob.user_id, chat).muted_until);
}

TEST_F(PushOutboxTest, MessageToAnOfflineDeviceIsPushedAfterTheDelay) {
  pair();
  const std::int64_t sent_at = clock_.now_ms();
  const std::uint64_t seq = send_ok(alice, chat, "Hi Bob!");
  EXPECT_EQ(push().outbox_depth(), 1u);
  EXPECT_EQ(push().next_due_ms(), sent_at + kDelay);
  EXPECT_EQ(push().oldest_due_ms(), sent_at + kDelay);
  EXPECT_TRUE(due().empty());

  clock_.advance(kDelay - 1);
  EXPECT_TRUE(due().empty());
  clock_.advance(1);
  auto pushes = due();
  ASSERT_EQ(pushes.size(), 1u);
  const DuePush& p = pushes[0];
  EXPECT_FALSE(p.clear);
  EXPECT_EQ(p.user_id, bob.user_id);
  EXPECT_EQ(p.device_id, bob.device_id);
  EXPECT_EQ(p.chat_id, chat);
  EXPECT_EQ(p.target_json, kWebhook);
  EXPECT_EQ(p.seq, seq);
  EXPECT_EQ(p.sender, alice.user_id);
  EXPECT_EQ(p.sender_name, "Alice");
  EXPECT_EQ(p.chat_title, "Alice");  // a direct chat: the sender
  EXPECT_EQ(p.preview, "Hi Bob!");
  EXPECT_EQ(p.unread, 1u);
  EXPECT_EQ(p.ts, sent_at);
  EXPECT_EQ(p.attempts, 0);
  EXPECT_EQ(p.first_due_ms, sent_at + kDelay);
  EXPECT_EQ(p.message_id, core().sequencer().store().get_message(chat, seq)->message_id);

  // Handed out once: not again until completed.
  EXPECT_TRUE(due().empty());
  EXPECT_FALSE(push().next_due_ms());
  EXPECT_EQ(push().outbox_depth(), 1u);
  complete(p, PushResult::sent);
  EXPECT_EQ(push().outbox_depth(), 0u);
  EXPECT_TRUE(due().empty());
}

TEST_F(PushOutboxTest, MessagesInsideTheDelayAreCoalescedIntoOnePushNamingTheNewest) {
  pair();
  send_ok(alice, chat, "one");
  clock_.advance(1'000);
  send_ok(alice, chat, "two");
  clock_.advance(1'000);
  const std::uint64_t newest = send_ok(alice, chat, "three");
  EXPECT_EQ(push().outbox_depth(), 1u);
  clock_.advance(1'000);
  auto pushes = due();
  ASSERT_EQ(pushes.size(), 1u);
  EXPECT_EQ(pushes[0].seq, newest);
  EXPECT_EQ(pushes[0].preview, "three");
  EXPECT_EQ(pushes[0].unread, 3u);
  complete(pushes[0], PushResult::sent);

  // The next message after the push is a new push.
  const std::uint64_t four = send_ok(alice, chat, "four");
  clock_.advance(kDelay);
  pushes = due();
  ASSERT_EQ(pushes.size(), 1u);
  EXPECT_EQ(pushes[0].seq, four);
  EXPECT_EQ(pushes[0].unread, 4u);
}

TEST_F(PushOutboxTest, ADeviceThatAcknowledgedInTimeGetsNoPush) {
  pair();
  send_ok(alice, chat, "hi");
  const std::uint64_t head = core().events().head(bob.user_id);
  ASSERT_TRUE(ack(bob, head).ok());
  clock_.advance(kDelay);
  EXPECT_TRUE(due().empty());
  settle();
  EXPECT_EQ(push().outbox_depth(), 0u);  // the skipped row is gone
}

TEST_F(PushOutboxTest, AcknowledgingOnlyAnOlderMessageStillPushesTheNewerOne) {
  pair();
  send_ok(alice, chat, "one");
  ASSERT_TRUE(ack(bob, core().events().head(bob.user_id)).ok());
  const std::uint64_t two = send_ok(alice, chat, "two");
  clock_.advance(kDelay);
  auto pushes = due();
  ASSERT_EQ(pushes.size(), 1u);
  EXPECT_EQ(pushes[0].seq, two);
}

TEST_F(PushOutboxTest, ALiveDeviceGetsNoPush) {
  pair();
  auto listener = std::make_shared<RecordingListener>(bob.device_id);
  core().hub().subscribe(bob.user_id, listener);
  EXPECT_TRUE(core().hub().device_live(bob.user_id, bob.device_id));
  EXPECT_FALSE(core().hub().device_live(bob.user_id, alice.device_id));
  send_ok(alice, chat, "hi");
  EXPECT_EQ(push().outbox_depth(), 0u);  // live when it arrived: no row at all
  core().hub().unsubscribe(bob.user_id, listener.get());
  EXPECT_FALSE(core().hub().device_live(bob.user_id, bob.device_id));

  // Offline when it arrived, live when due: skipped.
  send_ok(alice, chat, "again");
  EXPECT_EQ(push().outbox_depth(), 1u);
  core().hub().subscribe(bob.user_id, listener);
  clock_.advance(kDelay);
  EXPECT_TRUE(due().empty());
  settle();
  EXPECT_EQ(push().outbox_depth(), 0u);
  core().hub().unsubscribe(bob.user_id, listener.get());
}

TEST_F(PushOutboxTest, AMutedChatGetsNoPushUntilTheMuteEnds) {
  pair();
  ASSERT_TRUE(settings(bob, chat, {clock_.now_ms() + 3'600'000, true}).ok());
  send_ok(alice, chat, "shh");
  clock_.advance(kDelay);
  EXPECT_TRUE(due().empty());

  clock_.advance(3'600'000);  // the mute has ended
  const std::uint64_t seq = send_ok(alice, chat, "now");
  clock_.advance(kDelay);
  auto pushes = due();
  ASSERT_EQ(pushes.size(), 1u);
  EXPECT_EQ(pushes[0].seq, seq);
}

TEST_F(PushOutboxTest, TheSendersOwnDevicesAreNeverPushed) {
  pair();
  auto alice_laptop = sign_in(core().accounts().user(alice.user_id)->phone, "laptop").who;
  ASSERT_EQ(alice_laptop.user_id, alice.user_id);
  target(alice);
  target(alice_laptop);
  send_ok(alice, chat, "from alice");
  EXPECT_EQ(push().outbox_depth(), 1u);  // Bob's only
  clock_.advance(kDelay);
  auto pushes = due();
  ASSERT_EQ(pushes.size(), 1u);
  EXPECT_EQ(pushes[0].user_id, bob.user_id);
}

TEST_F(PushOutboxTest, SystemMessagesAreNeverPushed) {
  pair();
  auto carol = new_user();
  target(carol);
  // Creating the group and adding members writes system messages to every member.
  auto group = group_id(alice, {bob.user_id});
  auto added = await<Result<core::ChatView>>(
      [&](auto cb) { core().chats().add_members(alice, group, {carol.user_id}, std::move(cb)); });
  ASSERT_TRUE(added.ok());
  EXPECT_EQ(push().outbox_depth(), 0u);
  clock_.advance(kDelay);
  EXPECT_TRUE(due().empty());
}

TEST_F(PushOutboxTest, GroupPushesNameTheGroupAndEveryOtherMember) {
  pair();
  auto carol = new_user();
  target(carol);
  ASSERT_TRUE(await<Result<core::ChatView>>([&](auto cb) {
                proto::CreateChatRequest req;
                req.group = true;
                req.title = "Climbing";
                req.members = {bob.user_id, carol.user_id};
                core().chats().create(alice, req, std::move(cb));
              }).ok());
  std::string group;
  for (const auto& e : events_of(bob.user_id)) {
    if (e.at("type").as_string() == "chat") group = e.at("chat").at("chat_id").as_string().c_str();
  }
  ASSERT_FALSE(group.empty());
  send_ok(alice, group, "Saturday?");
  clock_.advance(kDelay);
  auto pushes = due();
  ASSERT_EQ(pushes.size(), 2u);
  for (const auto& p : pushes) {
    EXPECT_EQ(p.chat_title, "Climbing");
    EXPECT_EQ(p.sender_name, "Alice");
    EXPECT_NE(p.user_id, alice.user_id);
  }
}

TEST_F(PushOutboxTest, PreviewsAreCutToOneHundredCodePointsAndFollowTheSettings) {
  pair();
  std::string body;
  for (int i = 0; i < 150; ++i)
    body += "\xC3\xA9";  // é: two bytes, one code point
  send_ok(alice, chat, body);
  clock_.advance(kDelay);
  auto pushes = due();
  ASSERT_EQ(pushes.size(), 1u);
  ASSERT_TRUE(pushes[0].preview);
  EXPECT_EQ(*pushes[0].preview, body.substr(0, 200));
  complete(pushes[0], PushResult::sent);

  // The user's chat setting turns them off.
  ASSERT_TRUE(settings(bob, chat, {std::nullopt, false}).ok());
  send_ok(alice, chat, "secret");
  clock_.advance(kDelay);
  pushes = due();
  ASSERT_EQ(pushes.size(), 1u);
  EXPECT_FALSE(pushes[0].preview);
  EXPECT_EQ(pushes[0].sender_name, "Alice");  // the rest is still there
}

TEST_F(PushOutboxTest, MediaMessagesPreviewTheirCaptionOnly) {
  pair();
  auto upload = [&](char c) {
    store::MediaRecord r;
    r.item.mime = "image/jpeg";
    r.item.size = 10;
    r.item.sha256 = std::string(64, c);
    auto got = await<Result<store::MediaRecord>>(
        [&](auto cb) { core().media().register_upload(alice, r, std::move(cb)); });
    if (!got) throw std::runtime_error("upload: " + error_text(got.error()));
    return got->item.media_id;
  };
  auto send_media = [&](std::optional<std::string> caption, char c) {
    proto::SendRequest req;
    req.chat_id = chat;
    req.client_msg_id = std::string("media-") + c;
    req.body = std::move(caption);
    req.media = {upload(c)};
    auto r = send(alice, req);
    if (!r) throw std::runtime_error("send: " + error_text(r.error()));
  };
  send_media(std::nullopt, 'a');
  clock_.advance(kDelay);
  auto pushes = due();
  ASSERT_EQ(pushes.size(), 1u);
  EXPECT_FALSE(pushes[0].preview);
  complete(pushes[0], PushResult::sent);

  send_media("Look!", 'b');
  clock_.advance(kDelay);
  pushes = due();
  ASSERT_EQ(pushes.size(), 1u);
  EXPECT_EQ(pushes[0].preview, "Look!");
}

TEST_F(PushOutboxTest, TheServerWideSwitchTurnsPreviewsOff) {
  config_.push.previews = false;
  reopen();
  pair();
  send_ok(alice, chat, "hi");
  clock_.advance(kDelay);
  auto pushes = due();
  ASSERT_EQ(pushes.size(), 1u);
  EXPECT_FALSE(pushes[0].preview);
}

TEST_F(PushOutboxTest, UnreadIsTheUsersTotalOverItsChats) {
  pair();
  auto carol = new_user();
  auto other = direct(carol, bob);
  send_ok(carol, other, "1");
  send_ok(carol, other, "2");
  send_ok(bob, chat, "bob's own message does not count");
  clock_.advance(kDelay);
  auto pushes = due();  // the rows for `other` (Bob's own message pushes nobody with a target)
  ASSERT_EQ(pushes.size(), 1u);
  EXPECT_EQ(pushes[0].unread, 2u);
  complete(pushes[0], PushResult::sent);
  send_ok(alice, chat, "3");
  clock_.advance(kDelay);
  pushes = due();
  ASSERT_EQ(pushes.size(), 1u);
  EXPECT_EQ(pushes[0].unread, 3u);
}

TEST_F(PushOutboxTest, RetriesBackOffExponentiallyOrAsTheServerAsks) {
  pair();
  send_ok(alice, chat, "hi");
  clock_.advance(kDelay);
  const std::int64_t first_due = clock_.now_ms();
  auto pushes = due();
  ASSERT_EQ(pushes.size(), 1u);

  std::int64_t expected = 1'000;
  for (int attempt = 0; attempt < 4; ++attempt) {
    complete(pushes[0], PushResult::retry);
    EXPECT_EQ(push().next_due_ms(), clock_.now_ms() + expected);
    clock_.advance(expected - 1);
    EXPECT_TRUE(due().empty());
    clock_.advance(1);
    pushes = due();
    ASSERT_EQ(pushes.size(), 1u);
    EXPECT_EQ(pushes[0].attempts, attempt + 1);
    EXPECT_EQ(pushes[0].first_due_ms, first_due);
    expected *= 2;
  }
  // Retry-After wins over the backoff.
  complete(pushes[0], PushResult::retry, 30'000);
  EXPECT_EQ(push().next_due_ms(), clock_.now_ms() + 30'000);
  EXPECT_EQ(push().outbox_depth(), 1u);

  // The backoff is capped at one hour.
  for (int attempt = 5; attempt < 14; ++attempt) {
    clock_.set(*push().next_due_ms());
    pushes = due();
    ASSERT_EQ(pushes.size(), 1u);
    complete(pushes[0], PushResult::retry);
    EXPECT_LE(*push().next_due_ms() - clock_.now_ms(), 3'600'000);
  }
  EXPECT_EQ(*push().next_due_ms() - clock_.now_ms(), 3'600'000);
}

TEST_F(PushOutboxTest, RetriesGiveUpAfterADay) {
  pair();
  send_ok(alice, chat, "hi");
  clock_.advance(kDelay);
  const std::int64_t first_due = clock_.now_ms();
  auto pushes = due();
  ASSERT_EQ(pushes.size(), 1u);
  clock_.set(first_due + 24ll * 3600 * 1000);  // exactly a day: still retried
  complete(pushes[0], PushResult::retry);
  EXPECT_EQ(push().outbox_depth(), 1u);
  clock_.set(*push().next_due_ms());
  pushes = due();
  ASSERT_EQ(pushes.size(), 1u);
  complete(pushes[0], PushResult::retry);
  EXPECT_EQ(push().outbox_depth(), 0u);
  EXPECT_EQ(push().given_up(), 1u);
}

TEST_F(PushOutboxTest, FailedDropsTheRow) {
  pair();
  send_ok(alice, chat, "hi");
  clock_.advance(kDelay);
  auto pushes = due();
  ASSERT_EQ(pushes.size(), 1u);
  complete(pushes[0], PushResult::failed);
  EXPECT_EQ(push().outbox_depth(), 0u);
  EXPECT_EQ(push().failed(), 1u);
  EXPECT_EQ(push().target_kind(bob.user_id, bob.device_id), "webhook");  // kept
}

TEST_F(PushOutboxTest, AGoneTargetIsRemoved) {
  pair();
  send_ok(alice, chat, "hi");
  clock_.advance(kDelay);
  auto pushes = due();
  ASSERT_EQ(pushes.size(), 1u);
  complete(pushes[0], PushResult::gone);
  EXPECT_EQ(push().outbox_depth(), 0u);
  EXPECT_FALSE(push().target_kind(bob.user_id, bob.device_id));
  send_ok(alice, chat, "again");
  EXPECT_EQ(push().outbox_depth(), 0u);
  reopen();
  EXPECT_FALSE(push().target_kind(bob.user_id, bob.device_id));
}

TEST_F(PushOutboxTest, ALoggedOutDeviceIsNotPushedAndLosesItsTarget) {
  pair();
  send_ok(alice, chat, "hi");
  await<int>([&](auto cb) { core().accounts().logout(bob, [cb] { cb(0); }); });
  clock_.advance(kDelay);
  EXPECT_TRUE(due().empty());
  settle();
  EXPECT_EQ(push().outbox_depth(), 0u);
  EXPECT_FALSE(push().target_kind(bob.user_id, bob.device_id));
}

TEST_F(PushOutboxTest, ARemovedMemberIsNotPushed) {
  pair();
  auto carol = new_user();
  target(carol);
  auto group = group_id(alice, {carol.user_id});
  send_ok(alice, group, "hi");
  ASSERT_TRUE(await<Result<core::ChatView>>([&](auto cb) {
                core().chats().remove_member(alice, group, carol.user_id, std::move(cb));
              }).ok());
  clock_.advance(kDelay);
  EXPECT_TRUE(due().empty());
}

TEST_F(PushOutboxTest, CompletionsOfABurstCommitTogetherWithEachOutcomeApplied) {
  pair();
  auto carol = new_user();
  target(carol);
  const std::string other = direct(alice, carol);
  const std::uint64_t seq = send_ok(alice, chat, "to bob");
  send_ok(alice, other, "to carol");
  clock_.advance(kDelay);
  auto pushes = due();
  ASSERT_EQ(pushes.size(), 2u);
  std::vector<core::PushOutbox::Completion> done;
  for (const auto& p : pushes) {
    done.push_back({p, p.user_id == bob.user_id ? PushResult::sent : PushResult::retry, 2'000});
  }
  push().complete_all(done, clock_.now_ms());
  settle();
  EXPECT_EQ(push().outbox_depth(), 1u) << "Bob's row is done, Carol's waits for its retry";
  EXPECT_TRUE(due().empty());
  clock_.advance(2'000);
  auto again = due();
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].user_id, carol.user_id);
  EXPECT_EQ(again[0].attempts, 1);
  // Bob's push was recorded as sent: reading elsewhere now withdraws it.
  auto bob_laptop = sign_in(core().accounts().user(bob.user_id)->phone, "laptop").who;
  ASSERT_TRUE(mark_read(bob_laptop, chat, seq).ok());
  auto clears = due();
  ASSERT_EQ(clears.size(), 1u);
  EXPECT_TRUE(clears[0].clear);
  EXPECT_EQ(clears[0].user_id, bob.user_id);
  push().complete_all({}, clock_.now_ms());  // nothing to do: no transaction
}

TEST_F(PushOutboxTest, ReadingOnAnotherDeviceWithdrawsThePush) {
  pair();
  auto bob_laptop = sign_in(core().accounts().user(bob.user_id)->phone, "laptop").who;
  const std::uint64_t seq = send_ok(alice, chat, "hi");
  clock_.advance(kDelay);
  auto pushes = due();
  ASSERT_EQ(pushes.size(), 1u);  // the laptop has no target
  complete(pushes[0], PushResult::sent);

  ASSERT_TRUE(mark_read(bob_laptop, chat, seq).ok());
  auto clears = due();  // due at once
  ASSERT_EQ(clears.size(), 1u);
  EXPECT_TRUE(clears[0].clear);
  EXPECT_EQ(clears[0].device_id, bob.device_id);
  EXPECT_EQ(clears[0].chat_id, chat);
  EXPECT_EQ(clears[0].seq, seq);
  EXPECT_EQ(clears[0].unread, 0u);
  complete(clears[0], PushResult::sent);
  EXPECT_EQ(push().outbox_depth(), 0u);

  // Withdrawn once: a later read has nothing to withdraw.
  const std::uint64_t two = send_ok(alice, chat, "two");
  ASSERT_TRUE(mark_read(bob_laptop, chat, two).ok());  // read before the push was due
  clock_.advance(kDelay);
  EXPECT_TRUE(due().empty());  // nothing unread: no push, no clear
}

TEST_F(PushOutboxTest, ReadingOnThePushedDeviceItselfSendsNoClear) {
  pair();
  const std::uint64_t seq = send_ok(alice, chat, "hi");
  clock_.advance(kDelay);
  auto pushes = due();
  ASSERT_EQ(pushes.size(), 1u);
  complete(pushes[0], PushResult::sent);
  ASSERT_TRUE(mark_read(bob, chat, seq).ok());
  EXPECT_TRUE(due().empty());
  EXPECT_EQ(push().outbox_depth(), 0u);
}

TEST_F(PushOutboxTest, AReadOfOlderMessagesLeavesANewerPush) {
  pair();
  auto bob_laptop = sign_in(core().accounts().user(bob.user_id)->phone, "laptop").who;
  const std::uint64_t one = send_ok(alice, chat, "one");
  ASSERT_TRUE(ack(bob, core().events().head(bob.user_id)).ok());
  send_ok(alice, chat, "two");
  clock_.advance(kDelay);
  auto pushes = due();
  ASSERT_EQ(pushes.size(), 1u);
  complete(pushes[0], PushResult::sent);
  ASSERT_TRUE(mark_read(bob_laptop, chat, one).ok());
  EXPECT_TRUE(due().empty());
}

TEST_F(PushOutboxTest, AReadWhileThePushIsOnItsWayWithdrawsItOnceSent) {
  pair();
  auto bob_laptop = sign_in(core().accounts().user(bob.user_id)->phone, "laptop").who;
  const std::uint64_t seq = send_ok(alice, chat, "hi");
  clock_.advance(kDelay);
  auto pushes = due();
  ASSERT_EQ(pushes.size(), 1u);
  ASSERT_TRUE(mark_read(bob_laptop, chat, seq).ok());  // nothing pushed yet: no clear
  EXPECT_TRUE(due().empty());
  complete(pushes[0], PushResult::sent);
  auto clears = due();
  ASSERT_EQ(clears.size(), 1u);
  EXPECT_TRUE(clears[0].clear);
  EXPECT_EQ(clears[0].seq, seq);
}

TEST_F(PushOutboxTest, AMessageWhileThePushIsOnItsWayIsPushedNext) {
  pair();
  send_ok(alice, chat, "one");
  clock_.advance(kDelay);
  auto pushes = due();
  ASSERT_EQ(pushes.size(), 1u);
  const std::uint64_t two = send_ok(alice, chat, "two");
  EXPECT_EQ(push().outbox_depth(), 2u);
  complete(pushes[0], PushResult::sent);
  clock_.advance(kDelay);
  pushes = due();
  ASSERT_EQ(pushes.size(), 1u);
  EXPECT_EQ(pushes[0].seq, two);

  // A retry of the first while a newer row waits: the newer one carries on.
  const std::uint64_t three = send_ok(alice, chat, "three");
  complete(pushes[0], PushResult::retry);
  EXPECT_EQ(push().outbox_depth(), 1u);
  clock_.advance(kDelay);
  pushes = due();
  ASSERT_EQ(pushes.size(), 1u);
  EXPECT_EQ(pushes[0].seq, three);
}

TEST_F(PushOutboxTest, DeletingThePushedMessageWithdrawsIt) {
  pair();
  const std::uint64_t one = send_ok(alice, chat, "one");
  const std::uint64_t two = send_ok(alice, chat, "oops");
  clock_.advance(kDelay);
  auto pushes = due();
  ASSERT_EQ(pushes.size(), 1u);
  ASSERT_EQ(pushes[0].seq, two);
  complete(pushes[0], PushResult::sent);

  // An older message than the one pushed: the notification stays.
  ASSERT_TRUE(del(alice, chat, one).ok());
  EXPECT_TRUE(due().empty());
  // The pushed one: withdrawn.
  ASSERT_TRUE(del(alice, chat, two).ok());
  auto clears = due();
  ASSERT_EQ(clears.size(), 1u);
  EXPECT_TRUE(clears[0].clear);
  EXPECT_EQ(clears[0].seq, two);
  complete(clears[0], PushResult::sent);
  EXPECT_EQ(push().outbox_depth(), 0u);
}

TEST_F(PushOutboxTest, ADeletedMessageIsNotPushed) {
  pair();
  const std::uint64_t one = send_ok(alice, chat, "one");
  const std::uint64_t two = send_ok(alice, chat, "two");
  ASSERT_TRUE(del(alice, chat, two).ok());
  clock_.advance(kDelay);
  auto pushes = due();
  ASSERT_EQ(pushes.size(), 1u);
  EXPECT_EQ(pushes[0].seq, one);  // the newest that is left
  complete(pushes[0], PushResult::sent);

  const std::uint64_t three = send_ok(alice, chat, "three");
  ASSERT_TRUE(del(alice, chat, three).ok());
  clock_.advance(kDelay);
  EXPECT_TRUE(due().empty());  // nothing left at or after the row's seq
}

TEST_F(PushOutboxTest, RowsSurviveARestart) {
  pair();
  const std::uint64_t seq = send_ok(alice, chat, "before the crash");
  reopen();
  EXPECT_EQ(push().outbox_depth(), 1u);
  clock_.advance(kDelay);
  auto pushes = due();
  ASSERT_EQ(pushes.size(), 1u);
  EXPECT_EQ(pushes[0].seq, seq);

  // Handed out but never completed (a crash mid-send): due again after a restart.
  reopen();
  pushes = due();
  ASSERT_EQ(pushes.size(), 1u);
  EXPECT_EQ(pushes[0].seq, seq);
  complete(pushes[0], PushResult::sent);

  // Pushed marks are stored too: a read after a restart still withdraws.
  reopen();
  auto bob_laptop = sign_in(core().accounts().user(bob.user_id)->phone, "laptop").who;
  ASSERT_TRUE(mark_read(bob_laptop, chat, seq).ok());
  reopen();
  auto clears = due();
  ASSERT_EQ(clears.size(), 1u);
  EXPECT_TRUE(clears[0].clear);
}

TEST_F(PushOutboxTest, ARowDueSoonerWakesTheSender) {
  pair();
  std::atomic<int> wakes{0};
  push().on_wake([&] { ++wakes; });
  send_ok(alice, chat, "one");  // the only row: the next due
  EXPECT_EQ(wakes.load(), 1);
  send_ok(alice, chat, "two");  // coalesced into the same row, not sooner
  EXPECT_GE(wakes.load(), 1);
  auto carol = new_user();
  auto other = direct(carol, bob);
  clock_.advance(1'000);
  const int before = wakes.load();
  send_ok(carol, other, "later");  // due after the first row: no wake
  EXPECT_EQ(wakes.load(), before);
  push().on_wake(nullptr);
}

TEST_F(PushOutboxTest, TakeDueRespectsItsLimit) {
  pair();
  std::vector<core::Principal> others;
  for (int i = 0; i < 5; ++i) {
    auto u = new_user();
    send_ok(u, direct(u, bob), "hi");
  }
  clock_.advance(kDelay);
  auto first = due(3);
  EXPECT_EQ(first.size(), 3u);
  auto rest = due(3);
  EXPECT_EQ(rest.size(), 2u);
  EXPECT_FALSE(push().next_due_ms());
}

// The RocksDB tables themselves.
TEST(PushStoreTest, OutboxRowsAreKeptInDueOrderAndDevicesTakeTheirRowsAlong) {
  TempDir dir;
  auto st = store::open_rocks_store(dir.sub("db"));
  using store::PushOutboxRecord;
  using store::PushType;
  auto row = [](std::int64_t due, std::string user, std::string device, PushType type) {
    return PushOutboxRecord{.due_ms = due,
                            .user_id = std::move(user),
                            .device_id = std::move(device),
                            .chat_id = "c1",
                            .type = type,
                            .seq = 7,
                            .offset = 42,
                            .attempts = 2,
                            .first_due_ms = 5};
  };
  const auto late = row(300, "u1", "d1", PushType::message);
  const auto early = row(100, "u2", "d1", PushType::message);
  const auto clear = row(100, "u2", "d1", PushType::clear);  // same push, other type
  const auto middle = row(200, "u1", "d10", PushType::message);
  std::vector<store::Mutation> batch = {
      store::PutPushOutbox{late},
      store::PutPushOutbox{early},
      store::PutPushOutbox{clear},
      store::PutPushOutbox{middle},
      store::PutPushTarget{{"u1", "d1", "{}", "webhook"}},
      store::PutPushTarget{{"u1", "d10", "{}", "fcm"}},
      store::PutPushed{{"u1", "d1", "c1", 7}},
      store::PutPushed{{"u1", "d1", "c2", 8}},
      store::PutPushed{{"u1", "d10", "c1", 9}},
      store::PutChatSettings{{"u1", "c1", 1234, false}},
  };
  ASSERT_TRUE(st->apply(batch, true).ok());

  auto due = st->push_outbox_due(200, 10);
  ASSERT_EQ(due.size(), 3u);
  EXPECT_EQ(due[0].due_ms, 100);
  EXPECT_EQ(due[2], middle);
  EXPECT_EQ(st->push_outbox_due(1'000, 2).size(), 2u);
  std::vector<PushOutboxRecord> all;
  st->for_each_push_outbox([&](PushOutboxRecord&& r) { all.push_back(std::move(r)); });
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all.back(), late);

  auto settings = st->get_chat_settings("u1", "c1");
  ASSERT_TRUE(settings);
  EXPECT_EQ(settings->muted_until, 1234);
  EXPECT_FALSE(settings->preview);
  EXPECT_FALSE(st->get_chat_settings("u1", "c2"));

  // Logging a device out takes its target and pushed rows, not its neighbour's.
  std::vector<store::Mutation> logout = {store::DeleteDevice{"u1", "d1", "hash"},
                                         store::DeletePushOutbox{early}};
  ASSERT_TRUE(st->apply(logout, true).ok());
  std::vector<store::PushTargetRecord> targets;
  st->for_each_push_target([&](store::PushTargetRecord&& t) { targets.push_back(std::move(t)); });
  ASSERT_EQ(targets.size(), 1u);
  EXPECT_EQ(targets[0].device_id, "d10");
  EXPECT_EQ(targets[0].kind, "fcm");
  std::vector<store::PushedRecord> pushed;
  st->for_each_pushed([&](store::PushedRecord&& p) { pushed.push_back(std::move(p)); });
  ASSERT_EQ(pushed.size(), 1u);
  EXPECT_EQ(pushed[0], (store::PushedRecord{"u1", "d10", "c1", 9}));
  due = st->push_outbox_due(1'000, 10);
  ASSERT_EQ(due.size(), 3u);
  EXPECT_EQ(due[0], clear);
}

}  // namespace
}  // namespace chat::test

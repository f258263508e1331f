// core/accounts over a real ChatCore and RocksDB store: OTP sign-in, devices,
// tokens, logout, profile.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "base/random.hpp"
#include "core/validation.hpp"
#include "test_support.hpp"

namespace chat::test {
namespace {

class AccountsTest : public DomainTest {
 protected:
  Result<core::SignedIn> verify(const std::string& phone, const std::string& code,
                                const std::string& device_name = "phone") {
    return await<Result<core::SignedIn>>([&](auto cb) {
      core().accounts().verify({phone, code, device_name}, std::move(cb));
    });
  }
  std::string code_for(const std::string& phone) {
    auto r = core().accounts().request_otp(phone);
    if (!r) throw std::runtime_error("request_otp: " + error_text(r.error()));
    return *r->dev_code;
  }
  static std::string wrong(const std::string& code) {
    std::string w = code;
    w[5] = w[5] == '9' ? '0' : static_cast<char>(w[5] + 1);
    return w;
  }
  Result<core::Profile> update(const core::Principal& who, proto::PatchMeRequest req) {
    return await<Result<core::Profile>>(
        [&](auto cb) { core().accounts().update_profile(who, req, std::move(cb)); });
  }
};

TEST_F(AccountsTest, RequestOtpInDevModeReturnsAndTextsTheCode) {
  auto r = core().accounts().request_otp("+15551234567");
  ASSERT_TRUE(r.ok()) << error_text(r.error());
  EXPECT_EQ(r->expires_in_s, 300);
  ASSERT_TRUE(r->dev_code.has_value());
  EXPECT_EQ(r->dev_code->size(), 6u);
  auto sent = sms_.sent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].phone, "+15551234567");
  EXPECT_EQ(sent[0].code, *r->dev_code);
}

TEST_F(AccountsTest, ProductionModeNeverReturnsTheCode) {
  config_.dev_mode = false;
  reopen();
  auto r = core().accounts().request_otp("+15551234567");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->dev_code.has_value());
  auto sent = sms_.sent();
  ASSERT_EQ(sent.size(), 1u);
  auto in = verify("+15551234567", sent[0].code);
  ASSERT_TRUE(in.ok()) << error_text(in.error());
  EXPECT_TRUE(in->new_user);
}

TEST_F(AccountsTest, PhoneMustBeE164) {
  for (const char* phone : {"5551234567", "+1555", "+1 555 123 4567", ""}) {
    auto r = core().accounts().request_otp(phone);
    ASSERT_FALSE(r.ok()) << phone;
    EXPECT_EQ(r.error().code, ErrorCode::bad_request);
  }
  EXPECT_TRUE(sms_.sent().empty());
  auto v = verify("5551234567", "123456");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().code, ErrorCode::bad_request);
  EXPECT_EQ(core().accounts().user_by_phone("nope").error().code, ErrorCode::bad_request);
}

TEST_F(AccountsTest, FirstVerifyCreatesTheUserLaterOnesAddDevices) {
  const std::string phone = "+15551234567";
  auto first = verify(phone, code_for(phone), "laptop");
  ASSERT_TRUE(first.ok()) << error_text(first.error());
  EXPECT_TRUE(first->new_user);
  EXPECT_TRUE(core::plausible_id(first->user_id, 'u')) << first->user_id;
  EXPECT_TRUE(core::plausible_id(first->device_id, 'd')) << first->device_id;
  EXPECT_EQ(first->token.size(), 64u);

  auto second = verify(phone, code_for(phone), "phone");
  ASSERT_TRUE(second.ok()) << error_text(second.error());
  EXPECT_FALSE(second->new_user);
  EXPECT_EQ(second->user_id, first->user_id);
  EXPECT_NE(second->device_id, first->device_id);
  EXPECT_NE(second->token, first->token);

  auto p1 = core().accounts().authenticate(first->token);
  ASSERT_TRUE(p1.ok());
  EXPECT_EQ(p1->user_id, first->user_id);
  EXPECT_EQ(p1->device_id, first->device_id);
  auto p2 = core().accounts().authenticate(second->token);
  ASSERT_TRUE(p2.ok());
  EXPECT_EQ(p2->device_id, second->device_id);

  auto profile = core().accounts().profile(*p1);
  ASSERT_TRUE(profile.ok());
  EXPECT_EQ(profile->user.user_id, first->user_id);
  EXPECT_EQ(profile->user.phone, phone);
  EXPECT_EQ(profile->user.last_seen_privacy, "everyone");
  ASSERT_EQ(profile->devices.size(), 2u);
  std::set<std::string> names;
  for (const auto& d : profile->devices)
    names.insert(d.name);
  EXPECT_EQ(names, (std::set<std::string>{"laptop", "phone"}));
  for (const auto& d : profile->devices)
    EXPECT_EQ(d.created_ts, clock_.now_ms());

  auto by_phone = core().accounts().user_by_phone(phone);
  ASSERT_TRUE(by_phone.ok());
  EXPECT_EQ(by_phone->user_id, first->user_id);
  auto by_id = core().accounts().user(first->user_id);
  ASSERT_TRUE(by_id.ok());
  EXPECT_EQ(by_id->phone, phone);

  // A different phone is a different user.
  auto other = verify("+15557654321", code_for("+15557654321"));
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(other->new_user);
  EXPECT_NE(other->user_id, first->user_id);
}

TEST_F(AccountsTest, UnknownUsersAndTokens) {
  EXPECT_EQ(core().accounts().user(new_id('u')).error().code, ErrorCode::not_found);
  EXPECT_EQ(core().accounts().user("garbage").error().code, ErrorCode::not_found);
  EXPECT_EQ(core().accounts().user_by_phone("+15550000000").error().code, ErrorCode::not_found);
  EXPECT_EQ(core().accounts().authenticate("").error().code, ErrorCode::unauthorized);
  EXPECT_EQ(core().accounts().authenticate(random_hex_secret(32)).error().code,
            ErrorCode::unauthorized);
  EXPECT_EQ(core().accounts().authenticate(std::string(1000, 'a')).error().code,
            ErrorCode::unauthorized);
}

TEST_F(AccountsTest, WrongCodeCreatesNothing) {
  const std::string phone = "+15551234567";
  const std::string code = code_for(phone);
  auto r = verify(phone, wrong(code));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::unauthorized);
  EXPECT_EQ(core().accounts().user_by_phone(phone).error().code, ErrorCode::not_found);
  EXPECT_TRUE(verify(phone, code).ok());
}

TEST_F(AccountsTest, FiveWrongCodesThenRateLimitedUntilANewCode) {
  const std::string phone = "+15551234567";
  const std::string code = code_for(phone);
  for (int i = 0; i < 5; ++i) {
    auto r = verify(phone, wrong(code));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::unauthorized);
  }
  auto dead = verify(phone, code);
  ASSERT_FALSE(dead.ok());
  EXPECT_EQ(dead.error().code, ErrorCode::rate_limited);
  EXPECT_EQ(core().accounts().user_by_phone(phone).error().code, ErrorCode::not_found);

  auto fresh = verify(phone, code_for(phone));
  EXPECT_TRUE(fresh.ok());
}

TEST_F(AccountsTest, UsedAndExpiredCodesAreUnauthorized) {
  const std::string phone = "+15551234567";
  const std::string code = code_for(phone);
  ASSERT_TRUE(verify(phone, code).ok());
  auto reused = verify(phone, code);
  ASSERT_FALSE(reused.ok());
  EXPECT_EQ(reused.error().code, ErrorCode::unauthorized);

  const std::string late = code_for(phone);
  clock_.advance(config_.otp_ttl_ms);
  auto expired = verify(phone, late);
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.error().code, ErrorCode::unauthorized);
}

TEST_F(AccountsTest, CodeRequestsAreRateLimitedPerPhone) {
  const std::string phone = "+15551234567";
  for (int i = 0; i < config_.otp_max_codes_per_window; ++i) {
    ASSERT_TRUE(core().accounts().request_otp(phone).ok()) << i;
    clock_.advance(1000);
  }
  auto limited = core().accounts().request_otp(phone);
  ASSERT_FALSE(limited.ok());
  EXPECT_EQ(limited.error().code, ErrorCode::rate_limited);
  EXPECT_GT(limited.error().retry_after_ms, 0);
  EXPECT_EQ(sms_.sent().size(), static_cast<std::size_t>(config_.otp_max_codes_per_window));
  clock_.advance(config_.otp_window_ms);
  EXPECT_TRUE(core().accounts().request_otp(phone).ok());
}

TEST_F(AccountsTest, BadDeviceNameDoesNotConsumeTheCode) {
  const std::string phone = "+15551234567";
  const std::string code = code_for(phone);
  auto empty = verify(phone, code, "");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, ErrorCode::bad_request);
  auto control = verify(phone, code, "bad\nname");
  ASSERT_FALSE(control.ok());
  EXPECT_EQ(control.error().code, ErrorCode::bad_request);
  auto long_name = verify(phone, code, std::string(129, 'x'));
  ASSERT_FALSE(long_name.ok());
  EXPECT_EQ(long_name.error().code, ErrorCode::too_large);
  EXPECT_TRUE(verify(phone, code, "ok").ok());
}

TEST_F(AccountsTest, LogoutRevokesOnlyThatDevice) {
  const std::string phone = next_phone();
  Account laptop = sign_in(phone, "laptop");
  Account mobile = sign_in(phone, "mobile");
  auto listener = std::make_shared<RecordingListener>(laptop.who.device_id);
  auto other = std::make_shared<RecordingListener>(mobile.who.device_id);
  core().hub().subscribe(laptop.who.user_id, listener);
  core().hub().subscribe(mobile.who.user_id, other);

  Waiter<int> done;
  auto cb = done.callback();
  core().accounts().logout(laptop.who, [cb] { cb(1); });
  done.get();

  EXPECT_TRUE(listener->revoked());
  EXPECT_FALSE(other->revoked());
  EXPECT_EQ(core().accounts().authenticate(laptop.token).error().code, ErrorCode::unauthorized);
  EXPECT_TRUE(core().accounts().authenticate(mobile.token).ok());
  auto profile = core().accounts().profile(mobile.who);
  ASSERT_TRUE(profile.ok());
  ASSERT_EQ(profile->devices.size(), 1u);
  EXPECT_EQ(profile->devices[0].device_id, mobile.who.device_id);

  reopen();
  EXPECT_EQ(core().accounts().authenticate(laptop.token).error().code, ErrorCode::unauthorized);
  EXPECT_TRUE(core().accounts().authenticate(mobile.token).ok());
}

TEST_F(AccountsTest, TokensSurviveARestart) {
  Account a = sign_in(next_phone());
  reopen();
  auto who = core().accounts().authenticate(a.token);
  ASSERT_TRUE(who.ok());
  EXPECT_EQ(who->user_id, a.who.user_id);
  EXPECT_EQ(who->device_id, a.who.device_id);
  // And signing in again with the same phone finds the same user.
  Account again = sign_in(core().accounts().profile(a.who)->user.phone);
  EXPECT_EQ(again.who.user_id, a.who.user_id);
}

TEST_F(AccountsTest, UpdateProfile) {
  Account a = sign_in(next_phone());
  proto::PatchMeRequest req;
  req.name = "Ann \xc3\xa9";
  auto named = update(a.who, req);
  ASSERT_TRUE(named.ok()) << error_text(named.error());
  EXPECT_EQ(named->user.name, "Ann \xc3\xa9");
  EXPECT_EQ(named->user.last_seen_privacy, "everyone");

  proto::PatchMeRequest privacy;
  privacy.last_seen_privacy = "contacts";
  auto both = update(a.who, privacy);
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(both->user.name, "Ann \xc3\xa9");  // untouched
  EXPECT_EQ(both->user.last_seen_privacy, "contacts");

  proto::PatchMeRequest bad_privacy;
  bad_privacy.last_seen_privacy = "friends";
  EXPECT_EQ(update(a.who, bad_privacy).error().code, ErrorCode::bad_request);
  proto::PatchMeRequest empty_name;
  empty_name.name = "";
  EXPECT_EQ(update(a.who, empty_name).error().code, ErrorCode::bad_request);
  proto::PatchMeRequest long_name;
  long_name.name = std::string(129, 'n');
  EXPECT_EQ(update(a.who, long_name).error().code, ErrorCode::too_large);

  reopen();
  auto stored = core().accounts().user(a.who.user_id);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->name, "Ann \xc3\xa9");
  EXPECT_EQ(stored->last_seen_privacy, "contacts");
}

TEST_F(AccountsTest, ConcurrentProfilePatchesBothApply) {
  Account a = sign_in(next_phone());
  proto::PatchMeRequest name;
  name.name = "Bea";
  proto::PatchMeRequest privacy;
  privacy.last_seen_privacy = "nobody";
  Waiter<Result<core::Profile>> w1, w2;
  // Both are submitted before either commits.
  core().accounts().update_profile(a.who, name, w1.callback());
  core().accounts().update_profile(a.who, privacy, w2.callback());
  ASSERT_TRUE(w1.get().ok());
  ASSERT_TRUE(w2.get().ok());
  auto stored = core().accounts().user(a.who.user_id);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->name, "Bea");
  EXPECT_EQ(stored->last_seen_privacy, "nobody");
}

TEST_F(AccountsTest, NewDeviceCursorStartsAtTheUsersHead) {
  const std::string phone = next_phone();
  Account first = sign_in(phone);
  core::Principal b = new_user();
  auto chat = create_direct(first.who, b.user_id);
  ASSERT_TRUE(chat.ok());
  send_ok(first.who, chat->chat_id, "one");
  send_ok(b, chat->chat_id, "two");
  const std::uint64_t head = core().events().head(first.who.user_id);
  EXPECT_EQ(head, 3u);  // the chat event and two messages

  Account second = sign_in(phone, "tablet");
  auto pos = core().events().position(second.who);
  EXPECT_EQ(pos.head, head);
  EXPECT_EQ(pos.cursor, head);
  auto old = core().events().position(first.who);
  EXPECT_EQ(old.cursor, 0u);
  EXPECT_EQ(old.head, head);

  reopen();
  EXPECT_EQ(core().events().position(second.who).cursor, head);
  EXPECT_EQ(core().events().position(first.who).cursor, 0u);
}

}  // namespace
}  // namespace chat::test

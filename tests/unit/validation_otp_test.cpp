// core/validation and core/otp (OtpBook).
#include <gtest/gtest.h>

#include <string>

#include "base/random.hpp"
#include "core/config.hpp"
#include "core/otp.hpp"
#include "core/validation.hpp"

namespace chat::core {
namespace {

// ---- validation -------------------------------------------------------------

TEST(ValidPhone, AcceptsE164) {
  EXPECT_TRUE(valid_phone("+15551234567"));
  EXPECT_TRUE(valid_phone("+447911123456"));
  EXPECT_TRUE(valid_phone("+12345678"));         // 8 digits: the minimum
  EXPECT_TRUE(valid_phone("+123456789012345"));  // 15 digits: the maximum
  EXPECT_TRUE(valid_phone("+90000000"));
}

TEST(ValidPhone, RejectsEverythingElse) {
  const std::string bad[] = {
      "",
      "+",
      "15551234567",        // no '+'
      "+1234567",           // 7 digits
      "+1234567890123456",  // 16 digits
      "+05551234567",       // country codes do not start with 0
      "+1555 1234567",
      "+1-555-123-4567",
      "++15551234567",
      "+1555123456a",
      " +15551234567",
      "+15551234567 ",
      "+15551234567\n",
      std::string("+1555123\0"
                  "4567",
                  12),
      "+\xef\xbc\x91\xef\xbc\x95\xef\xbc\x95\xef\xbc\x95\xef\xbc\x91\xef\xbc\x92\xef\xbc\x93",
      "+1555123456\xd9\xa7",  // an Arabic-Indic digit
  };
  for (const auto& phone : bad)
    EXPECT_FALSE(valid_phone(phone)) << testing::PrintToString(phone);
}

TEST(CheckLabel, LengthInCharacters) {
  EXPECT_TRUE(check_label("Team", 128, "title").ok());
  EXPECT_TRUE(check_label(std::string(128, 'x'), 128, "title").ok());
  auto too_long = check_label(std::string(129, 'x'), 128, "title");
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.error().code, ErrorCode::too_large);
  EXPECT_NE(too_long.error().message.find("title"), std::string::npos);

  // 128 two-byte characters are 256 bytes but within a 128-character limit.
  std::string accents;
  for (int i = 0; i < 128; ++i)
    accents += "\xc3\xa9";
  EXPECT_TRUE(check_label(accents, 128, "name").ok());
  accents += "\xc3\xa9";
  EXPECT_EQ(check_label(accents, 128, "name").error().code, ErrorCode::too_large);
  EXPECT_TRUE(check_label("\xf0\x9f\x98\x80", 1, "name").ok());
}

TEST(CheckLabel, EmptyAndControlCharacters) {
  auto empty = check_label("", 128, "device_name");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, ErrorCode::bad_request);
  EXPECT_NE(empty.error().message.find("device_name"), std::string::npos);

  for (const char* s : {"a\nb", "tab\there", "del\x7f", "\x01", "bell\a", "cr\r"}) {
    auto r = check_label(s, 128, "title");
    ASSERT_FALSE(r.ok()) << testing::PrintToString(s);
    EXPECT_EQ(r.error().code, ErrorCode::bad_request);
  }
  EXPECT_EQ(check_label(std::string("a\0b", 3), 128, "title").error().code, ErrorCode::bad_request);
  EXPECT_TRUE(check_label("  spaces are fine  ", 128, "title").ok());
}

TEST(PlausibleId, MatchesIssuedIdsOnly) {
  for (char kind : {'u', 'c', 'd', 'm'}) {
    const std::string id = new_id(kind);
    EXPECT_TRUE(plausible_id(id, kind)) << id;
    EXPECT_FALSE(plausible_id(id, kind == 'u' ? 'c' : 'u')) << id;
  }
  EXPECT_TRUE(plausible_id("u0123456789abcdef", 'u'));
  EXPECT_FALSE(plausible_id("", 'u'));
  EXPECT_FALSE(plausible_id("u", 'u'));
  EXPECT_FALSE(plausible_id("u0123456789abcde", 'u'));    // 15 hex digits
  EXPECT_FALSE(plausible_id("u0123456789abcdef0", 'u'));  // 17 hex digits
  EXPECT_FALSE(plausible_id("u0123456789ABCDEF", 'u'));   // upper case
  EXPECT_FALSE(plausible_id("u0123456789abcdeg", 'u'));
  EXPECT_FALSE(plausible_id("U0123456789abcdef", 'u'));
  EXPECT_FALSE(plausible_id(std::string("u0123456789abcde\0", 17), 'u'));
}

// ---- OtpBook ------------------------------------------------------------------

class OtpTest : public ::testing::Test {
 protected:
  static constexpr std::int64_t kT0 = 1'764'000'000'000;
  const std::string phone_ = "+15551234567";

  std::string issue(std::int64_t at = kT0) {
    auto code = book_.issue(phone_, at);
    if (!code) throw std::runtime_error("issue failed: " + code.error().message);
    return *code;
  }
  static std::string wrong(const std::string& code) {
    std::string w = code;
    w[0] = w[0] == '9' ? '0' : static_cast<char>(w[0] + 1);
    return w;
  }

  CoreConfig config_;
  OtpBook book_{config_};
};

TEST_F(OtpTest, IssuesSixDigitCodes) {
  const std::string code = issue();
  ASSERT_EQ(code.size(), 6u);
  for (char c : code)
    EXPECT_TRUE(c >= '0' && c <= '9') << code;
}

TEST_F(OtpTest, RightCodeVerifies) {
  const std::string code = issue();
  EXPECT_TRUE(book_.verify(phone_, code, kT0 + 1000).ok());
}

TEST_F(OtpTest, WrongCodeIsUnauthorized) {
  const std::string code = issue();
  auto s = book_.verify(phone_, wrong(code), kT0);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::unauthorized);
  EXPECT_FALSE(book_.verify(phone_, "", kT0).ok());
  EXPECT_EQ(book_.verify(phone_, code + "0", kT0).error().code, ErrorCode::unauthorized);
  // Three wrong tries so far: the right code still works.
  EXPECT_TRUE(book_.verify(phone_, code, kT0).ok());
}

TEST_F(OtpTest, FourWrongTriesStillAllowTheRightCode) {
  const std::string code = issue();
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(book_.verify(phone_, wrong(code), kT0).error().code, ErrorCode::unauthorized);
  }
  EXPECT_TRUE(book_.verify(phone_, code, kT0).ok());
}

TEST_F(OtpTest, FiveWrongTriesKillTheCode) {
  const std::string code = issue();
  for (int i = 0; i < 5; ++i) {
    auto s = book_.verify(phone_, wrong(code), kT0);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code, ErrorCode::unauthorized) << "try " << i + 1;
  }
  // Dead: even the right code is rate limited, and so is any further try.
  auto right = book_.verify(phone_, code, kT0);
  ASSERT_FALSE(right.ok());
  EXPECT_EQ(right.error().code, ErrorCode::rate_limited);
  EXPECT_EQ(book_.verify(phone_, wrong(code), kT0).error().code, ErrorCode::rate_limited);
  EXPECT_EQ(book_.verify(phone_, code, kT0 + 60'000).error().code, ErrorCode::rate_limited);

  // A new code revives the phone.
  const std::string fresh = issue(kT0 + 1000);
  EXPECT_TRUE(book_.verify(phone_, fresh, kT0 + 1000).ok());
}

TEST_F(OtpTest, UsedCodeCannotBeReused) {
  const std::string code = issue();
  ASSERT_TRUE(book_.verify(phone_, code, kT0).ok());
  auto again = book_.verify(phone_, code, kT0 + 1);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::unauthorized);
}

TEST_F(OtpTest, CodeExpires) {
  const std::string code = issue();
  auto late = book_.verify(phone_, code, kT0 + config_.otp_ttl_ms);
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, ErrorCode::unauthorized);

  const std::string second = issue(kT0 + 1000);
  EXPECT_TRUE(book_.verify(phone_, second, kT0 + 1000 + config_.otp_ttl_ms - 1).ok());
}

TEST_F(OtpTest, UnknownPhoneAndOtherPhonesCode) {
  EXPECT_EQ(book_.verify(phone_, "123456", kT0).error().code, ErrorCode::unauthorized);
  const std::string code = issue();
  EXPECT_EQ(book_.verify("+15550000000", code, kT0).error().code, ErrorCode::unauthorized);
  EXPECT_TRUE(book_.verify(phone_, code, kT0).ok());
}

TEST_F(OtpTest, NewCodeReplacesTheOldOne) {
  const std::string first = issue();
  std::string second = issue(kT0 + 10);
  while (second == first)
    second = issue(kT0 + 20);  // one in a million
  EXPECT_EQ(book_.verify(phone_, first, kT0 + 30).error().code, ErrorCode::unauthorized);
  EXPECT_TRUE(book_.verify(phone_, second, kT0 + 30).ok());
}

TEST_F(OtpTest, CodesPerWindowAreRateLimited) {
  ASSERT_EQ(config_.otp_max_codes_per_window, 5);
  for (int i = 0; i < 5; ++i)
    issue(kT0 + i * 1000);
  auto sixth = book_.issue(phone_, kT0 + 10'000);
  ASSERT_FALSE(sixth.ok());
  EXPECT_EQ(sixth.error().code, ErrorCode::rate_limited);
  // Retry when the oldest code leaves the window.
  EXPECT_EQ(sixth.error().retry_after_ms, config_.otp_window_ms - 10'000);

  // Other phones are not affected.
  EXPECT_TRUE(book_.issue("+15557654321", kT0 + 10'000).ok());

  // Still limited just before the first issue leaves the window; fine after.
  EXPECT_FALSE(book_.issue(phone_, kT0 + config_.otp_window_ms - 1).ok());
  auto later = book_.issue(phone_, kT0 + config_.otp_window_ms);
  ASSERT_TRUE(later.ok());
  // Exactly one slot freed: the next one is limited again.
  EXPECT_EQ(book_.issue(phone_, kT0 + config_.otp_window_ms).error().code, ErrorCode::rate_limited);
  EXPECT_TRUE(book_.verify(phone_, *later, kT0 + config_.otp_window_ms).ok());
}

TEST_F(OtpTest, RateLimitedIssueKeepsTheLiveCode) {
  std::string last;
  for (int i = 0; i < 5; ++i)
    last = issue(kT0 + i);
  EXPECT_FALSE(book_.issue(phone_, kT0 + 10).ok());
  EXPECT_TRUE(book_.verify(phone_, last, kT0 + 10).ok());
}

}  // namespace
}  // namespace chat::core

// base/: UTF-8, SHA-256, constant-time comparison, ids and secrets, Result, errors.
#include <gtest/gtest.h>

#include <cctype>
#include <set>
#include <string>

#include "base/error.hpp"
#include "base/random.hpp"
#include "base/result.hpp"
#include "base/sha256.hpp"
#include "base/utf8.hpp"

namespace chat {
namespace {

bool is_lower_hex(const std::string& s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

TEST(Utf8, AcceptsWellFormedText) {
  EXPECT_TRUE(valid_utf8(""));
  EXPECT_TRUE(valid_utf8("hello, world"));
  EXPECT_TRUE(valid_utf8(std::string_view("a\0b", 3)));  // NUL is a valid code point
  EXPECT_TRUE(valid_utf8("\xc2\x80"));                   // U+0080, smallest 2-byte
  EXPECT_TRUE(valid_utf8("h\xc3\xa9llo"));               // é
  EXPECT_TRUE(valid_utf8("\xdf\xbf"));                   // U+07FF
  EXPECT_TRUE(valid_utf8("\xe0\xa0\x80"));               // U+0800, smallest 3-byte
  EXPECT_TRUE(valid_utf8("\xe2\x82\xac"));               // €
  EXPECT_TRUE(valid_utf8("\xed\x9f\xbf"));               // U+D7FF, just below surrogates
  EXPECT_TRUE(valid_utf8("\xee\x80\x80"));               // U+E000, just above surrogates
  EXPECT_TRUE(valid_utf8("\xef\xbf\xbf"));               // U+FFFF
  EXPECT_TRUE(valid_utf8("\xf0\x90\x80\x80"));           // U+10000, smallest 4-byte
  EXPECT_TRUE(valid_utf8("\xf0\x9f\x98\x80"));           // 😀
  EXPECT_TRUE(valid_utf8("\xf4\x8f\xbf\xbf"));           // U+10FFFF, the largest
}

TEST(Utf8, RejectsMalformedText) {
  const char* bad[] = {
      "\x80",                  // lone continuation byte
      "\xbf",                  // lone continuation byte
      "a\x80z",                // continuation byte in ASCII
      "\xc0\x80",              // overlong NUL
      "\xc1\xbf",              // overlong 2-byte
      "\xe0\x80\x80",          // overlong 3-byte
      "\xe0\x9f\xbf",          // overlong 3-byte (U+07FF)
      "\xed\xa0\x80",          // surrogate U+D800
      "\xed\xbf\xbf",          // surrogate U+DFFF
      "\xf0\x80\x80\x80",      // overlong 4-byte
      "\xf0\x8f\xbf\xbf",      // overlong 4-byte (U+FFFF)
      "\xf4\x90\x80\x80",      // U+110000
      "\xf5\x80\x80\x80",      // lead byte beyond U+10FFFF
      "\xf8\x88\x80\x80\x80",  // 5-byte form
      "\xfe",
      "\xff",
      "\xc3",              // truncated 2-byte
      "\xe2\x82",          // truncated 3-byte
      "\xf0\x9f\x98",      // truncated 4-byte
      "ok\xc3",            // truncated at the end
      "\xc3\x28",          // bad continuation
      "\xe2\x28\xa1",      // bad continuation
      "\xe2\x82\x28",      // bad continuation
      "\xf0\x9f\x28\x80",  // bad continuation
  };
  for (const char* s : bad)
    EXPECT_FALSE(valid_utf8(s)) << testing::PrintToString(s);
}

TEST(Utf8, LengthCountsCodePoints) {
  EXPECT_EQ(utf8_length(""), 0u);
  EXPECT_EQ(utf8_length("abc"), 3u);
  EXPECT_EQ(utf8_length("h\xc3\xa9llo"), 5u);
  EXPECT_EQ(utf8_length("\xe2\x82\xac\xf0\x9f\x98\x80"), 2u);  // €😀
  EXPECT_EQ(utf8_length(std::string(128, 'x')), 128u);
  std::string euros;
  for (int i = 0; i < 10; ++i)
    euros += "\xe2\x82\xac";
  EXPECT_EQ(utf8_length(euros), 10u);
  EXPECT_EQ(euros.size(), 30u);
}

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(ConstantTimeEqual, ComparesContentAndLength) {
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_TRUE(constant_time_equal("secret", "secret"));
  EXPECT_FALSE(constant_time_equal("secret", "secreT"));
  EXPECT_FALSE(constant_time_equal("secret", "Secret"));
  EXPECT_FALSE(constant_time_equal("secret", "secret2"));
  EXPECT_FALSE(constant_time_equal("secret", "secre"));
  EXPECT_FALSE(constant_time_equal("", "x"));
  EXPECT_TRUE(constant_time_equal(std::string_view("a\0b", 3), std::string_view("a\0b", 3)));
  EXPECT_FALSE(constant_time_equal(std::string_view("a\0b", 3), std::string_view("a\0c", 3)));
}

TEST(Random, NewIdFormat) {
  std::set<std::string> seen;
  for (char kind : {'u', 'c', 'd', 'm'}) {
    for (int i = 0; i < 500; ++i) {
      const std::string id = new_id(kind);
      ASSERT_EQ(id.size(), 17u) << id;
      EXPECT_EQ(id[0], kind) << id;
      EXPECT_TRUE(is_lower_hex(id.substr(1))) << id;
      EXPECT_TRUE(seen.insert(id).second) << "duplicate id " << id;
    }
  }
}

TEST(Random, HexSecretsAreLongAndDistinct) {
  const std::string a = random_hex_secret(32);
  const std::string b = random_hex_secret(32);
  EXPECT_EQ(a.size(), 64u);
  EXPECT_TRUE(is_lower_hex(a));
  EXPECT_NE(a, b);
  EXPECT_EQ(random_hex_secret(0), "");
}

TEST(Random, DigitsKeepLeadingZerosAndCoverAllDigits) {
  std::set<char> first_digits;
  std::set<std::string> codes;
  for (int i = 0; i < 2000; ++i) {
    const std::string code = random_digits(6);
    ASSERT_EQ(code.size(), 6u);
    for (char c : code)
      ASSERT_TRUE(std::isdigit(static_cast<unsigned char>(c))) << code;
    first_digits.insert(code[0]);
    codes.insert(code);
  }
  EXPECT_EQ(first_digits.size(), 10u);  // '0' included: leading zeros are kept
  EXPECT_GT(codes.size(), 1900u);       // 2000 draws from 10^6: collisions are rare
}

TEST(Random, ToHex) {
  const unsigned char bytes[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
  EXPECT_EQ(to_hex(bytes, sizeof bytes), "00017f80abff");
  EXPECT_EQ(to_hex(bytes, 0), "");
}

TEST(ResultType, HoldsValueOrError) {
  Result<std::string> good = std::string("value");
  ASSERT_TRUE(good.ok());
  EXPECT_TRUE(static_cast<bool>(good));
  EXPECT_EQ(*good, "value");
  EXPECT_EQ(good->size(), 5u);
  std::string moved = std::move(good).value();
  EXPECT_EQ(moved, "value");

  Result<std::string> bad = not_found("no such thing");
  ASSERT_FALSE(bad.ok());
  EXPECT_FALSE(static_cast<bool>(bad));
  EXPECT_EQ(bad.error().code, ErrorCode::not_found);
  EXPECT_EQ(bad.error().message, "no such thing");
  Error taken = bad.take_error();
  EXPECT_EQ(taken.code, ErrorCode::not_found);
  EXPECT_EQ(taken.message, "no such thing");
}

TEST(ResultType, StatusAndErrorHelpers) {
  Status ok = ok_status();
  EXPECT_TRUE(ok.ok());
  Status failed = forbidden("nope");
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, ErrorCode::forbidden);

  EXPECT_EQ(bad_request("x").code, ErrorCode::bad_request);
  EXPECT_EQ(unauthorized("x").code, ErrorCode::unauthorized);
  EXPECT_EQ(too_large("x").code, ErrorCode::too_large);
  EXPECT_EQ(internal_error("x").code, ErrorCode::internal);
  EXPECT_EQ(Error{}.code, ErrorCode::internal);
}

TEST(ErrorCodes, NamesAndHttpStatusesMatchTheProtocol) {
  const std::pair<ErrorCode, std::pair<const char*, int>> table[] = {
      {ErrorCode::bad_request, {"bad_request", 400}},
      {ErrorCode::unauthorized, {"unauthorized", 401}},
      {ErrorCode::forbidden, {"forbidden", 403}},
      {ErrorCode::not_found, {"not_found", 404}},
      {ErrorCode::conflict, {"conflict", 409}},
      {ErrorCode::too_large, {"too_large", 413}},
      {ErrorCode::rate_limited, {"rate_limited", 429}},
      {ErrorCode::unavailable, {"unavailable", 503}},
      {ErrorCode::internal, {"internal", 500}},
  };
  for (const auto& [code, expected] : table) {
    EXPECT_EQ(code_name(code), expected.first);
    EXPECT_EQ(http_status(code), expected.second) << expected.first;
  }
}

}  // namespace
}  // namespace chat

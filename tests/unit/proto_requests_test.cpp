// proto/requests + proto/fields: WebSocket frames and REST bodies.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <string>

#include "proto/fields.hpp"
#include "proto/requests.hpp"

namespace chat::proto {
namespace {
namespace json = boost::json;

// Parses `text` as a frame; id_out starts as a sentinel so a test sees whether
// parse_frame reset it.
struct Parsed {
  Result<Frame> frame;
  json::value id;
};
Parsed parse(std::string_view text) {
  json::value id = "sentinel";
  auto r = parse_frame(text, id);
  return {std::move(r), std::move(id)};
}

void expect_bad_request(const Parsed& p, std::string_view message_part = {}) {
  ASSERT_FALSE(p.frame.ok());
  EXPECT_EQ(p.frame.error().code, ErrorCode::bad_request);
  if (!message_part.empty()) {
    EXPECT_NE(p.frame.error().message.find(message_part), std::string::npos)
        << "message: " << p.frame.error().message;
  }
}

std::string nested(int depth) {
  // {"type":"ping","x": [[...]]}: the object is one level, each array one more.
  std::string s = R"({"type":"ping","x":)";
  s.append(depth - 1, '[');
  s.append(depth - 1, ']');
  s += "}";
  return s;
}

// ---- each frame type -------------------------------------------------------

TEST(ParseFrame, Auth) {
  auto p = parse(R"({"type":"auth","id":1,"token":"tok"})");
  ASSERT_TRUE(p.frame.ok()) << p.frame.error().message;
  EXPECT_EQ(p.frame->type, FrameType::auth);
  EXPECT_EQ(p.frame->id, json::value(1));
  EXPECT_EQ(p.id, json::value(1));
  AuthFrame a = auth_frame(*p.frame);
  EXPECT_EQ(a.token, "tok");
  EXPECT_FALSE(a.from_offset.has_value());

  auto q = parse(R"({"type":"auth","token":"tok","from_offset":0})");
  ASSERT_TRUE(q.frame.ok()) << q.frame.error().message;
  EXPECT_TRUE(q.frame->id.is_null());
  EXPECT_TRUE(q.id.is_null());
  ASSERT_TRUE(auth_frame(*q.frame).from_offset.has_value());
  EXPECT_EQ(*auth_frame(*q.frame).from_offset, 0u);

  expect_bad_request(parse(R"({"type":"auth","id":1})"), "missing field 'token'");
  expect_bad_request(parse(R"({"type":"auth","token":5})"), "field 'token'");
}

TEST(ParseFrame, Ack) {
  auto p = parse(R"({"type":"ack","offset":1234})");
  ASSERT_TRUE(p.frame.ok()) << p.frame.error().message;
  EXPECT_EQ(p.frame->type, FrameType::ack);
  EXPECT_EQ(ack_frame(*p.frame).offset, 1234u);
  expect_bad_request(parse(R"({"type":"ack"})"), "missing field 'offset'");
}

TEST(ParseFrame, Send) {
  auto p = parse(R"({"type":"send","id":"s1","chat_id":"c1","client_msg_id":"m1","body":"hi",)"
                 R"("reply_to":3,"media":["a","b"]})");
  ASSERT_TRUE(p.frame.ok()) << p.frame.error().message;
  EXPECT_EQ(p.frame->type, FrameType::send);
  EXPECT_EQ(p.frame->id, json::value("s1"));
  SendRequest s = send_frame(*p.frame);
  EXPECT_EQ(s.chat_id, "c1");
  EXPECT_EQ(s.client_msg_id, "m1");
  ASSERT_TRUE(s.body.has_value());
  EXPECT_EQ(*s.body, "hi");
  ASSERT_TRUE(s.reply_to.has_value());
  EXPECT_EQ(*s.reply_to, 3u);
  EXPECT_EQ(s.media, (std::vector<std::string>{"a", "b"}));

  auto minimal = parse(R"({"type":"send","chat_id":"c1","client_msg_id":"m1"})");
  ASSERT_TRUE(minimal.frame.ok()) << minimal.frame.error().message;
  SendRequest m = send_frame(*minimal.frame);
  EXPECT_FALSE(m.body.has_value());
  EXPECT_FALSE(m.reply_to.has_value());
  EXPECT_TRUE(m.media.empty());

  expect_bad_request(parse(R"({"type":"send","client_msg_id":"m1","body":"x"})"),
                     "missing field 'chat_id'");
  expect_bad_request(parse(R"({"type":"send","chat_id":"c1","body":"x"})"),
                     "missing field 'client_msg_id'");
  expect_bad_request(parse(R"({"type":"send","chat_id":"c1","client_msg_id":"m","body":7})"),
                     "field 'body'");
  expect_bad_request(parse(R"({"type":"send","chat_id":"c1","client_msg_id":"m","media":["a",1]})"),
                     "field 'media'");
  expect_bad_request(parse(R"({"type":"send","chat_id":"c1","client_msg_id":"m","media":"a"})"),
                     "field 'media'");
  expect_bad_request(parse(R"({"type":"send","chat_id":"c1","client_msg_id":"m","reply_to":-1})"),
                     "field 'reply_to'");
}

TEST(ParseFrame, Ping) {
  auto p = parse(R"({"type":"ping"})");
  ASSERT_TRUE(p.frame.ok()) << p.frame.error().message;
  EXPECT_EQ(p.frame->type, FrameType::ping);
  EXPECT_TRUE(p.frame->id.is_null());

  auto q = parse(R"({"type":"ping","id":"abc"})");
  ASSERT_TRUE(q.frame.ok());
  EXPECT_EQ(q.frame->id, json::value("abc"));
}

TEST(ParseFrame, ReadDeleteTypingPresence) {
  auto read = parse(R"({"type":"read","id":2,"chat_id":"c1","seq":5})");
  ASSERT_TRUE(read.frame.ok()) << read.frame.error().message;
  EXPECT_EQ(read.frame->type, FrameType::read);
  expect_bad_request(parse(R"({"type":"read","chat_id":"c1"})"), "missing field 'seq'");

  auto del = parse(R"({"type":"delete","id":3,"chat_id":"c1","seq":5})");
  ASSERT_TRUE(del.frame.ok()) << del.frame.error().message;
  EXPECT_EQ(del.frame->type, FrameType::delete_message);
  expect_bad_request(parse(R"({"type":"delete","id":3,"seq":5})"), "missing field 'chat_id'");

  auto typing = parse(R"({"type":"typing","chat_id":"c1","typing":true})");
  ASSERT_TRUE(typing.frame.ok()) << typing.frame.error().message;
  EXPECT_EQ(typing.frame->type, FrameType::typing);
  expect_bad_request(parse(R"({"type":"typing","chat_id":"c1","typing":"yes"})"), "field 'typing'");
  expect_bad_request(parse(R"({"type":"typing","chat_id":"c1","typing":1})"), "field 'typing'");

  auto presence = parse(R"({"type":"presence_subscribe","id":4,"user_ids":["u1","u2"]})");
  ASSERT_TRUE(presence.frame.ok()) << presence.frame.error().message;
  EXPECT_EQ(presence.frame->type, FrameType::presence_subscribe);
  auto empty = parse(R"({"type":"presence_subscribe","user_ids":[]})");
  EXPECT_TRUE(empty.frame.ok());
  expect_bad_request(parse(R"({"type":"presence_subscribe","user_ids":"u1"})"), "field 'user_ids'");
}

// PROTOCOL.md: "Client requests may carry an id (any JSON string or number)";
// requests.cpp: "id and type are allowed on all of them".
TEST(ParseFrame, EveryFrameTypeAcceptsAnId) {
  const char* frames[] = {
      R"({"type":"auth","id":9,"token":"t"})",
      R"({"type":"ack","id":9,"offset":1})",
      R"({"type":"send","id":9,"chat_id":"c","client_msg_id":"m","body":"b"})",
      R"({"type":"ping","id":9})",
      R"({"type":"read","id":9,"chat_id":"c","seq":1})",
      R"({"type":"delete","id":9,"chat_id":"c","seq":1})",
      R"({"type":"typing","id":9,"chat_id":"c","typing":false})",
      R"({"type":"presence_subscribe","id":9,"user_ids":[]})",
  };
  for (const char* text : frames) {
    auto p = parse(text);
    ASSERT_TRUE(p.frame.ok()) << text << ": " << p.frame.error().message;
    EXPECT_EQ(p.frame->id, json::value(9)) << text;
  }
}

// ---- shape errors ----------------------------------------------------------

TEST(ParseFrame, UnknownFieldIsRejected) {
  auto p = parse(R"({"type":"ping","id":1,"extra":true})");
  expect_bad_request(p, "unknown field 'extra'");
  EXPECT_EQ(p.id, json::value(1));
  expect_bad_request(parse(R"({"type":"ack","offset":1,"token":"t"})"), "unknown field 'token'");
}

TEST(ParseFrame, UnknownOrMissingType) {
  auto unknown = parse(R"({"type":"shout","id":"r7"})");
  expect_bad_request(unknown, "unknown frame type 'shout'");
  EXPECT_EQ(unknown.id, json::value("r7"));

  auto missing = parse(R"({"id":5,"token":"x"})");
  expect_bad_request(missing, "type");
  EXPECT_EQ(missing.id, json::value(5));

  expect_bad_request(parse(R"({"type":5})"), "type");
  expect_bad_request(parse(R"({"type":null})"), "type");
  expect_bad_request(parse(R"({"type":"PING"})"), "unknown frame type");
}

TEST(ParseFrame, NonObjectJsonIsRejectedWithNullId) {
  for (const char* text : {"[]", R"(["type","ping"])", R"("ping")", "42", "null", "true"}) {
    auto p = parse(text);
    expect_bad_request(p);
    EXPECT_TRUE(p.id.is_null()) << text;
  }
}

TEST(ParseFrame, MalformedJsonYieldsNullId) {
  const char* texts[] = {
      R"({"type":"ping","id":7)",      // truncated
      R"({"type":"ping","id":7,})",    // trailing comma
      R"({'type':'ping','id':7})",     // single quotes
      R"({"type":"ping","id":7} {})",  // trailing data
      "",
      "   ",
      R"({"type":"ping","id":7}})",
  };
  for (const char* text : texts) {
    auto p = parse(text);
    expect_bad_request(p, "malformed JSON");
    EXPECT_TRUE(p.id.is_null()) << text;
  }
}

TEST(ParseFrame, ReadableIdIsEchoedOnErrors) {
  // Valid JSON with a readable id: the error can echo it.
  auto missing = parse(R"({"type":"ack","id":"req-1"})");
  expect_bad_request(missing, "missing field 'offset'");
  EXPECT_EQ(missing.id, json::value("req-1"));

  auto wrong_type = parse(R"({"type":"ack","id":77,"offset":"1"})");
  expect_bad_request(wrong_type, "field 'offset'");
  EXPECT_EQ(wrong_type.id, json::value(77));

  auto extra = parse(R"({"type":"send","id":-3,"chat_id":"c","client_msg_id":"m","x":1})");
  expect_bad_request(extra, "unknown field 'x'");
  EXPECT_EQ(extra.id, json::value(-3));
}

TEST(ParseFrame, IdsAsStringOrInteger) {
  auto s = parse(R"({"type":"ping","id":"a b \" c"})");
  ASSERT_TRUE(s.frame.ok());
  EXPECT_EQ(s.id, json::value("a b \" c"));

  auto i = parse(R"({"type":"ping","id":0})");
  ASSERT_TRUE(i.frame.ok());
  EXPECT_EQ(i.id, json::value(0));

  auto negative = parse(R"({"type":"ping","id":-17})");
  ASSERT_TRUE(negative.frame.ok());
  EXPECT_EQ(negative.id, json::value(-17));

  auto big = parse(R"({"type":"ping","id":18446744073709551615})");
  ASSERT_TRUE(big.frame.ok());
  EXPECT_EQ(big.id, json::value(std::uint64_t{18446744073709551615ull}));

  // Any JSON number is an id (PROTOCOL.md), fractions included, and is echoed.
  auto fraction = parse(R"({"type":"ping","id":1.5})");
  ASSERT_TRUE(fraction.frame.ok());
  EXPECT_EQ(fraction.id, json::value(1.5));

  // Ids of other types are errors, and cannot be echoed.
  for (const char* text : {R"({"type":"ping","id":true})", R"({"type":"ping","id":{"a":1}})",
                           R"({"type":"ping","id":[1]})", R"({"type":"ping","id":null})"}) {
    auto p = parse(text);
    expect_bad_request(p, "field 'id'");
    EXPECT_TRUE(p.id.is_null()) << text;
  }
}

TEST(ParseFrame, SeqAndOffsetMustBeBelowTwoToThe53) {
  auto max = parse(R"({"type":"ack","offset":9007199254740991})");  // 2^53 - 1
  ASSERT_TRUE(max.frame.ok()) << max.frame.error().message;
  EXPECT_EQ(ack_frame(*max.frame).offset, kMaxSeq);
  EXPECT_EQ(kMaxSeq, 9007199254740991u);

  auto zero = parse(R"({"type":"ack","offset":0})");
  ASSERT_TRUE(zero.frame.ok());
  EXPECT_EQ(ack_frame(*zero.frame).offset, 0u);

  const char* rejected[] = {
      R"({"type":"ack","offset":9007199254740992})",      // 2^53
      R"({"type":"ack","offset":18446744073709551615})",  // 2^64 - 1
      R"({"type":"ack","offset":-1})",
      R"({"type":"ack","offset":1.0})",
      R"({"type":"ack","offset":1e3})",
      R"({"type":"ack","offset":"5"})",
      R"({"type":"ack","offset":null})",
      R"({"type":"read","chat_id":"c","seq":9007199254740992})",
      R"({"type":"delete","id":1,"chat_id":"c","seq":9007199254740993})",
      R"({"type":"auth","token":"t","from_offset":9007199254740992})",
      R"({"type":"send","chat_id":"c","client_msg_id":"m","reply_to":9007199254740992})",
  };
  for (const char* text : rejected) {
    auto p = parse(text);
    ASSERT_FALSE(p.frame.ok()) << text;
    EXPECT_EQ(p.frame.error().code, ErrorCode::bad_request) << text;
  }
  auto read = parse(R"({"type":"read","chat_id":"c","seq":9007199254740991})");
  EXPECT_TRUE(read.frame.ok());
}

TEST(ParseFrame, NestingDepthIsLimited) {
  auto ok = parse_object(nested(16));
  EXPECT_TRUE(ok.ok()) << ok.error().message;
  auto deep = parse_object(nested(17));
  ASSERT_FALSE(deep.ok());
  EXPECT_EQ(deep.error().code, ErrorCode::bad_request);
  EXPECT_NE(deep.error().message.find("malformed JSON"), std::string::npos);

  // A deeply nested frame is a malformed frame, not a stack overflow.
  std::string very_deep =
      R"({"type":"ping","id":1,"x":)" + std::string(100000, '[') + std::string(100000, ']') + "}";
  auto p = parse(very_deep);
  expect_bad_request(p, "malformed JSON");
  EXPECT_TRUE(p.id.is_null());
}

TEST(ParseFrame, InvalidUtf8IsRejected) {
  const std::string texts[] = {
      "{\"type\":\"send\",\"chat_id\":\"c\",\"client_msg_id\":\"m\",\"body\":\"\xff\"}",
      "{\"type\":\"send\",\"chat_id\":\"c\",\"client_msg_id\":\"m\",\"body\":\"\xc0\x80\"}",
      "{\"type\":\"send\",\"chat_id\":\"c\",\"client_msg_id\":\"m\",\"body\":\"\xed\xa0\x80\"}",
      "{\"type\":\"send\",\"chat_id\":\"c\",\"client_msg_id\":\"m\",\"body\":\"ab\xc3\"}",
      // A lone surrogate escape cannot become UTF-8 either.
      R"({"type":"send","chat_id":"c","client_msg_id":"m","body":"\ud800"})",
      "{\"type\":\"ping\",\"id\":\"\xfe\"}",
      "{\"type\xff\":\"ping\"}",
  };
  for (const auto& text : texts) {
    auto p = parse(text);
    expect_bad_request(p);
    EXPECT_TRUE(p.id.is_null()) << testing::PrintToString(text);
  }
  // Well-formed non-ASCII text (and a surrogate pair escape) is fine.
  auto good = parse(
      "{\"type\":\"send\",\"chat_id\":\"c\",\"client_msg_id\":\"m\",\"body\":\"h\xc3\xa9 "
      "\xf0\x9f\x98\x80 \\ud83d\\ude00\"}");
  ASSERT_TRUE(good.frame.ok()) << good.frame.error().message;
  EXPECT_EQ(*send_frame(*good.frame).body, "h\xc3\xa9 \xf0\x9f\x98\x80 \xf0\x9f\x98\x80");
}

TEST(ParseFrame, IdIsResetToNullOnUnreadableFrames) {
  json::value id = 99;
  auto r = parse_frame("not json", id);
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(id.is_null());
}

// ---- check_fields directly ---------------------------------------------------

TEST(CheckFields, ReportsMissingWrongTypeAndUnknown) {
  auto obj = parse_object(R"({"a":"x","n":3,"b":true,"l":["p"]})");
  ASSERT_TRUE(obj.ok());
  FieldTable table = {{"a", FieldType::string, true},
                      {"n", FieldType::seq, true},
                      {"b", FieldType::boolean, false},
                      {"l", FieldType::strings, false},
                      {"opt", FieldType::string, false}};
  EXPECT_TRUE(check_fields(*obj, table).ok());
  EXPECT_EQ(get_string(*obj, "a"), "x");
  EXPECT_EQ(get_string(*obj, "opt"), "");
  EXPECT_FALSE(get_optional_string(*obj, "opt").has_value());
  EXPECT_EQ(get_seq(*obj, "n"), 3u);
  EXPECT_EQ(get_seq(*obj, "absent"), 0u);
  EXPECT_EQ(get_strings(*obj, "l"), std::vector<std::string>{"p"});
  EXPECT_TRUE(get_strings(*obj, "absent").empty());

  auto missing = parse_object(R"({"a":"x"})");
  auto s = check_fields(*missing, table);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, "missing field 'n'");

  auto wrong = parse_object(R"({"a":1,"n":3})");
  s = check_fields(*wrong, table);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, "field 'a' must be a string");

  auto unknown = parse_object(R"({"a":"x","n":3,"zz":0})");
  s = check_fields(*unknown, table);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, "unknown field 'zz'");
}

// ---- REST bodies ---------------------------------------------------------------

TEST(RestBodies, OtpRequest) {
  auto r = parse_otp_request(R"({"phone":"+15551234567"})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->phone, "+15551234567");
  EXPECT_FALSE(parse_otp_request(R"({})").ok());
  EXPECT_FALSE(parse_otp_request(R"({"phone":15551234567})").ok());
  EXPECT_FALSE(parse_otp_request(R"({"phone":"+1555","x":1})").ok());
  EXPECT_FALSE(parse_otp_request(R"(["+15551234567"])").ok());
  EXPECT_FALSE(parse_otp_request(R"({"phone":)").ok());
  EXPECT_EQ(parse_otp_request("").error().code, ErrorCode::bad_request);
}

TEST(RestBodies, VerifyRequest) {
  auto r = parse_verify_request(R"({"phone":"+15551234567","code":"012345","device_name":"web"})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->phone, "+15551234567");
  EXPECT_EQ(r->code, "012345");
  EXPECT_EQ(r->device_name, "web");
  EXPECT_FALSE(parse_verify_request(R"({"phone":"+15551234567","code":"012345"})").ok());
  EXPECT_FALSE(
      parse_verify_request(R"({"phone":"+15551234567","code":12345,"device_name":"w"})").ok());
}

TEST(RestBodies, PatchMe) {
  auto empty = parse_patch_me("{}");
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->name.has_value());
  EXPECT_FALSE(empty->last_seen_privacy.has_value());

  auto both = parse_patch_me(R"({"name":"Ann","last_seen_privacy":"nobody"})");
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(*both->name, "Ann");
  EXPECT_EQ(*both->last_seen_privacy, "nobody");

  EXPECT_FALSE(parse_patch_me(R"({"name":null})").ok());
  EXPECT_FALSE(parse_patch_me(R"({"phone":"+15551234567"})").ok());
}

TEST(RestBodies, CreateChat) {
  auto direct = parse_create_chat(R"({"type":"direct","user_id":"u1"})");
  ASSERT_TRUE(direct.ok()) << direct.error().message;
  EXPECT_FALSE(direct->group);
  EXPECT_EQ(direct->peer, "u1");

  auto group = parse_create_chat(R"({"type":"group","title":"T","members":["u1","u2"]})");
  ASSERT_TRUE(group.ok()) << group.error().message;
  EXPECT_TRUE(group->group);
  EXPECT_EQ(group->title, "T");
  EXPECT_EQ(group->members, (std::vector<std::string>{"u1", "u2"}));

  auto alone = parse_create_chat(R"({"type":"group","title":"T"})");
  ASSERT_TRUE(alone.ok());
  EXPECT_TRUE(alone->members.empty());

  const char* bad[] = {
      R"({"type":"channel","title":"T"})",
      R"({"title":"T"})",
      R"({"type":1})",
      R"({"type":"direct"})",
      R"({"type":"direct","user_id":"u1","title":"T"})",
      R"({"type":"group","members":["u1"]})",
      R"({"type":"group","title":"T","members":["u1",2]})",
      R"({"type":"group","title":"T","user_id":"u1"})",
      R"([])",
  };
  for (const char* text : bad) {
    auto r = parse_create_chat(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error().code, ErrorCode::bad_request) << text;
  }
}

TEST(RestBodies, MembersRoleTitle) {
  auto add = parse_add_members(R"({"user_ids":["u1","u2"]})");
  ASSERT_TRUE(add.ok());
  EXPECT_EQ(add->user_ids.size(), 2u);
  EXPECT_FALSE(parse_add_members(R"({"user_ids":"u1"})").ok());
  EXPECT_FALSE(parse_add_members(R"({})").ok());

  auto admin = parse_set_role(R"({"role":"admin"})");
  ASSERT_TRUE(admin.ok());
  EXPECT_TRUE(admin->admin);
  auto member = parse_set_role(R"({"role":"member"})");
  ASSERT_TRUE(member.ok());
  EXPECT_FALSE(member->admin);
  auto owner = parse_set_role(R"({"role":"owner"})");
  ASSERT_FALSE(owner.ok());
  EXPECT_EQ(owner.error().code, ErrorCode::bad_request);
  EXPECT_FALSE(parse_set_role(R"({"role":true})").ok());

  auto title = parse_set_title(R"({"title":"New"})");
  ASSERT_TRUE(title.ok());
  EXPECT_EQ(title->title, "New");
  EXPECT_FALSE(parse_set_title(R"({"title":"New","x":1})").ok());
}

TEST(RestBodies, SendBodyTakesChatIdFromPath) {
  auto r = parse_send_body(R"({"client_msg_id":"m1","body":"hello","reply_to":2})", "c9");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->chat_id, "c9");
  EXPECT_EQ(r->client_msg_id, "m1");
  EXPECT_EQ(*r->body, "hello");
  EXPECT_EQ(*r->reply_to, 2u);
  // The chat id belongs in the path, not the body.
  EXPECT_FALSE(parse_send_body(R"({"chat_id":"c1","client_msg_id":"m1","body":"x"})", "c9").ok());
  EXPECT_FALSE(parse_send_body(R"({"body":"x"})", "c9").ok());
  EXPECT_FALSE(parse_send_body(R"({"client_msg_id":"m","reply_to":9007199254740992})", "c9").ok());
}

TEST(RestBodies, AckBody) {
  auto r = parse_ack_body(R"({"offset":42})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->offset, 42u);
  EXPECT_FALSE(parse_ack_body(R"({"offset":-1})").ok());
  EXPECT_FALSE(parse_ack_body(R"({"offset":9007199254740992})").ok());
  EXPECT_FALSE(parse_ack_body(R"({})").ok());
}

}  // namespace
}  // namespace chat::proto

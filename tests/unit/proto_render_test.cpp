// proto/render: message and chat objects, event frames, replies, errors.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <set>
#include <string>
#include <vector>

#include "proto/fields.hpp"
#include "proto/render.hpp"
#include "test_json.hpp"

namespace chat::proto {
namespace {
namespace json = boost::json;
using test::parse_json_object;

std::set<std::string> keys_of(const json::object& o) {
  std::set<std::string> keys;
  for (const auto& kv : o)
    keys.emplace(kv.key());
  return keys;
}

store::MessageRecord text_message() {
  store::MessageRecord m;
  m.chat_id = "c0123456789abcdef";
  m.seq = 42;
  m.message_id = "m0123456789abcdef";
  m.sender = "u0123456789abcdef";
  m.sender_device = "d0123456789abcdef";
  m.ts = 1764000000000;
  m.kind = "text";
  m.body = "hello";
  m.reply_to = 40;
  m.client_msg_id = "3f1c";
  return m;
}

const std::string kTricky =
    "he said \"hi\" \\ back\nslash\t\x01\x1f </script> \xc3\xa9 \xf0\x9f\x98\x80";

TEST(RenderMessage, TextMessageHasTheProtocolShape) {
  auto o = parse_json_object(message_json(text_message()));
  EXPECT_EQ(keys_of(o), (std::set<std::string>{"chat_id", "seq", "message_id", "sender",
                                               "sender_device", "ts", "kind", "body", "reply_to",
                                               "media", "client_msg_id", "deleted", "edited_ts"}));
  EXPECT_EQ(o["chat_id"], "c0123456789abcdef");
  EXPECT_EQ(o["seq"].to_number<std::uint64_t>(), 42u);
  EXPECT_EQ(o["message_id"], "m0123456789abcdef");
  EXPECT_EQ(o["sender"], "u0123456789abcdef");
  EXPECT_EQ(o["sender_device"], "d0123456789abcdef");
  EXPECT_EQ(o["ts"].to_number<std::int64_t>(), 1764000000000);
  EXPECT_EQ(o["kind"], "text");
  EXPECT_EQ(o["body"], "hello");
  EXPECT_EQ(o["reply_to"].to_number<std::uint64_t>(), 40u);
  EXPECT_TRUE(o["media"].is_array());
  EXPECT_TRUE(o["media"].as_array().empty());
  EXPECT_EQ(o["client_msg_id"], "3f1c");
  EXPECT_EQ(o["deleted"], false);
  EXPECT_TRUE(o["edited_ts"].is_null());
}

TEST(RenderMessage, OptionalFieldsAreNull) {
  auto m = text_message();
  m.reply_to.reset();
  m.client_msg_id.clear();
  auto o = parse_json_object(message_json(m));
  EXPECT_TRUE(o["reply_to"].is_null());
  EXPECT_TRUE(o["client_msg_id"].is_null());
}

TEST(RenderMessage, MediaItemsCarryTheirMetadata) {
  auto m = text_message();
  m.kind = "media";
  store::MediaItem photo{.media_id = "f1",
                         .mime = "image/jpeg",
                         .size = 12345,
                         .sha256 = std::string(64, 'a'),
                         .filename = "cat.jpg",
                         .width = 640,
                         .height = 480,
                         .thumbnail = true};
  store::MediaItem clip{.media_id = "f2",
                        .mime = "audio/ogg",
                        .size = 7,
                        .sha256 = std::string(64, 'b'),
                        .duration_ms = 1500};
  store::MediaItem bare{.media_id = "f3"};  // a row written before items had metadata
  m.media = {photo, clip, bare};
  auto o = parse_json_object(message_json(m));
  const auto& media = o["media"].as_array();
  ASSERT_EQ(media.size(), 3u);
  auto p = media[0].as_object();
  EXPECT_EQ(keys_of(p), (std::set<std::string>{"media_id", "mime", "size", "width", "height",
                                               "filename", "sha256", "thumbnail"}));
  EXPECT_EQ(p["media_id"], "f1");
  EXPECT_EQ(p["mime"], "image/jpeg");
  EXPECT_EQ(p["size"].to_number<std::uint64_t>(), 12345u);
  EXPECT_EQ(p["width"].to_number<std::uint32_t>(), 640u);
  EXPECT_EQ(p["height"].to_number<std::uint32_t>(), 480u);
  EXPECT_EQ(p["filename"], "cat.jpg");
  EXPECT_EQ(p["sha256"].as_string(), std::string(64, 'a'));
  EXPECT_EQ(p["thumbnail"], true);
  auto c = media[1].as_object();
  EXPECT_EQ(keys_of(c), (std::set<std::string>{"media_id", "mime", "size", "duration_ms", "sha256",
                                               "thumbnail"}));
  EXPECT_EQ(c["duration_ms"].to_number<std::int64_t>(), 1500);
  EXPECT_EQ(c["thumbnail"], false);
  EXPECT_EQ(media[2].as_object().at("media_id"), "f3");
  // The upload reply renders the same object.
  EXPECT_EQ(parse_json_object(media_item_json(photo)), p);
}

TEST(RenderMessage, SystemMessageCarriesSystemObjectAndNoSender) {
  store::MessageRecord m;
  m.chat_id = "c1";
  m.seq = 1;
  m.message_id = "m1";
  m.ts = 5;
  m.kind = "system";
  m.system_json = R"({"action":"created","by":"u1","title":"T"})";
  auto o = parse_json_object(message_json(m));
  EXPECT_EQ(o["kind"], "system");
  EXPECT_TRUE(o["sender"].is_null());
  EXPECT_TRUE(o["sender_device"].is_null());
  EXPECT_FALSE(o.contains("body"));
  ASSERT_TRUE(o["system"].is_object());
  EXPECT_EQ(o["system"].as_object().at("action"), "created");
  EXPECT_EQ(o["system"].as_object().at("title"), "T");
}

TEST(RenderMessage, DeletedMessageHidesBodyAndMedia) {
  auto m = text_message();
  m.kind = "media";
  m.media = {store::MediaItem{.media_id = "f1", .mime = "image/png", .sha256 = "x"}};
  m.deleted = true;
  auto o = parse_json_object(message_json(m));
  EXPECT_EQ(o["deleted"], true);
  EXPECT_TRUE(o["body"].is_null());
  EXPECT_TRUE(o["media"].as_array().empty());
  EXPECT_EQ(o["seq"].to_number<std::uint64_t>(), 42u);  // keeps its seq
}

TEST(RenderMessage, BodyIsEscapedAndRoundTrips) {
  auto m = text_message();
  m.body = kTricky;
  m.client_msg_id = "id\"with\\quotes";
  const std::string text = message_json(m);
  auto o = parse_json_object(text);
  EXPECT_EQ(o["body"], json::value(kTricky));
  EXPECT_EQ(o["client_msg_id"], "id\"with\\quotes");
  for (char c : text)
    EXPECT_GE(static_cast<unsigned char>(c), 0x20) << "raw control character";
}

TEST(RenderChat, GroupChatObject) {
  store::ChatRecord chat{"c1", store::ChatType::group, "Team \"A\"", 1000};
  std::vector<store::MemberRecord> members = {{"c1", "u1", store::Role::admin, 1000},
                                              {"c1", "u2", store::Role::member, 2000}};
  auto o = parse_json_object(chat_json(chat, members, 7));
  EXPECT_EQ(keys_of(o), (std::set<std::string>{"chat_id", "type", "title", "members", "last_seq",
                                               "created_ts"}));
  EXPECT_EQ(o["chat_id"], "c1");
  EXPECT_EQ(o["type"], "group");
  EXPECT_EQ(o["title"], "Team \"A\"");
  EXPECT_EQ(o["last_seq"].to_number<std::uint64_t>(), 7u);
  EXPECT_EQ(o["created_ts"].to_number<std::int64_t>(), 1000);
  const auto& list = o["members"].as_array();
  ASSERT_EQ(list.size(), 2u);
  const auto& first = list[0].as_object();
  EXPECT_EQ(keys_of(first), (std::set<std::string>{"user_id", "role", "joined_ts"}));
  EXPECT_EQ(first.at("user_id"), "u1");
  EXPECT_EQ(first.at("role"), "admin");
  EXPECT_EQ(first.at("joined_ts").to_number<std::int64_t>(), 1000);
  EXPECT_EQ(list[1].as_object().at("role"), "member");
  EXPECT_EQ(list[1].as_object().at("joined_ts").to_number<std::int64_t>(), 2000);
}

TEST(RenderChat, DirectChatObject) {
  store::ChatRecord chat{"c2", store::ChatType::direct, "", 5};
  std::vector<store::MemberRecord> members = {{"c2", "u1", store::Role::member, 5},
                                              {"c2", "u2", store::Role::member, 5}};
  auto o = parse_json_object(chat_json(chat, members, 0));
  EXPECT_EQ(o["type"], "direct");
  EXPECT_EQ(o["title"], "");
  EXPECT_EQ(o["last_seq"].to_number<std::uint64_t>(), 0u);
  EXPECT_EQ(o["members"].as_array().size(), 2u);
}

TEST(RenderEvent, HeadPlusTailIsOneJsonObjectWithOffset) {
  EXPECT_EQ(event_head(5), R"({"offset":5,)");
  const std::string message = message_json(text_message());
  const std::string frame = event_frame(17, message_event_tail(message));
  EXPECT_EQ(frame, event_head(17) + message_event_tail(message));
  auto o = parse_json_object(frame);
  EXPECT_EQ(keys_of(o), (std::set<std::string>{"offset", "type", "message"}));
  EXPECT_EQ(o["offset"].to_number<std::uint64_t>(), 17u);
  EXPECT_EQ(o["type"], "message");
  EXPECT_EQ(o["message"].as_object(), parse_json_object(message));
}

TEST(RenderEvent, LargestOffset) {
  auto o = parse_json_object(event_frame(kMaxSeq, deleted_event_tail("c1", kMaxSeq)));
  EXPECT_EQ(o["offset"].to_number<std::uint64_t>(), kMaxSeq);
  EXPECT_EQ(o["seq"].to_number<std::uint64_t>(), kMaxSeq);
}

TEST(RenderEvent, ChatEvent) {
  store::ChatRecord chat{"c1", store::ChatType::group, "T", 1};
  std::vector<store::MemberRecord> members = {{"c1", "u1", store::Role::admin, 1}};
  const std::string chat_text = chat_json(chat, members, 3);
  auto o = parse_json_object(event_frame(8, chat_event_tail(chat_text)));
  EXPECT_EQ(o["offset"].to_number<std::uint64_t>(), 8u);
  EXPECT_EQ(o["type"], "chat");
  EXPECT_EQ(o["chat"].as_object(), parse_json_object(chat_text));
}

TEST(RenderEvent, DeletedEventEscapesChatId) {
  auto o = parse_json_object(event_frame(3, deleted_event_tail("c\"1\\", 9)));
  EXPECT_EQ(keys_of(o), (std::set<std::string>{"offset", "type", "chat_id", "seq"}));
  EXPECT_EQ(o["type"], "deleted");
  EXPECT_EQ(o["chat_id"], "c\"1\\");
  EXPECT_EQ(o["seq"].to_number<std::uint64_t>(), 9u);
}

TEST(RenderEvent, ReceiptEvent) {
  auto o = parse_json_object(event_frame(4, receipt_event_tail("c1", "u\"2", "read", 12, 1764)));
  EXPECT_EQ(keys_of(o), (std::set<std::string>{"offset", "type", "chat_id", "user_id", "status",
                                               "up_to_seq", "ts"}));
  EXPECT_EQ(o["type"], "receipt");
  EXPECT_EQ(o["chat_id"], "c1");
  EXPECT_EQ(o["user_id"], "u\"2");
  EXPECT_EQ(o["status"], "read");
  EXPECT_EQ(o["up_to_seq"].to_number<std::uint64_t>(), 12u);
  EXPECT_EQ(o["ts"].to_number<std::int64_t>(), 1764);
}

TEST(RenderReply, OkFrame) {
  auto plain = parse_json_object(ok_frame(json::value(1)));
  EXPECT_EQ(plain, (json::object{{"type", "ok"}, {"id", 1}}));

  auto with_fields = parse_json_object(ok_frame(json::value("r\"1"), R"("seq":3,"chat_id":"c1")"));
  EXPECT_EQ(with_fields,
            (json::object{{"type", "ok"}, {"id", "r\"1"}, {"seq", 3}, {"chat_id", "c1"}}));

  auto null_id = parse_json_object(ok_frame(json::value(nullptr)));
  EXPECT_TRUE(null_id["id"].is_null());
}

TEST(RenderReply, PongFrame) {
  EXPECT_EQ(parse_json_object(pong_frame(json::value(nullptr))), (json::object{{"type", "pong"}}));
  EXPECT_EQ(parse_json_object(pong_frame(json::value("p"))),
            (json::object{{"type", "pong"}, {"id", "p"}}));
  EXPECT_EQ(parse_json_object(pong_frame(json::value(-2))),
            (json::object{{"type", "pong"}, {"id", -2}}));
}

TEST(RenderError, ErrorFrame) {
  auto o = parse_json_object(error_frame(json::value(7), not_found("chat \"x\" not found")));
  EXPECT_EQ(o, (json::object{{"type", "error"},
                             {"id", 7},
                             {"code", "not_found"},
                             {"message", "chat \"x\" not found"}}));

  auto null_id = parse_json_object(error_frame(json::value(nullptr), bad_request("malformed")));
  ASSERT_TRUE(null_id.contains("id"));
  EXPECT_TRUE(null_id["id"].is_null());
  EXPECT_EQ(null_id["code"], "bad_request");
  EXPECT_FALSE(null_id.contains("retry_after_ms"));

  Error limited{ErrorCode::rate_limited, "slow down", 1500};
  auto rl = parse_json_object(error_frame(json::value("r"), limited));
  EXPECT_EQ(rl["code"], "rate_limited");
  EXPECT_EQ(rl["retry_after_ms"].to_number<std::int64_t>(), 1500);
}

TEST(RenderError, ErrorBody) {
  auto o = parse_json_object(error_body(unauthorized("wrong code")));
  EXPECT_EQ(o, (json::object{{"error", {{"code", "unauthorized"}, {"message", "wrong code"}}}}));

  Error limited{ErrorCode::rate_limited, "too many", 250};
  auto rl = parse_json_object(error_body(limited));
  EXPECT_EQ(rl["error"].as_object().at("code"), "rate_limited");
  EXPECT_EQ(rl["error"].as_object().at("retry_after_ms").to_number<std::int64_t>(), 250);

  auto tricky = parse_json_object(error_body(bad_request(kTricky)));
  EXPECT_EQ(tricky["error"].as_object().at("message"), json::value(kTricky));
}

TEST(RenderQuote, EscapesAndRoundTrips) {
  EXPECT_EQ(quote("plain"), "\"plain\"");
  EXPECT_EQ(quote(""), "\"\"");
  EXPECT_EQ(quote("a\"b"), R"("a\"b")");
  EXPECT_EQ(quote("a\\b"), R"("a\\b")");
  EXPECT_EQ(quote("a\nb"), R"("a\nb")");
  const std::string q = quote(kTricky);
  for (char c : q)
    EXPECT_GE(static_cast<unsigned char>(c), 0x20) << "raw control character";
  boost::system::error_code ec;
  json::value v = json::parse(q, ec);
  ASSERT_FALSE(ec) << q;
  EXPECT_EQ(v, json::value(kTricky));
}

}  // namespace
}  // namespace chat::proto

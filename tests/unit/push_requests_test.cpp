// push/ vocabulary and request builders: target parsing and storage, the
// payload's exact field sets, previews, response classification, and the
// webhook, Web Push, FCM and APNs requests (URLs, headers, bodies; every
// signature and ciphertext opened or verified as the receiver would).
#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>

#include "base/random.hpp"
#include "push/jwt.hpp"
#include "push/providers.hpp"
#include "push/push_types.hpp"
#include "push/webpush.hpp"
#include "push_test_keys.hpp"
#include "test_json.hpp"

namespace chat::push {
namespace {
namespace json = boost::json;

using namespace test_keys;

// ---- helpers ----

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    auto at = s.find(sep, start);
    parts.emplace_back(s.substr(start, at - start));
    if (at == std::string_view::npos) break;
    start = at + 1;
  }
  return parts;
}

std::string header(const OutgoingRequest& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "<absent>";
}

std::filesystem::path temp_dir() {
  static int n = 0;
  auto dir = std::filesystem::temp_directory_path() /
             ("chatd-push-req-" + std::to_string(::getpid()) + "-" + std::to_string(++n));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

void write_file(const std::filesystem::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}

std::set<std::string> keys_of(const json::object& o) {
  std::set<std::string> keys;
  for (const auto& kv : o)
    keys.emplace(kv.key());
  return keys;
}

// RFC 8291 Appendix A's user agent: a real subscription's keys.
constexpr char kP256dh[] =
    "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
constexpr char kAuth[] = "BTBZMqHH6r4Tts7J_aSIgg";

PushPayload message_payload() {
  PushPayload p;
  p.type = PushPayload::Type::message;
  p.user_id = "u1";
  p.device_id = "d1";
  p.chat_id = "c1";
  p.seq = 42;
  p.message_id = "m42";
  p.sender = "u2";
  p.sender_name = "Alice";
  p.chat_title = "Team";
  p.preview = "Hi \"Bob\" \xc3\xa9";
  p.unread = 7;
  p.ts = 1'764'000'000'123;
  return p;
}

PushPayload clear_payload() {
  PushPayload p;
  p.type = PushPayload::Type::clear;
  p.user_id = "u1";
  p.device_id = "d1";
  p.chat_id = "c1";
  p.seq = 40;
  p.unread = 3;
  return p;
}

// ---- kinds, URLs, targets ----

TEST(PushTypes, KindNames) {
  EXPECT_EQ(kind_name(TargetKind::webhook), "webhook");
  EXPECT_EQ(kind_name(TargetKind::webpush), "webpush");
  EXPECT_EQ(kind_name(TargetKind::fcm), "fcm");
  EXPECT_EQ(kind_name(TargetKind::apns), "apns");
}

TEST(PushTypes, HttpOriginOfUrls) {
  EXPECT_EQ(http_origin("https://example.com"), "https://example.com");
  EXPECT_EQ(http_origin("https://example.com/a/b?c#d"), "https://example.com");
  EXPECT_EQ(http_origin("HTTPS://Example.COM:443/"), "https://example.com");
  EXPECT_EQ(http_origin("http://example.com:80/x"), "http://example.com");
  EXPECT_EQ(http_origin("http://example.com:8080?x"), "http://example.com:8080");
  EXPECT_EQ(http_origin("https://10.0.0.1:0443/"), "https://10.0.0.1");
  EXPECT_EQ(http_origin("https://[2001:db8::1]:8443/p"), "https://[2001:db8::1]:8443");
  EXPECT_EQ(http_origin("https://[::1]/p"), "https://[::1]");
  for (const char* bad :
       {"", "example.com", "ftp://example.com/", "https://", "https:///path", "https://:443/",
        "https://example.com:/", "https://example.com:99999/", "https://example.com:0/",
        "https://example.com:8a/", "https://user:pw@example.com/", "https://exa mple.com/",
        "https://example.com/a b", "https://example.com/\n", "https://[zz]/", "https://[::1/",
        "https://ex%61mple.com/", "https://\xc3\xa9.com/"}) {
    EXPECT_EQ(http_origin(bad), std::nullopt) << bad;
  }
}

TEST(PushTypes, ParsesEachKind) {
  auto w = parse_target(R"({"kind":"webhook","url":"https://hooks.example.com/p","secret":"s3"})",
                        false);
  ASSERT_TRUE(w.ok()) << w.error().message;
  EXPECT_EQ(w->kind, TargetKind::webhook);
  EXPECT_EQ(w->url, "https://hooks.example.com/p");
  EXPECT_EQ(w->secret, "s3");

  auto w2 = parse_target(R"({"kind":"webhook","url":"https://h.example/","secret":null})", false);
  ASSERT_TRUE(w2.ok()) << w2.error().message;
  EXPECT_EQ(w2->secret, "");

  auto wp = parse_target(std::string(R"({"kind":"webpush","endpoint":"https://push.example/e1",)") +
                             R"("p256dh":")" + kP256dh + R"(","auth":")" + kAuth + R"("})",
                         false);
  ASSERT_TRUE(wp.ok()) << wp.error().message;
  EXPECT_EQ(wp->kind, TargetKind::webpush);
  EXPECT_EQ(wp->endpoint, "https://push.example/e1");
  EXPECT_EQ(wp->p256dh, kP256dh);
  EXPECT_EQ(wp->auth, kAuth);

  auto f = parse_target(R"({"kind":"fcm","token":"fA1b:APA91bH-x_y"})", false);
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(f->kind, TargetKind::fcm);
  EXPECT_EQ(f->token, "fA1b:APA91bH-x_y");

  auto a = parse_target(R"({"kind":"apns","token":"0a1b2c3d","topic":"com.example.chat"})", false);
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->kind, TargetKind::apns);
  EXPECT_EQ(a->token, "0a1b2c3d");
  EXPECT_EQ(a->topic, "com.example.chat");
  auto a2 = parse_target(R"({"kind":"apns","token":"0a1b2c3d"})", false);
  ASSERT_TRUE(a2.ok());
  EXPECT_EQ(a2->topic, "");
}

TEST(PushTypes, PrivateAddressesAreRefusedUnlessAllowed) {
  for (const char* url :
       {"https://127.0.0.1/hook", "https://10.1.2.3:8443/x", "https://[::1]/x",
        "https://169.254.169.254/latest", "https://localhost/x", "https://192.168.0.10/x"}) {
    const std::string body = std::string(R"({"kind":"webhook","url":")") + url + R"("})";
    auto refused = parse_target(body, false);
    ASSERT_FALSE(refused.ok()) << url;
    EXPECT_NE(refused.error().message.find("address"), std::string::npos) << url;
    EXPECT_TRUE(parse_target(body, true).ok()) << url;
  }
  // Public addresses and names pass here; names are checked again at connect time.
  EXPECT_TRUE(parse_target(R"({"kind":"webhook","url":"https://93.184.216.34/x"})", false).ok());
  EXPECT_TRUE(
      parse_target(R"({"kind":"webhook","url":"https://hooks.example.com/x"})", false).ok());
}

TEST(PushTypes, HttpUrlsOnlyWhenAllowed) {
  const char* body = R"({"kind":"webhook","url":"http://127.0.0.1:9000/hook"})";
  auto refused = parse_target(body, false);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::bad_request);
  EXPECT_NE(refused.error().message.find("'url'"), std::string::npos);
  EXPECT_TRUE(parse_target(body, true).ok());
  EXPECT_FALSE(parse_target(std::string(R"({"kind":"webpush","endpoint":"http://p.example/",)") +
                                R"("p256dh":")" + kP256dh + R"(","auth":")" + kAuth + R"("})",
                            false)
                   .ok());
}

TEST(PushTypes, RefusalsNameTheField) {
  const std::string long_url = "https://example.com/" + std::string(2048 - 20 + 1, 'a');
  const std::string ok_url = "https://example.com/" + std::string(2048 - 20, 'a');
  ASSERT_EQ(ok_url.size(), 2048u);
  const std::string wp_prefix = R"({"kind":"webpush","endpoint":"https://p.example/",)";
  struct Case {
    std::string body, field;
  } cases[] = {
      {R"({"url":"https://x.example/"})", "kind"},
      {R"({"kind":7,"url":"https://x.example/"})", "kind"},
      {R"({"kind":"sms","url":"https://x.example/"})", "kind"},
      {R"({"kind":"webhook"})", "url"},
      {R"({"kind":"webhook","url":5})", "url"},
      {R"({"kind":"webhook","url":null})", "url"},
      {R"({"kind":"webhook","url":"not a url"})", "url"},
      {R"({"kind":"webhook","url":"https://u:p@x.example/"})", "url"},
      {R"({"kind":"webhook","url":")" + long_url + R"("})", "url"},
      {R"({"kind":"webhook","url":"https://x.example/","secret":1})", "secret"},
      {R"({"kind":"webhook","url":"https://x.example/","token":"t"})", "token"},
      {R"({"kind":"webhook","url":"https://x.example/","extra":"t"})", "extra"},
      {wp_prefix + R"("p256dh":"AAAA","auth":")" + kAuth + R"("})", "p256dh"},
      {wp_prefix + R"("p256dh":"not base64!","auth":")" + kAuth + R"("})", "p256dh"},
      {wp_prefix + R"("p256dh":")" + std::string(kP256dh).replace(10, 1, "A") + R"(","auth":")" +
           kAuth + R"("})",
       "p256dh"},
      {wp_prefix + R"("p256dh":")" + kP256dh + R"(","auth":"AAAA"})", "auth"},
      {wp_prefix + R"("p256dh":")" + kP256dh + R"("})", "auth"},
      {R"({"kind":"webpush","p256dh":")" + std::string(kP256dh) + R"(","auth":")" + kAuth + R"("})",
       "endpoint"},
      {R"({"kind":"fcm"})", "token"},
      {R"({"kind":"fcm","token":""})", "token"},
      {R"({"kind":"fcm","token":"a b"})", "token"},
      {R"({"kind":"fcm","token":")" + std::string(4097, 'a') + R"("})", "token"},
      {R"({"kind":"fcm","token":"t","url":"https://x.example/"})", "url"},
      {R"({"kind":"apns","token":"../../3/device/x"})", "token"},
      {R"({"kind":"apns","token":")" + std::string(201, 'a') + R"("})", "token"},
      {R"({"kind":"apns","token":"0a","topic":"a\nb"})", "topic"},
      {R"({"kind":"apns","token":"0a","topic":["x"]})", "topic"},
  };
  for (const auto& c : cases) {
    auto r = parse_target(c.body, true);
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_EQ(r.error().code, ErrorCode::bad_request) << c.body;
    EXPECT_NE(r.error().message.find("'" + c.field + "'"), std::string::npos)
        << c.body << " -> " << r.error().message;
  }
  EXPECT_TRUE(parse_target(R"({"kind":"webhook","url":")" + ok_url + R"("})", false).ok());
  EXPECT_TRUE(
      parse_target(R"({"kind":"fcm","token":")" + std::string(4096, 'a') + R"("})", false).ok());
  EXPECT_TRUE(
      parse_target(R"({"kind":"apns","token":")" + std::string(200, 'a') + R"("})", false).ok());
  EXPECT_FALSE(parse_target("{", false).ok());
  EXPECT_FALSE(parse_target("[]", false).ok());
  EXPECT_FALSE(parse_target("", false).ok());
}

TEST(PushTypes, StorageFormRoundTrips) {
  std::vector<PushTarget> targets(4);
  targets[0].kind = TargetKind::webhook;
  targets[0].url = "https://h.example/x";
  targets[0].secret = "s\"ecret";
  targets[1].kind = TargetKind::webpush;
  targets[1].endpoint = "https://p.example/e";
  targets[1].p256dh = kP256dh;
  targets[1].auth = kAuth;
  targets[2].kind = TargetKind::fcm;
  targets[2].token = "tok";
  targets[3].kind = TargetKind::apns;
  targets[3].token = "0a1b";
  targets[3].topic = "com.example";
  for (const auto& t : targets) {
    const std::string stored = target_to_json(t);
    auto o = test::parse_json_object(stored);
    EXPECT_EQ(o.at("kind"), json::value(kind_name(t.kind)));
    auto back = target_from_json(stored);
    ASSERT_TRUE(back.ok()) << stored;
    EXPECT_EQ(back->kind, t.kind);
    EXPECT_EQ(back->url, t.url);
    EXPECT_EQ(back->secret, t.secret);
    EXPECT_EQ(back->endpoint, t.endpoint);
    EXPECT_EQ(back->p256dh, t.p256dh);
    EXPECT_EQ(back->auth, t.auth);
    EXPECT_EQ(back->token, t.token);
    EXPECT_EQ(back->topic, t.topic);
  }
  // What parse_target accepts, storage keeps.
  auto parsed = parse_target(R"({"kind":"apns","token":"ab","topic":"t.x"})", false);
  ASSERT_TRUE(parsed.ok());
  auto again = target_from_json(target_to_json(*parsed));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->topic, "t.x");
  EXPECT_FALSE(target_from_json("{}").ok());
  EXPECT_FALSE(target_from_json("nope").ok());
}

// ---- payloads and previews ----

TEST(PushTypes, MessagePayloadHasExactlyTheProtocolFields) {
  auto o = test::parse_json_object(payload_json(message_payload()));
  EXPECT_EQ(keys_of(o), (std::set<std::string>{"type", "user_id", "device_id", "chat_id", "seq",
                                               "message_id", "sender", "sender_name", "chat_title",
                                               "preview", "unread", "ts"}));
  EXPECT_EQ(o.at("type"), "message");
  EXPECT_EQ(o.at("user_id"), "u1");
  EXPECT_EQ(o.at("device_id"), "d1");
  EXPECT_EQ(o.at("chat_id"), "c1");
  EXPECT_EQ(o.at("seq").to_number<std::uint64_t>(), 42u);
  EXPECT_EQ(o.at("message_id"), "m42");
  EXPECT_EQ(o.at("sender"), "u2");
  EXPECT_EQ(o.at("sender_name"), "Alice");
  EXPECT_EQ(o.at("chat_title"), "Team");
  EXPECT_EQ(o.at("preview"), "Hi \"Bob\" \xc3\xa9");
  EXPECT_EQ(o.at("unread").to_number<std::uint64_t>(), 7u);
  EXPECT_EQ(o.at("ts").to_number<std::int64_t>(), 1'764'000'000'123);

  PushPayload no_preview = message_payload();
  no_preview.preview.reset();
  auto n = test::parse_json_object(payload_json(no_preview));
  ASSERT_TRUE(n.contains("preview"));
  EXPECT_TRUE(n.at("preview").is_null());
}

TEST(PushTypes, ClearPayloadHasExactlyTheProtocolFields) {
  auto o = test::parse_json_object(payload_json(clear_payload()));
  EXPECT_EQ(keys_of(o), (std::set<std::string>{"type", "user_id", "device_id", "chat_id",
                                               "up_to_seq", "unread"}));
  EXPECT_EQ(o.at("type"), "clear");
  EXPECT_EQ(o.at("up_to_seq").to_number<std::uint64_t>(), 40u);
  EXPECT_EQ(o.at("unread").to_number<std::uint64_t>(), 3u);
}

TEST(PushTypes, PreviewCountsCodePointsAndNeverSplitsOne) {
  EXPECT_EQ(preview_of("hello", 3), "hel");
  EXPECT_EQ(preview_of("hello", 5), "hello");
  EXPECT_EQ(preview_of("hello", 50), "hello");
  EXPECT_EQ(preview_of("hello", 0), "");
  EXPECT_EQ(preview_of("", 3), "");
  EXPECT_EQ(preview_of("h\xc3\xa9llo", 2), "h\xc3\xa9");                 // é: 2 bytes
  EXPECT_EQ(preview_of("\xe2\x82\xac\xe2\x82\xac", 1), "\xe2\x82\xac");  // €: 3 bytes
  EXPECT_EQ(preview_of("a\xf0\x9f\x98\x80z", 2), "a\xf0\x9f\x98\x80");   // 😀: 4 bytes
  std::string emoji;
  for (int i = 0; i < 150; ++i)
    emoji += "\xf0\x9f\x98\x80";
  EXPECT_EQ(preview_of(emoji), emoji.substr(0, 400));  // default: 100 code points
}

// ---- classification ----

TEST(PushTypes, ClassifiesResponses) {
  auto c = [](TargetKind k, int status, std::string body = "", std::string error = "") {
    PushResponse r;
    r.status = status;
    r.body = std::move(body);
    r.error = std::move(error);
    return classify(k, r);
  };
  for (TargetKind k :
       {TargetKind::webhook, TargetKind::webpush, TargetKind::fcm, TargetKind::apns}) {
    EXPECT_EQ(c(k, 200), Outcome::sent);
    EXPECT_EQ(c(k, 201), Outcome::sent);
    EXPECT_EQ(c(k, 204), Outcome::sent);
    EXPECT_EQ(c(k, 429), Outcome::retry);
    EXPECT_EQ(c(k, 500), Outcome::retry);
    EXPECT_EQ(c(k, 503), Outcome::retry);
    EXPECT_EQ(c(k, 0, "", "Timeout was reached"), Outcome::retry);
    EXPECT_EQ(c(k, 0, "", "blocked address"), Outcome::failed);
    EXPECT_EQ(c(k, 404), Outcome::gone);
    EXPECT_EQ(c(k, 410), Outcome::gone);
    EXPECT_EQ(c(k, 400), Outcome::failed);
    EXPECT_EQ(c(k, 401), Outcome::failed);
    EXPECT_EQ(c(k, 403), Outcome::failed);
    EXPECT_EQ(c(k, 413), Outcome::failed);
    EXPECT_EQ(c(k, 301), Outcome::failed);
  }
  const std::string fcm_unregistered =
      R"({"error":{"code":400,"status":"INVALID_ARGUMENT","details":[{"errorCode":"UNREGISTERED"}]}})";
  EXPECT_EQ(c(TargetKind::fcm, 400, fcm_unregistered), Outcome::gone);
  EXPECT_EQ(c(TargetKind::fcm, 400, R"({"error":{"status":"INVALID_ARGUMENT"}})"), Outcome::failed);
  EXPECT_EQ(c(TargetKind::webhook, 400, "UNREGISTERED"), Outcome::failed);
  EXPECT_EQ(c(TargetKind::apns, 410, R"({"reason":"Unregistered","timestamp":1})"), Outcome::gone);
  EXPECT_EQ(c(TargetKind::apns, 400, R"({"reason":"BadDeviceToken"})"), Outcome::gone);
  EXPECT_EQ(c(TargetKind::apns, 400, R"({"reason":"BadTopic"})"), Outcome::failed);
  EXPECT_EQ(c(TargetKind::webpush, 400, R"({"reason":"BadDeviceToken"})"), Outcome::failed);
}

// ---- webhook ----

TEST(PushRequests, WebhookPostsThePayloadSignedWithTheSecret) {
  PushTarget t;
  t.kind = TargetKind::webhook;
  t.url = "https://hooks.example.com/chatd";
  t.secret = "topsecret";
  const PushPayload p = message_payload();
  OutgoingRequest r = webhook_request(t, p);
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, t.url);
  EXPECT_FALSE(r.http2);
  EXPECT_EQ(r.body, payload_json(p));
  EXPECT_EQ(header(r, "Content-Type"), "application/json");
  unsigned char mac[32];
  unsigned int len = 0;
  HMAC(EVP_sha256(), "topsecret", 9, reinterpret_cast<const unsigned char*>(r.body.data()),
       r.body.size(), mac, &len);
  EXPECT_EQ(header(r, "X-Chatd-Signature"), "sha256=" + to_hex(mac, len));

  t.secret.clear();
  OutgoingRequest unsigned_req = webhook_request(t, clear_payload());
  EXPECT_EQ(header(unsigned_req, "X-Chatd-Signature"), "<absent>");
  EXPECT_EQ(unsigned_req.body, payload_json(clear_payload()));
}

// ---- Web Push ----

TEST(PushRequests, WebPushIsEncryptedForTheSubscriptionAndVapidSigned) {
  const auto dir = temp_dir();
  auto vapid = VapidKey::load_or_create(dir / "vapid.pem");
  Pkey ua = ec_key();
  auto [ua_private, ua_public] = raw_ec(ua.get());
  std::string auth(16, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(auth.data()), 16);

  PushTarget t;
  t.kind = TargetKind::webpush;
  t.endpoint = "https://push.example.net/wpush/v2/abc";
  t.p256dh = base64url_encode(ua_public);
  t.auth = base64url_encode(auth);
  const std::int64_t now = 1'764'000'000;

  for (const PushPayload& p : {message_payload(), clear_payload()}) {
    const bool message = p.type == PushPayload::Type::message;
    auto r = webpush_request(t, p, vapid, "mailto:ops@example.com", now);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->method, "POST");
    EXPECT_EQ(r->url, t.endpoint);
    EXPECT_EQ(header(*r, "Content-Encoding"), "aes128gcm");
    EXPECT_EQ(header(*r, "Content-Type"), "application/octet-stream");
    EXPECT_EQ(header(*r, "TTL"), message ? "86400" : "3600");
    EXPECT_EQ(header(*r, "Urgency"), message ? "high" : "normal");

    auto plain = detail::webpush_decrypt(r->body, ua_private, ua_public, auth);
    ASSERT_TRUE(plain.ok()) << plain.error().message;
    EXPECT_EQ(*plain, payload_json(p));

    const std::string authz = header(*r, "Authorization");
    ASSERT_TRUE(authz.starts_with("vapid t=")) << authz;
    const auto comma = authz.find(", k=");
    ASSERT_NE(comma, std::string::npos);
    EXPECT_EQ(authz.substr(comma + 4), vapid.public_key_b64());
    const auto claims = jwt_json(authz.substr(8, comma - 8), 1);
    EXPECT_EQ(claims.at("aud"), "https://push.example.net");
    EXPECT_EQ(claims.at("sub"), "mailto:ops@example.com");
    EXPECT_EQ(claims.at("exp").to_number<std::int64_t>(), now + 12 * 3600);
  }

  PushTarget bad = t;
  bad.p256dh = "AAAA";
  EXPECT_FALSE(webpush_request(bad, message_payload(), vapid, "mailto:a@b", now).ok());
  bad = t;
  bad.auth = "!!";
  EXPECT_FALSE(webpush_request(bad, message_payload(), vapid, "mailto:a@b", now).ok());
  std::filesystem::remove_all(dir);
}

// ---- FCM ----

struct FcmFixture : ::testing::Test {
  void SetUp() override {
    dir = temp_dir();
    key = rsa_key();
    json::object sa;
    sa["type"] = "service_account";
    sa["project_id"] = "chat-proj";
    sa["private_key_id"] = "abc";
    sa["private_key"] = pem_of(key.get());
    sa["client_email"] = "push@chat-proj.iam.gserviceaccount.com";
    sa["token_uri"] = "https://oauth2.example.test/token";
    write_file(dir / "sa.json", json::serialize(sa));
  }
  void TearDown() override { std::filesystem::remove_all(dir); }
  std::filesystem::path dir;
  Pkey key;
};

TEST_F(FcmFixture, LoadsTheServiceAccount) {
  auto sa = ServiceAccount::load(dir / "sa.json");
  ASSERT_TRUE(sa.ok()) << sa.error().message;
  EXPECT_EQ(sa->client_email, "push@chat-proj.iam.gserviceaccount.com");
  EXPECT_EQ(sa->project_id, "chat-proj");
  EXPECT_EQ(sa->token_uri, "https://oauth2.example.test/token");
  EXPECT_EQ(sa->private_key_pem, pem_of(key.get()));

  auto o = test::parse_json_object(R"({"client_email":"a@b","project_id":"p"})");
  o["private_key"] = pem_of(key.get());
  write_file(dir / "default_uri.json", json::serialize(o));
  auto d = ServiceAccount::load(dir / "default_uri.json");
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->token_uri, "https://oauth2.googleapis.com/token");

  write_file(dir / "no_email.json", R"({"project_id":"p","private_key":"x"})");
  EXPECT_FALSE(ServiceAccount::load(dir / "no_email.json").ok());
  write_file(dir / "bad_key.json", R"({"client_email":"a@b","project_id":"p","private_key":"x"})");
  EXPECT_FALSE(ServiceAccount::load(dir / "bad_key.json").ok());
  write_file(dir / "not_json.json", "nope");
  EXPECT_FALSE(ServiceAccount::load(dir / "not_json.json").ok());
  EXPECT_FALSE(ServiceAccount::load(dir / "missing.json").ok());
}

TEST_F(FcmFixture, TokenRequestCarriesAVerifiableRs256Assertion) {
  auto sa = ServiceAccount::load(dir / "sa.json");
  ASSERT_TRUE(sa.ok());
  const std::int64_t now = 1'764'000'000;
  auto r = fcm_token_request(*sa, now);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->method, "POST");
  EXPECT_EQ(r->url, "https://oauth2.example.test/token");
  EXPECT_EQ(header(*r, "Content-Type"), "application/x-www-form-urlencoded");

  auto fields = split(r->body, '&');
  ASSERT_EQ(fields.size(), 2u);
  EXPECT_EQ(fields[0], "grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer");
  ASSERT_TRUE(fields[1].starts_with("assertion="));
  const std::string jwt = fields[1].substr(10);
  EXPECT_TRUE(verify_jwt(jwt, key.get(), false));
  const auto head = jwt_json(jwt, 0);
  EXPECT_EQ(head.at("alg"), "RS256");
  EXPECT_EQ(head.at("typ"), "JWT");
  const auto claims = jwt_json(jwt, 1);
  EXPECT_EQ(claims.at("iss"), "push@chat-proj.iam.gserviceaccount.com");
  EXPECT_EQ(claims.at("scope"), "https://www.googleapis.com/auth/firebase.messaging");
  EXPECT_EQ(claims.at("aud"), "https://oauth2.example.test/token");
  EXPECT_EQ(claims.at("iat").to_number<std::int64_t>(), now);
  EXPECT_EQ(claims.at("exp").to_number<std::int64_t>(), now + 3600);
}

TEST(PushRequests, ParsesTheTokenResponse) {
  auto r = parse_token_response(
      R"({"access_token":"ya29.x","expires_in":3599,"token_type":"Bearer"})", 1000);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->first, "ya29.x");
  EXPECT_EQ(r->second, 1000 + 3599);
  auto d = parse_token_response(R"({"access_token":"t"})", 10);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->second, 10 + 3600);
  EXPECT_FALSE(parse_token_response(R"({"error":"invalid_grant"})", 0).ok());
  EXPECT_FALSE(parse_token_response(R"({"access_token":5})", 0).ok());
  EXPECT_FALSE(parse_token_response(R"({"access_token":"t","expires_in":"x"})", 0).ok());
  EXPECT_FALSE(parse_token_response("<html>", 0).ok());
}

TEST(PushRequests, FcmSendIsADataMessageWithStringValues) {
  ServiceAccount sa{"a@b", "", "https://t", "chat-proj"};
  PushTarget t;
  t.kind = TargetKind::fcm;
  t.token = "fcm-token-1";
  OutgoingRequest r =
      fcm_send_request("https://fcm.example.test/", sa, "ya29.abc", t, message_payload());
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "https://fcm.example.test/v1/projects/chat-proj/messages:send");
  EXPECT_EQ(header(r, "Authorization"), "Bearer ya29.abc");
  EXPECT_EQ(header(r, "Content-Type"), "application/json");
  auto body = test::parse_json_object(r.body);
  EXPECT_EQ(keys_of(body), std::set<std::string>{"message"});
  const auto& m = body.at("message").as_object();
  EXPECT_EQ(m.at("token"), "fcm-token-1");
  EXPECT_EQ(m.at("android").at("priority"), "high");
  EXPECT_EQ(m.at("android").at("collapse_key"), "c1");
  const auto& data = m.at("data").as_object();
  // Every payload field, each as a string.
  const auto payload = test::parse_json_object(payload_json(message_payload()));
  EXPECT_EQ(keys_of(data), keys_of(payload));
  for (const auto& kv : data)
    EXPECT_TRUE(kv.value().is_string()) << kv.key();
  EXPECT_EQ(data.at("type"), "message");
  EXPECT_EQ(data.at("seq"), "42");
  EXPECT_EQ(data.at("unread"), "7");
  EXPECT_EQ(data.at("ts"), "1764000000123");
  EXPECT_EQ(data.at("preview"), "Hi \"Bob\" \xc3\xa9");
  EXPECT_EQ(data.at("sender_name"), "Alice");

  PushPayload no_preview = message_payload();
  no_preview.preview.reset();
  auto np = test::parse_json_object(
      fcm_send_request("https://fcm.example.test", sa, "x", t, no_preview).body);
  EXPECT_FALSE(np.at("message").at("data").as_object().contains("preview"));

  OutgoingRequest clear = fcm_send_request("https://fcm.example.test", sa, "x", t, clear_payload());
  EXPECT_EQ(clear.url, "https://fcm.example.test/v1/projects/chat-proj/messages:send");
  auto cb = test::parse_json_object(clear.body);
  const auto& cd = cb.at("message").at("data").as_object();
  EXPECT_EQ(cd.at("type"), "clear");
  EXPECT_EQ(cd.at("up_to_seq"), "40");
  EXPECT_EQ(cd.at("unread"), "3");
}

// ---- APNs ----

struct ApnsFixture : ::testing::Test {
  void SetUp() override {
    dir = temp_dir();
    key = ec_key();
    write_file(dir / "AuthKey_K1.p8", pem_of(key.get()));
  }
  void TearDown() override { std::filesystem::remove_all(dir); }
  std::filesystem::path dir;
  Pkey key;
};

TEST_F(ApnsFixture, LoadsTheP8Key) {
  auto k = ApnsKey::load(dir / "AuthKey_K1.p8", "K1", "TEAM1");
  ASSERT_TRUE(k.ok()) << k.error().message;
  EXPECT_EQ(k->key_id, "K1");
  EXPECT_EQ(k->team_id, "TEAM1");
  EXPECT_EQ(k->pem, pem_of(key.get()));
  EXPECT_FALSE(ApnsKey::load(dir / "AuthKey_K1.p8", "", "TEAM1").ok());
  EXPECT_FALSE(ApnsKey::load(dir / "AuthKey_K1.p8", "K1", "").ok());
  EXPECT_FALSE(ApnsKey::load(dir / "missing.p8", "K1", "TEAM1").ok());
  Pkey rsa = rsa_key();
  write_file(dir / "rsa.p8", pem_of(rsa.get()));
  EXPECT_FALSE(ApnsKey::load(dir / "rsa.p8", "K1", "TEAM1").ok());
}

TEST_F(ApnsFixture, ProviderTokenIsReusedForFiftyMinutes) {
  auto k = ApnsKey::load(dir / "AuthKey_K1.p8", "K1", "TEAM1");
  ASSERT_TRUE(k.ok());
  ApnsTokenCache cache(std::move(*k));
  const std::int64_t t0 = 1'764'000'000;
  auto first = cache.token(t0);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_TRUE(verify_jwt(*first, key.get(), true));
  const auto head = jwt_json(*first, 0);
  EXPECT_EQ(head.at("alg"), "ES256");
  EXPECT_EQ(head.at("kid"), "K1");
  const auto claims = jwt_json(*first, 1);
  EXPECT_EQ(claims.at("iss"), "TEAM1");
  EXPECT_EQ(claims.at("iat").to_number<std::int64_t>(), t0);

  EXPECT_EQ(*cache.token(t0 + 60), *first);
  EXPECT_EQ(*cache.token(t0 + 50 * 60 - 1), *first);
  auto renewed = cache.token(t0 + 50 * 60);
  ASSERT_TRUE(renewed.ok());
  EXPECT_NE(*renewed, *first);
  EXPECT_EQ(jwt_json(*renewed, 1).at("iat").to_number<std::int64_t>(), t0 + 50 * 60);
  EXPECT_TRUE(verify_jwt(*renewed, key.get(), true));
  EXPECT_EQ(*cache.token(t0 + 60 * 60), *renewed);
}

TEST(PushRequests, ApnsMessageIsAnAlertWithBadgeAndThread) {
  PushTarget t;
  t.kind = TargetKind::apns;
  t.token = "00fc13adff785122b4ad28809a3420982341241421348097878e577c991de8f0";
  const std::int64_t now = 1'764'000'000;
  OutgoingRequest r = apns_request("https://api.push.apple.com/", "JWT", "com.example.chat", t,
                                   message_payload(), now);
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "https://api.push.apple.com/3/device/" + t.token);
  EXPECT_TRUE(r.http2);
  EXPECT_EQ(header(r, "authorization"), "bearer JWT");
  EXPECT_EQ(header(r, "apns-push-type"), "alert");
  EXPECT_EQ(header(r, "apns-topic"), "com.example.chat");
  EXPECT_EQ(header(r, "apns-collapse-id"), "c1");
  EXPECT_EQ(header(r, "apns-expiration"), std::to_string(now + 24 * 3600));
  EXPECT_EQ(header(r, "apns-priority"), "10");
  auto body = test::parse_json_object(r.body);
  EXPECT_EQ(keys_of(body), (std::set<std::string>{"aps", "chatd"}));
  const auto& aps = body.at("aps").as_object();
  EXPECT_EQ(aps.at("alert").at("title"), "Alice");
  EXPECT_EQ(aps.at("alert").at("body"), "Hi \"Bob\" \xc3\xa9");
  EXPECT_EQ(aps.at("badge").to_number<std::uint64_t>(), 7u);
  EXPECT_EQ(aps.at("thread-id"), "c1");
  EXPECT_EQ(body.at("chatd"), json::parse(payload_json(message_payload())));

  // No preview, no sender name, a topic of its own.
  PushPayload p = message_payload();
  p.preview.reset();
  p.sender_name.clear();
  t.topic = "com.example.other";
  OutgoingRequest r2 = apns_request("https://apns.test:8443", "JWT", "com.example.chat", t, p, now);
  EXPECT_EQ(r2.url, "https://apns.test:8443/3/device/" + t.token);
  EXPECT_EQ(header(r2, "apns-topic"), "com.example.other");
  auto b2 = test::parse_json_object(r2.body);
  EXPECT_EQ(b2.at("aps").at("alert").at("title"), "Team");
  EXPECT_EQ(b2.at("aps").at("alert").at("body"), "New message");
}

TEST(PushRequests, ApnsClearIsASilentBackgroundPush) {
  PushTarget t;
  t.kind = TargetKind::apns;
  t.token = "abcd";
  OutgoingRequest r =
      apns_request("https://apns.test", "JWT", "com.example.chat", t, clear_payload(), 100);
  EXPECT_TRUE(r.http2);
  EXPECT_EQ(header(r, "apns-push-type"), "background");
  EXPECT_EQ(header(r, "apns-priority"), "5");
  EXPECT_EQ(header(r, "apns-collapse-id"), "c1");
  auto body = test::parse_json_object(r.body);
  EXPECT_EQ(body.at("aps"), json::parse(R"({"content-available":1})"));
  EXPECT_EQ(body.at("chatd"), json::parse(payload_json(clear_payload())));
}

}  // namespace
}  // namespace chat::push

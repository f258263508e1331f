// Push notifications over the real binary (PROTOCOL.md "Push notifications"),
// against fake providers that speak the real wire formats (push_fakes/): the
// delay-then-push rule and coalescing, no push for online, acknowledged, muted
// or own devices, previews, withdrawal (clear) after a read elsewhere or a
// delete, retries with Retry-After, removal of dead targets, a push due at
// kill -9 sent after the restart exactly once, Web Push encryption + VAPID,
// FCM (OAuth2 token + messages:send), APNs (HTTP/2, token auth), targets on
// one's own devices only, and metrics.
#include <gtest/gtest.h>
#include <openssl/hmac.h>

#include "push_fakes.hpp"
#include "state_fixtures.hpp"

namespace chat::test {
namespace {

using namespace state;

constexpr auto kSettle = 1500ms;  // well past --push-delay-ms 300 and a retry

std::vector<std::string> args(const PushFakes& fakes, std::vector<std::string> extra = {}) {
  auto a = fakes.chatd_args();
  a.insert(a.end(), {"--push-delay-ms", "300"});
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

HttpResponse put_target(HttpClient& http, const Account& who, const json::object& target,
                        const std::string& device_id = "") {
  return http.put("/v1/devices/" + (device_id.empty() ? who.device_id : device_id) + "/push",
                  target, who.token);
}

void expect_204(const HttpResponse& r) {
  ASSERT_EQ(r.status, 204) << describe(r);
}

json::object webhook(const PushFakes& fakes, const std::string& path,
                     const std::string& secret = "") {
  json::object t{{"kind", "webhook"}, {"url", fakes.webhook_url(path)}};
  if (!secret.empty()) t["secret"] = secret;
  return t;
}

// The recorded requests of `kind` whose path is `path`.
json::array at_path(PushFakes& fakes, std::string_view kind, std::string_view path) {
  json::array out;
  for (auto& r : fakes.requests(kind))
    if (r.at("path").as_string() == path) out.push_back(r);
  return out;
}

json::object body_of(const json::value& request) {
  return json::parse(request.at("body").as_string()).as_object();
}

std::string hmac_hex(const std::string& key, const std::string& data) {
  unsigned char mac[32];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out.push_back(kHex[mac[i] >> 4]);
    out.push_back(kHex[mac[i] & 15]);
  }
  return out;
}

// Whether the account's (only) device shows no push target within 5 s: the
// server removes a target after a "gone" answer, a moment after the push.
bool target_removed_soon(HttpClient& http, const Account& who) {
  return eventually(
      [&] {
        auto me = http.get("/v1/me", who.token).json().as_object();
        return me.at("devices").as_array()[0].at("push").is_null();
      },
      5s);
}

std::int64_t push_count(const ChatServer& server, const std::string& kind,
                        const std::string& result) {
  const std::string text = server.http().get("/metrics").body;
  const std::string key = "chatd_pushes_total{kind=\"" + kind + "\",result=\"" + result + "\"} ";
  const auto at = text.find(key);
  return at == std::string::npos ? 0 : std::stoll(text.substr(at + key.size()));
}

TEST(Push, OneSignedWebhookPushPerChatNamingTheNewestMessage) {
  PushFakes fakes;
  ChatServer server(args(fakes));
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account();
  ASSERT_EQ(http.patch("/v1/me", {{"name", "Alice"}}, alice.token).status, 200);
  expect_204(put_target(http, bob, webhook(fakes, "/bob", "s3cret")));
  const std::string chat = create_direct(http, alice, bob.user_id);

  post_text(http, alice, chat, "first");
  post_text(http, alice, chat, "second");
  const auto third = post_text(http, alice, chat, "third, the newest one");
  auto got = fakes.wait_requests("webhook", 1);
  ASSERT_EQ(got.size(), 1u);
  std::this_thread::sleep_for(kSettle);
  auto all = at_path(fakes, "webhook", "/bob");
  ASSERT_EQ(all.size(), 1u) << "three messages inside one delay make one push";

  const auto& req = all[0];
  const std::string raw(req.at("body").as_string());
  const auto p = body_of(req);
  EXPECT_EQ(p.at("type"), "message");
  EXPECT_EQ(p.at("user_id"), bob.user_id.c_str());
  EXPECT_EQ(p.at("device_id"), bob.device_id.c_str());
  EXPECT_EQ(p.at("chat_id"), chat.c_str());
  EXPECT_EQ(p.at("seq").to_number<std::int64_t>(), third);
  EXPECT_EQ(p.at("sender"), alice.user_id.c_str());
  EXPECT_EQ(p.at("sender_name"), "Alice");
  EXPECT_EQ(p.at("preview"), "third, the newest one");
  EXPECT_EQ(p.at("unread").to_number<int>(), 3);
  EXPECT_TRUE(p.contains("message_id"));
  EXPECT_TRUE(p.contains("chat_title"));
  EXPECT_GT(p.at("ts").to_number<std::int64_t>(), 0);
  EXPECT_EQ(req.at("headers").at("x-chatd-signature").as_string(),
            ("sha256=" + hmac_hex("s3cret", raw)).c_str());
  EXPECT_EQ(push_count(server, "webhook", "sent"), 1);
}

TEST(Push, NoPushForOnlineAcknowledgedOrOwnDevices) {
  PushFakes fakes;
  ChatServer server(args(fakes));
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account(),
                carol = server.new_account();
  const Account alice2 = client::add_device(http, alice, "alice-tablet");
  expect_204(put_target(http, alice2, webhook(fakes, "/alice2")));
  expect_204(put_target(http, bob, webhook(fakes, "/bob")));
  expect_204(put_target(http, carol, webhook(fakes, "/carol")));
  const std::string group = create_group(http, alice, "g", {bob.user_id, carol.user_id});
  std::this_thread::sleep_for(kSettle);  // group creation is a system message: no push
  ASSERT_TRUE(fakes.requests("webhook").empty()) << fakes.requests("webhook");

  auto bob_ws = server.connect_ws(bob.token);  // Bob is online
  post_text(http, alice, group, "hello all");
  // Carol acknowledges at once over REST (a phone that synced in time).
  auto events = http.get("/v1/events?after=0&timeout_ms=1000", carol.token);
  ASSERT_EQ(events.status, 200) << describe(events);
  const auto head = client::int_field(events.json().as_object(), "head");
  ASSERT_EQ(http.post("/v1/events/ack", {{"offset", head}}, carol.token).status / 100, 2);

  std::this_thread::sleep_for(kSettle);
  EXPECT_TRUE(at_path(fakes, "webhook", "/bob").empty()) << "online";
  EXPECT_TRUE(at_path(fakes, "webhook", "/carol").empty()) << "acknowledged in time";
  EXPECT_TRUE(at_path(fakes, "webhook", "/alice2").empty()) << "the sender's own device";

  // Bob goes offline: now he is pushed.
  bob_ws.reset();
  std::this_thread::sleep_for(300ms);
  post_text(http, alice, group, "are you there?");
  fakes.wait_requests("webhook", 1);
  EXPECT_EQ(at_path(fakes, "webhook", "/bob").size(), 1u);
}

TEST(Push, MutedChatsAreSilentAndPreviewsCanBeTurnedOff) {
  PushFakes fakes;
  ChatServer server(args(fakes));
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account(),
                mallory = server.new_account();
  expect_204(put_target(http, bob, webhook(fakes, "/bob")));
  const std::string chat = create_direct(http, alice, bob.user_id);
  const std::string settings = "/v1/chats/" + chat + "/settings";

  EXPECT_EQ(http.patch(settings, {{"preview", false}}, mallory.token).status, 404);
  EXPECT_EQ(http.patch(settings, {{"preview", "no"}}, bob.token).status, 400);
  EXPECT_EQ(http.patch(settings, {{"loud", true}}, bob.token).status, 400);

  auto muted = http.patch(settings, {{"muted_until", wall_ms() + 3'600'000}}, bob.token);
  ASSERT_EQ(muted.status, 200) << describe(muted);
  post_text(http, alice, chat, "shh");
  std::this_thread::sleep_for(kSettle);
  EXPECT_TRUE(fakes.requests("webhook").empty());

  auto r = http.patch(settings, {{"muted_until", nullptr}, {"preview", false}}, bob.token);
  ASSERT_EQ(r.status, 200) << describe(r);
  EXPECT_TRUE(r.json().at("muted_until").is_null());
  EXPECT_EQ(r.json().at("preview"), false);
  EXPECT_EQ(chat_entry(http, bob, chat).at("settings").at("preview"), false);

  post_text(http, alice, chat, "secret text");
  auto got = fakes.wait_requests("webhook", 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(body_of(got[0]).at("preview").is_null()) << got[0];
  EXPECT_EQ(body_of(got[0]).at("unread").to_number<int>(), 2) << "muted messages still count";
}

TEST(Push, ServerWidePreviewOff) {
  PushFakes fakes;
  ChatServer server(args(fakes, {"--push-preview", "false"}));
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account();
  expect_204(put_target(http, bob, webhook(fakes, "/bob")));
  post_text(http, alice, create_direct(http, alice, bob.user_id), "private words");
  auto got = fakes.wait_requests("webhook", 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(body_of(got[0]).at("preview").is_null());
  EXPECT_EQ(std::string(got[0].at("body").as_string()).find("private words"), std::string::npos);
}

TEST(Push, ReadingOnAnotherDeviceOrDeletingWithdrawsThePush) {
  PushFakes fakes;
  ChatServer server(args(fakes));
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account();
  const Account bob_laptop = client::add_device(http, bob, "laptop");
  expect_204(put_target(http, bob, webhook(fakes, "/bob-phone")));
  const std::string chat = create_direct(http, alice, bob.user_id);

  const auto seq = post_text(http, alice, chat, "read me");
  fakes.wait_requests("webhook", 1);
  // Bob reads on his laptop: the phone's notification is withdrawn.
  ASSERT_EQ(http.put("/v1/chats/" + chat + "/messages/" + std::to_string(seq) + "/status",
                     {{"status", "read"}}, bob_laptop.token)
                .status,
            204);
  auto got = fakes.wait_requests("webhook", 2);
  ASSERT_EQ(got.size(), 2u);
  const auto clear = body_of(got[1]);
  EXPECT_EQ(clear.at("type"), "clear");
  EXPECT_EQ(clear.at("chat_id"), chat.c_str());
  EXPECT_EQ(clear.at("device_id"), bob.device_id.c_str());
  EXPECT_EQ(clear.at("up_to_seq").to_number<std::int64_t>(), seq);
  EXPECT_EQ(clear.at("unread").to_number<int>(), 0);

  // A pushed message deleted for everyone is withdrawn too.
  fakes.reset();
  const auto oops = post_text(http, alice, chat, "oops");
  fakes.wait_requests("webhook", 1);
  ASSERT_EQ(http.del("/v1/chats/" + chat + "/messages/" + std::to_string(oops), alice.token).status,
            204);
  got = fakes.wait_requests("webhook", 2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(body_of(got[1]).at("type"), "clear");
  EXPECT_EQ(body_of(got[1]).at("chat_id"), chat.c_str());
}

TEST(Push, FailuresAreRetriedHonouringRetryAfterAndDeliveredOnce) {
  PushFakes fakes;
  ChatServer server(args(fakes));
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account();
  expect_204(put_target(http, bob, webhook(fakes, "/bob")));
  fakes.fail("webhook", 503, 2, 1);  // twice "try again in 1 s"
  const auto t0 = std::chrono::steady_clock::now();
  post_text(http, alice, create_direct(http, alice, bob.user_id), "eventually");
  auto got = fakes.wait_requests("webhook", 3);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 2s) << "Retry-After: 1 was honoured";
  EXPECT_EQ(got[0].at("status").to_number<int>(), 503);
  EXPECT_EQ(got[2].at("status").to_number<int>(), 200);
  std::this_thread::sleep_for(kSettle);
  EXPECT_EQ(fakes.requests("webhook").size(), 3u) << "nothing after the success";
  EXPECT_EQ(push_count(server, "webhook", "retry_503"), 2);
}

TEST(Push, AGoneTargetIsRemoved) {
  PushFakes fakes;
  ChatServer server(args(fakes));
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account();
  expect_204(put_target(http, bob, webhook(fakes, "/bob")));
  auto me = http.get("/v1/me", bob.token).json().as_object();
  ASSERT_EQ(me.at("devices").as_array()[0].at("push").at("kind"), "webhook");
  fakes.fail("webhook", 410, 1);
  const std::string chat = create_direct(http, alice, bob.user_id);
  post_text(http, alice, chat, "anyone?");
  fakes.wait_requests("webhook", 1);
  EXPECT_TRUE(target_removed_soon(http, bob));
  post_text(http, alice, chat, "hello?");
  std::this_thread::sleep_for(kSettle);
  EXPECT_EQ(fakes.requests("webhook").size(), 1u);
}

TEST(Push, APushDueAtKill9IsSentAfterTheRestartOnce) {
  PushFakes fakes;
  auto a = fakes.chatd_args();
  a.insert(a.end(), {"--push-delay-ms", "1500"});
  ChatServer server(a);
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account();
  expect_204(put_target(http, bob, webhook(fakes, "/bob")));
  const auto seq = post_text(http, alice, create_direct(http, alice, bob.user_id), "durable");
  server.kill9();  // the push was due in 1.5 s: only the stored outbox remembers it
  std::this_thread::sleep_for(500ms);
  ASSERT_TRUE(fakes.requests("webhook").empty());
  server.start();
  auto got = fakes.wait_requests("webhook", 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(body_of(got[0]).at("seq").to_number<std::int64_t>(), seq);
  std::this_thread::sleep_for(kSettle + 1500ms);
  EXPECT_EQ(fakes.requests("webhook").size(), 1u) << "once";
}

TEST(Push, WebPushIsEncryptedForTheSubscriptionAndSignedWithVapid) {
  PushFakes fakes;
  ChatServer server(args(fakes));
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account();
  auto vapid = http.get("/v1/push/vapid");
  ASSERT_EQ(vapid.status, 200);
  const std::string key(vapid.json().at("public_key").as_string());
  EXPECT_EQ(key.size(), 87u) << "65 bytes, base64url";
  expect_204(put_target(http, bob, fakes.webpush_subscription().target()));

  post_text(http, alice, create_direct(http, alice, bob.user_id), "encrypted hello");
  auto got = fakes.wait_requests("webpush", 1);
  ASSERT_EQ(got.size(), 1u);
  const auto& req = got[0].as_object();
  EXPECT_EQ(req.at("verified"), true) << req;
  EXPECT_EQ(req.at("status").to_number<int>(), 201);
  EXPECT_EQ(req.at("headers").at("content-encoding"), "aes128gcm");
  EXPECT_TRUE(req.at("headers").as_object().contains("ttl"));
  EXPECT_EQ(req.at("headers").at("urgency"), "high");
  const std::string auth(req.at("headers").at("authorization").as_string());
  EXPECT_NE(auth.find("k=" + key), std::string::npos) << auth;
  ASSERT_TRUE(req.at("plaintext").is_string()) << req;
  const auto p = json::parse(req.at("plaintext").as_string()).as_object();
  EXPECT_EQ(p.at("type"), "message");
  EXPECT_EQ(p.at("preview"), "encrypted hello");
  EXPECT_EQ(std::string(req.at("body").as_string()).find("encrypted hello"), std::string::npos);
  // The key survives a restart (subscriptions are bound to it).
  server.stop();
  server.start();
  EXPECT_EQ(server.http().get("/v1/push/vapid").json().at("public_key").as_string(), key.c_str());
}

TEST(Push, FcmGetsADataMessageWithAnOAuthTokenAndUnregisteredRemovesTheTarget) {
  PushFakes fakes;
  ChatServer server(args(fakes));
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account(),
                carol = server.new_account();
  expect_204(put_target(http, bob, {{"kind", "fcm"}, {"token", "device-token-bob"}}));
  expect_204(put_target(http, carol, {{"kind", "fcm"}, {"token", "unregistered-carol"}}));
  const std::string group = create_group(http, alice, "Team", {bob.user_id, carol.user_id});
  post_text(http, alice, group, "standup in 5");
  auto sends = fakes.wait_requests("fcm", 2);
  ASSERT_EQ(sends.size(), 2u);
  EXPECT_EQ(fakes.requests("fcm_token").size(), 1u) << "one token, cached";
  json::object bobs;
  for (auto& s : sends) {
    auto msg = body_of(s).at("message").as_object();
    if (msg.at("token") == "device-token-bob") bobs = msg;
  }
  ASSERT_FALSE(bobs.empty());
  EXPECT_EQ(bobs.at("data").at("type"), "message");
  EXPECT_EQ(bobs.at("data").at("chat_id"), group.c_str());
  EXPECT_EQ(bobs.at("data").at("chat_title"), "Team");
  EXPECT_EQ(bobs.at("data").at("preview"), "standup in 5");
  EXPECT_TRUE(target_removed_soon(http, carol)) << "UNREGISTERED";
  EXPECT_EQ(push_count(server, "fcm", "gone"), 1);
}

TEST(Push, ApnsGoesOverHttp2WithTokenAuthAndPerChatCollapse) {
  PushFakes fakes;
  ChatServer server(args(fakes));
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account(),
                carol = server.new_account();
  expect_204(put_target(http, bob, {{"kind", "apns"}, {"token", "a1b2c3d4"}}));
  expect_204(put_target(http, carol, {{"kind", "apns"}, {"token", "gone-carol"}}));
  const std::string group = create_group(http, alice, "Ops", {bob.user_id, carol.user_id});
  post_text(http, alice, group, "deploy done");
  auto got = fakes.wait_requests("apns", 2);
  ASSERT_EQ(got.size(), 2u);
  json::object bobs;
  for (auto& r : got)
    if (r.at("path") == "/3/device/a1b2c3d4") bobs = r.as_object();
  ASSERT_FALSE(bobs.empty()) << got;
  EXPECT_EQ(bobs.at("http_version"), "2.0");
  EXPECT_EQ(bobs.at("verified"), true) << bobs;
  EXPECT_EQ(bobs.at("status").to_number<int>(), 200);
  const auto& h = bobs.at("headers").as_object();
  EXPECT_EQ(h.at("apns-push-type"), "alert");
  EXPECT_EQ(h.at("apns-topic"), "org.chatd.test");
  EXPECT_EQ(h.at("apns-collapse-id"), group.c_str());
  EXPECT_GT(std::stoll(std::string(h.at("apns-expiration").as_string())), wall_ms() / 1000);
  EXPECT_TRUE(target_removed_soon(http, carol)) << "410 Unregistered";
}

TEST(Push, TargetsAreValidatedOwnDevicesOnlyAndNeverShown) {
  PushFakes fakes;
  ChatServer server(args(fakes));
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account();
  EXPECT_EQ(put_target(http, alice, webhook(fakes, "/x"), bob.device_id).status, 404);
  EXPECT_EQ(put_target(http, alice, webhook(fakes, "/x"), "d0000000000000000").status, 404);
  EXPECT_EQ(put_target(http, alice, {{"kind", "carrier-pigeon"}}).status, 400);
  EXPECT_EQ(put_target(http, alice, {{"kind", "webhook"}, {"url", "ftp://example.com/"}}).status,
            400);
  EXPECT_EQ(put_target(http, alice, {{"kind", "webhook"}}).status, 400);
  EXPECT_EQ(
      put_target(
          http, alice,
          {{"kind", "webpush"}, {"endpoint", fakes.webhook_url()}, {"p256dh", "x"}, {"auth", "y"}})
          .status,
      400);
  expect_204(put_target(http, alice, webhook(fakes, "/alice", "top-secret")));
  auto me = http.get("/v1/me", alice.token);
  EXPECT_EQ(me.json().at("devices").as_array()[0].at("push").at("kind"), "webhook");
  EXPECT_EQ(me.body.find("top-secret"), std::string::npos);
  EXPECT_EQ(me.body.find("/alice"), std::string::npos);
  EXPECT_EQ(http.del("/v1/devices/" + alice.device_id + "/push", alice.token).status, 204);
  EXPECT_TRUE(
      http.get("/v1/me", alice.token).json().at("devices").as_array()[0].at("push").is_null());
  EXPECT_EQ(http.del("/v1/devices/" + alice.device_id + "/push", bob.token).status, 404);
}

}  // namespace
}  // namespace chat::test

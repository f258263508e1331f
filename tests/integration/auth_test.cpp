// Accounts: phone + one-time code (dev mode and SMS webhook), the per-code try
// limit, expiry, single use, per-phone code limit, logout. PROTOCOL.md
// "Accounts and devices".
#include <gtest/gtest.h>

#include <thread>

#include "fixtures.hpp"
#include "webhook_sink.hpp"

namespace chat::test {
namespace {

HttpResponse request_otp(HttpClient& http, const std::string& phone) {
  return http.post("/v1/auth/otp", {{"phone", phone}});
}

HttpResponse verify(HttpClient& http, const std::string& phone, const std::string& code,
                    const std::string& device = "phone") {
  return http.post("/v1/auth/verify", {{"phone", phone}, {"code", code}, {"device_name", device}});
}

std::string dev_code(const HttpResponse& otp) {
  return std::string(otp.json().as_object().at("dev_code").as_string());
}

// A code that is certainly not `code` (same length, last digit changed).
std::string wrong_code(std::string code) {
  code.back() = code.back() == '0' ? '1' : '0';
  return code;
}

TEST(Auth, DevModeReturnsCodeAndVerifyCreatesUserThenDevices) {
  ChatServer server;
  auto http = server.http();
  const std::string phone = client::random_phone();

  auto otp = request_otp(http, phone);
  ASSERT_EQ(otp.status, 202) << describe(otp);
  const auto o = otp.json().as_object();
  EXPECT_GT(client::int_field(o, "expires_in"), 0) << otp.body;
  ASSERT_TRUE(o.contains("dev_code")) << otp.body;
  const std::string code = dev_code(otp);
  EXPECT_FALSE(code.empty());

  auto first = verify(http, phone, code, "laptop");
  ASSERT_EQ(first.status, 200) << describe(first);
  const auto f = first.json().as_object();
  const std::string user_id = client::string_field(f, "user_id");
  EXPECT_EQ(f.at("new_user"), true) << first.body;
  EXPECT_FALSE(client::string_field(f, "token").empty());

  // Second verification of the same phone: same user, a new device and token.
  auto second = verify(http, phone, dev_code(request_otp(http, phone)), "phone");
  ASSERT_EQ(second.status, 200) << describe(second);
  const auto s = second.json().as_object();
  EXPECT_EQ(client::string_field(s, "user_id"), user_id);
  EXPECT_EQ(s.at("new_user"), false) << second.body;
  EXPECT_NE(client::string_field(s, "device_id"), client::string_field(f, "device_id"));
  EXPECT_NE(client::string_field(s, "token"), client::string_field(f, "token"));

  auto me = http.get("/v1/me", client::string_field(s, "token"));
  ASSERT_EQ(me.status, 200) << describe(me);
  const auto m = me.json().as_object();
  EXPECT_EQ(client::string_field(m, "user_id"), user_id);
  EXPECT_EQ(client::string_field(m, "phone"), phone);
  EXPECT_EQ(m.at("devices").as_array().size(), 2u) << me.body;
}

TEST(Auth, WrongCodeIs401AndTheRightOneStillWorks) {
  ChatServer server;
  auto http = server.http();
  const std::string phone = client::random_phone();
  const std::string code = dev_code(request_otp(http, phone));

  auto wrong = verify(http, phone, wrong_code(code));
  EXPECT_EQ(wrong.status, 401) << describe(wrong);
  EXPECT_EQ(wrong.error_code(), "unauthorized");

  auto right = verify(http, phone, code);
  EXPECT_EQ(right.status, 200) << describe(right);
}

TEST(Auth, FifthWrongTryKillsTheCodeUntilANewOneIsRequested) {
  ChatServer server;
  auto http = server.http();
  const std::string phone = client::random_phone();
  const std::string code = dev_code(request_otp(http, phone));

  for (int i = 0; i < 5; ++i) {
    auto r = verify(http, phone, wrong_code(code));
    EXPECT_EQ(r.status, 401) << "wrong try " << i + 1 << ": " << describe(r);
  }
  // The sixth try, even with the right code, is refused with 429.
  auto dead = verify(http, phone, code);
  EXPECT_EQ(dead.status, 429) << describe(dead);
  EXPECT_EQ(dead.error_code(), "rate_limited");
  const auto body = dead.json().as_object();
  ASSERT_TRUE(body.contains("error")) << dead.body;
  // Present, as for every rate_limited answer; 0 is fair here since a new code can be asked at
  // once.
  EXPECT_GE(client::int_field(body.at("error").as_object(), "retry_after_ms"), 0) << dead.body;

  // A new code works again.
  auto fresh = request_otp(http, phone);
  ASSERT_EQ(fresh.status, 202) << describe(fresh);
  auto ok = verify(http, phone, dev_code(fresh));
  EXPECT_EQ(ok.status, 200) << describe(ok);
}

TEST(Auth, ExpiredCodeIs401) {
  ChatServer server({"--otp-ttl-seconds", "1"});
  auto http = server.http();
  const std::string phone = client::random_phone();
  auto otp = request_otp(http, phone);
  ASSERT_EQ(otp.status, 202) << describe(otp);
  EXPECT_EQ(client::int_field(otp.json().as_object(), "expires_in"), 1) << otp.body;
  std::this_thread::sleep_for(1500ms);
  auto r = verify(http, phone, dev_code(otp));
  EXPECT_EQ(r.status, 401) << describe(r);
  EXPECT_EQ(r.error_code(), "unauthorized");
}

TEST(Auth, UsedCodeIs401) {
  ChatServer server;
  auto http = server.http();
  const std::string phone = client::random_phone();
  const std::string code = dev_code(request_otp(http, phone));
  ASSERT_EQ(verify(http, phone, code).status, 200);
  auto again = verify(http, phone, code);
  EXPECT_EQ(again.status, 401) << describe(again);
  EXPECT_EQ(again.error_code(), "unauthorized");
}

TEST(Auth, VerifyWithoutAnyCodeRequestedIs401) {
  ChatServer server;
  auto http = server.http();
  auto r = verify(http, client::random_phone(), "123456");
  EXPECT_EQ(r.status, 401) << describe(r);
}

TEST(Auth, AtMostFiveCodesPerPhonePerWindow) {
  ChatServer server;
  auto http = server.http();
  const std::string phone = client::random_phone();
  for (int i = 0; i < 5; ++i) {
    auto r = request_otp(http, phone);
    ASSERT_EQ(r.status, 202) << "code " << i + 1 << ": " << describe(r);
  }
  auto sixth = request_otp(http, phone);
  EXPECT_EQ(sixth.status, 429) << describe(sixth);
  EXPECT_EQ(sixth.error_code(), "rate_limited");
  // Another phone is not affected.
  EXPECT_EQ(request_otp(http, client::random_phone()).status, 202);
}

TEST(Auth, BadPhonesAre400) {
  ChatServer server;
  auto http = server.http();
  const std::vector<std::string> bad = {"",
                                        "15551234567",
                                        "+",
                                        "+1234567",           // 7 digits: too short
                                        "+0155512345",        // leading 0
                                        "+1234567890123456",  // 16 digits
                                        "+1555abc4567",
                                        " +15551234567",
                                        "+15551234567 ",
                                        "+1-555-123-4567",
                                        "++15551234567",
                                        "+1555123\xc3\xa9"};
  for (const auto& phone : bad) {
    auto r = request_otp(http, phone);
    EXPECT_EQ(r.status, 400) << "phone '" << phone << "': " << describe(r);
    EXPECT_EQ(r.error_code(), "bad_request") << "phone '" << phone << "'";
  }
  // Boundaries that are valid: 8 and 15 digits.
  EXPECT_EQ(request_otp(http, "+12345678").status, 202);
  EXPECT_EQ(request_otp(http, "+123456789012345").status, 202);
  // Verify checks the phone too.
  auto v = verify(http, "not a phone", "123456");
  EXPECT_EQ(v.status, 400) << describe(v);
}

TEST(Auth, WebhookSmsCarriesTheCodeAndProductionModeHidesIt) {
  WebhookSink sink;
  ChatServer server({"--sms", "webhook", "--sms-webhook-url", sink.url("/sms")}, /*dev=*/false);
  auto http = server.http();
  const std::string phone = client::random_phone();

  auto otp = request_otp(http, phone);
  ASSERT_EQ(otp.status, 202) << describe(otp);
  EXPECT_FALSE(otp.json().as_object().contains("dev_code")) << otp.body;

  auto sms = sink.wait_for(0, 10s);
  ASSERT_TRUE(sms.has_value()) << "the server did not POST to the SMS webhook";
  EXPECT_EQ(sms->method, "POST");
  EXPECT_EQ(sms->target, "/sms");
  const auto payload = boost::json::parse(sms->body).as_object();
  EXPECT_EQ(client::string_field(payload, "phone"), phone) << sms->body;
  const std::string code = client::string_field(payload, "code");

  EXPECT_EQ(verify(http, phone, wrong_code(code)).status, 401);
  auto ok = verify(http, phone, code);
  EXPECT_EQ(ok.status, 200) << describe(ok);
}

TEST(Auth, MissingOrBadTokenIs401) {
  ChatServer server;
  auto http = server.http();
  const Account a = server.new_account();
  EXPECT_EQ(http.get("/v1/me", a.token).status, 200);

  auto none = http.get("/v1/me");
  EXPECT_EQ(none.status, 401) << describe(none);
  EXPECT_EQ(none.error_code(), "unauthorized");
  EXPECT_EQ(http.get("/v1/me", "garbage").status, 401);
  EXPECT_EQ(http.get("/v1/me", a.token + "x").status, 401);
  auto basic =
      http.request("GET", "/v1/me", {}, {.headers = {{"Authorization", "Basic Zm9vOmJhcg=="}}});
  EXPECT_EQ(basic.status, 401) << describe(basic);
  auto empty = http.request("GET", "/v1/me", {}, {.headers = {{"Authorization", "Bearer "}}});
  EXPECT_EQ(empty.status, 401) << describe(empty);
}

TEST(Auth, LogoutRevokesTheTokenAndClosesOnlyThatDevicesSockets) {
  ChatServer server;
  auto http = server.http();
  const Account one = server.new_account("one");
  const Account two = client::add_device(http, one, "two");
  auto ws_one = server.connect_ws(one.token);
  auto ws_two = server.connect_ws(two.token);

  auto out = http.request("POST", "/v1/auth/logout", {}, {.bearer = one.token});
  ASSERT_EQ(out.status, 204) << describe(out);

  auto me = http.get("/v1/me", one.token);
  EXPECT_EQ(me.status, 401) << describe(me);
  EXPECT_EQ(me.error_code(), "unauthorized");

  // The revoked device's socket is closed with 1008 ...
  auto closed = ws_one->next(5s);
  EXPECT_EQ(closed["type"], "closed") << closed;
  EXPECT_EQ(ws_one->close_code(), 1008) << ws_one->close_reason();

  // ... the other device keeps working, on REST and on its socket.
  EXPECT_EQ(http.get("/v1/me", two.token).status, 200);
  auto pong = ws_two->call({{"type", "ping"}}, 5s);
  EXPECT_EQ(pong["type"], "pong") << pong;
  EXPECT_TRUE(ws_two->ping(5s));

  // The revoked token cannot authenticate a new socket.
  client::WsClient again;
  ASSERT_EQ(again.connect(server.host(), server.port()), 101);
  auto refused = client::ws_auth(again, one.token);
  EXPECT_EQ(refused["type"], "error") << refused;
  EXPECT_EQ(refused["code"], "unauthorized") << refused;
}

TEST(Auth, BearerHeaderOnTheUpgradeAuthenticatesTheSocket) {
  ChatServer server;
  auto http = server.http();
  const Account a = server.new_account(), b = server.new_account();
  const std::string chat = create_direct(http, a, b.user_id);

  client::WsClient ws;
  ASSERT_EQ(ws.connect(server.host(), server.port(), "/v1/ws", a.token), 101);
  auto reply = ws_send(ws, chat, "via header");
  EXPECT_EQ(reply["type"], "ok") << reply;

  client::WsClient bad;
  const int status = bad.connect(server.host(), server.port(), "/v1/ws", "not-a-token");
  EXPECT_EQ(status, 401) << "upgrade with a bad bearer token";
}

}  // namespace
}  // namespace chat::test

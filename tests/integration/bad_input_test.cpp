// Bad input, REST and WebSocket: each case gets the right error (or close
// code), and afterwards the server still serves. PROTOCOL.md "Conventions":
// a bad frame or request never closes other users' work, never loses stored
// data, and never crashes the server.
#include <gtest/gtest.h>

#include "fixtures.hpp"

namespace chat::test {
namespace {

constexpr const char* kTwoPow53 = "9007199254740992";
constexpr const char* kTwoPow64 = "18446744073709551616";

std::string nested(int depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

struct RestCase {
  std::string name;
  std::string method;
  std::string target;
  std::string body;
  bool authed;
  int status;
  std::string code;
};

TEST(BadInput, RestRequestsGetTheRightErrorAndTheServerGoesOn) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account();
  const std::string chat = create_direct(http, alice, bob.user_id);
  auto ok = http.post("/v1/chats/" + chat + "/messages", {{"client_msg_id", "a"}, {"body", "x"}},
                      alice.token);
  ASSERT_EQ(ok.status, 201) << describe(ok);
  const auto head = client::int_field(
      http.get("/v1/events?after=0&timeout_ms=0", alice.token).json().as_object(), "head");
  const std::string messages = "/v1/chats/" + chat + "/messages";
  const std::string member = "/v1/chats/" + chat + "/members/" + bob.user_id;
  const auto send_body = [](const std::string& extra) {
    return R"({"client_msg_id":"b")" + extra + "}";
  };

  const std::vector<RestCase> cases = {
      {"malformed JSON", "POST", "/v1/auth/otp", "{", false, 400, "bad_request"},
      {"trailing garbage", "POST", "/v1/auth/otp", R"({"phone":"+15551234567"} x)", false, 400,
       "bad_request"},
      {"array body", "POST", "/v1/auth/otp", "[]", false, 400, "bad_request"},
      {"string body", "POST", "/v1/auth/otp", R"("+15551234567")", false, 400, "bad_request"},
      {"empty body", "POST", "/v1/auth/otp", "", false, 400, "bad_request"},
      {"wrong type", "POST", "/v1/auth/otp", R"({"phone":15551234567})", false, 400, "bad_request"},
      {"missing field", "POST", "/v1/auth/otp", "{}", false, 400, "bad_request"},
      {"unknown field", "POST", "/v1/auth/otp", R"({"phone":"+15551234567","x":1})", false, 400,
       "bad_request"},
      {"bad phone", "POST", "/v1/auth/otp", R"({"phone":"12"})", false, 400, "bad_request"},
      {"invalid UTF-8", "POST", "/v1/auth/otp", "{\"phone\":\"+1555\xff\"}", false, 400,
       "bad_request"},
      {"deep nesting", "POST", "/v1/auth/otp", R"({"phone":)" + nested(5000) + "}", false, 400,
       "bad_request"},
      {"verify: code is a number", "POST", "/v1/auth/verify",
       R"({"phone":"+15551234567","code":123456,"device_name":"d"})", false, 400, "bad_request"},
      {"verify: no device_name", "POST", "/v1/auth/verify",
       R"({"phone":"+15551234567","code":"123456"})", false, 400, "bad_request"},
      {"unknown chat type", "POST", "/v1/chats", R"({"type":"channel"})", true, 400, "bad_request"},
      {"direct without peer", "POST", "/v1/chats", R"({"type":"direct"})", true, 400,
       "bad_request"},
      {"members not an array", "POST", "/v1/chats",
       R"({"type":"group","title":"t","members":"u1"})", true, 400, "bad_request"},
      {"members of numbers", "POST", "/v1/chats", R"({"type":"group","title":"t","members":[1]})",
       true, 400, "bad_request"},
      {"empty title", "POST", "/v1/chats", R"({"type":"group","title":"","members":[]})", true, 400,
       "bad_request"},
      {"title over 128 chars", "POST", "/v1/chats",
       R"({"type":"group","title":")" + std::string(129, 't') + R"(","members":[]})", true, 413,
       "too_large"},
      {"send: body is a number", "POST", messages, send_body(R"(,"body":5)"), true, 400,
       "bad_request"},
      {"send: no client_msg_id", "POST", messages, R"({"body":"x"})", true, 400, "bad_request"},
      {"send: empty client_msg_id", "POST", messages, R"({"client_msg_id":"","body":"x"})", true,
       400, "bad_request"},
      {"send: unknown field", "POST", messages, send_body(R"(,"body":"x","color":"red")"), true,
       400, "bad_request"},
      {"send: reply_to string", "POST", messages, send_body(R"(,"body":"x","reply_to":"1")"), true,
       400, "bad_request"},
      {"send: reply_to negative", "POST", messages, send_body(R"(,"body":"x","reply_to":-1)"), true,
       400, "bad_request"},
      {"send: reply_to 2^53", "POST", messages,
       send_body(R"(,"body":"x","reply_to":)" + std::string(kTwoPow53)), true, 400, "bad_request"},
      {"send: reply_to 2^64", "POST", messages,
       send_body(R"(,"body":"x","reply_to":)" + std::string(kTwoPow64)), true, 400, "bad_request"},
      {"send: reply_to 1e300", "POST", messages, send_body(R"(,"body":"x","reply_to":1e300)"), true,
       400, "bad_request"},
      {"send: reply_to 1.5", "POST", messages, send_body(R"(,"body":"x","reply_to":1.5)"), true,
       400, "bad_request"},
      {"send: body over 64 KiB", "POST", messages,
       send_body(R"(,"body":")" + std::string(65537, 'b') + "\""), true, 413, "too_large"},
      {"request body of 1 MiB", "POST", messages,
       send_body(R"(,"body":")" + std::string(1 << 20, 'b') + "\""), true, 413, "too_large"},
      {"history: after=abc", "GET", messages + "?after=abc", "", true, 400, "bad_request"},
      {"history: limit=-5", "GET", messages + "?limit=-5", "", true, 400, "bad_request"},
      {"history: before=2^53", "GET", messages + "?before=" + kTwoPow53, "", true, 400,
       "bad_request"},
      {"history: after=2^64", "GET", messages + "?after=" + kTwoPow64, "", true, 400,
       "bad_request"},
      {"ack: offset string", "POST", "/v1/events/ack", R"({"offset":"1"})", true, 400,
       "bad_request"},
      {"ack: offset negative", "POST", "/v1/events/ack", R"({"offset":-1})", true, 400,
       "bad_request"},
      {"ack: offset 2^53", "POST", "/v1/events/ack", R"({"offset":)" + std::string(kTwoPow53) + "}",
       true, 400, "bad_request"},
      {"ack: offset 1e300", "POST", "/v1/events/ack", R"({"offset":1e300})", true, 400,
       "bad_request"},
      {"ack: beyond head", "POST", "/v1/events/ack",
       R"({"offset":)" + std::to_string(head + 100) + "}", true, 400, "bad_request"},
      {"ack: no offset", "POST", "/v1/events/ack", "{}", true, 400, "bad_request"},
      {"role: unknown", "PATCH", member, R"({"role":"owner"})", true, 400, "bad_request"},
      {"me: bad privacy", "PATCH", "/v1/me", R"({"last_seen_privacy":"sometimes"})", true, 400,
       "bad_request"},
      {"me: name is a number", "PATCH", "/v1/me", R"({"name":5})", true, 400, "bad_request"},
      {"unknown route", "GET", "/v1/nope", "", true, 404, "not_found"},
  };
  for (const auto& c : cases) {
    auto r = http.request(c.method, c.target, c.body, {.bearer = c.authed ? alice.token : ""});
    EXPECT_EQ(r.status, c.status) << c.name << ": " << describe(r).substr(0, 300);
    EXPECT_EQ(r.error_code(), c.code) << c.name;
  }
  // Long tokens are just wrong tokens.
  EXPECT_EQ(http.get("/v1/me", std::string(4000, 'x')).status, 401);

  // Nothing was stored by the refused requests.
  EXPECT_EQ(full_history(http, bob, chat).size(), 1u);
  EXPECT_EQ(server_still_serves(server), "");
}

TEST(BadInput, MalformedHttpNeverHurtsTheServer) {
  ChatServer server;
  auto http = server.http();

  // Requests a parser must refuse: 400 (or 431) and close, or just close.
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"garbage request line", "GARBAGE\r\n\r\n"},
      {"binary junk", std::string("\x00\x01\x02\xff\xfe\r\n\r\n", 9)},
      {"bad Content-Length",
       "POST /v1/auth/otp HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n"},
      {"bad chunk size",
       "POST /v1/auth/otp HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
       "\r\nzz\r\n{}\r\n0\r\n\r\n"},
      {"100 KB header",
       "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(100'000, 'h') + "\r\n\r\n"},
  };
  for (const auto& [name, bytes] : refused) {
    auto r = http.raw(bytes, 5s);
    EXPECT_TRUE(r.status == 0 || r.status == 400 || r.status == 413 || r.status == 431)
        << name << ": " << describe(r);
  }

  // Bodies too large are refused by their declared or counted size: 413.
  auto declared = http.raw(
      "POST /v1/auth/otp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: 99999999999\r\n\r\n{}",
      5s);
  EXPECT_EQ(declared.status, 413) << describe(declared);
  EXPECT_EQ(declared.error_code(), "too_large");
  std::string chunked =
      "POST /v1/auth/otp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 40; ++i)
    chunked += "1000\r\n" + std::string(0x1000, ' ') + "\r\n";
  chunked += "0\r\n\r\n";
  auto counted = http.raw(chunked, 5s);
  EXPECT_EQ(counted.status, 413) << describe(counted);

  EXPECT_EQ(server_still_serves(server), "");
}

struct WsCase {
  std::string name;
  std::string frame;
  std::string code;  // the expected error code ...
  json::value id;    // ... echoing this id
  int close = 0;     // or else the expected close code
  bool authed = true;
  bool binary = false;
  bool raw = false;  // sent with WsClient::send_raw as one unfragmented text frame
};

TEST(BadInput, WebSocketFramesGetTheRightErrorOrCloseCode) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account();
  const std::string chat = create_direct(http, alice, bob.user_id);
  json::object ok;
  server.connect_ws(alice.token, std::nullopt, &ok);
  const auto head = client::int_field(ok, "head");
  const auto send = [&](const std::string& fields) {
    return R"({"type":"send","chat_id":")" + chat + R"(","client_msg_id":"c")" + fields + "}";
  };

  const std::vector<WsCase> cases = {
      {"not JSON", "not json", "bad_request", nullptr},
      {"truncated JSON", "{", "bad_request", nullptr},
      {"array", "[1,2]", "bad_request", nullptr},
      {"deep nesting", nested(5000), "bad_request", nullptr},
      {"invalid id type", R"({"type":"ping","id":{"a":1}})", "bad_request", nullptr},
      {"no type", R"({"id":5})", "bad_request", 5},
      {"unknown type", R"({"type":"frobnicate","id":6})", "bad_request", 6},
      {"type is a number", R"({"type":5,"id":7})", "bad_request", 7},
      {"send: no client_msg_id", R"({"type":"send","id":8,"chat_id":")" + chat + R"(","body":"x"})",
       "bad_request", 8},
      {"send: unknown field", send(R"(,"id":9,"body":"x","color":"red")"), "bad_request", 9},
      {"send: chat_id is a number",
       R"({"type":"send","id":10,"chat_id":5,"client_msg_id":"c","body":"x"})", "bad_request", 10},
      {"send: reply_to 2^53", send(R"(,"id":11,"body":"x","reply_to":)" + std::string(kTwoPow53)),
       "bad_request", 11},
      {"send: reply_to 1e300", send(R"(,"id":12,"body":"x","reply_to":1e300)"), "bad_request", 12},
      {"send: body over 64 KiB", send(R"(,"id":13,"body":")" + std::string(65537, 'b') + "\""),
       "too_large", 13},
      {"send: unknown chat",
       R"({"type":"send","id":14,"chat_id":"c0123456789abcdef","client_msg_id":"c","body":"x"})",
       "not_found", 14},
      {"ack: beyond head", R"({"type":"ack","id":15,"offset":)" + std::to_string(head + 100) + "}",
       "bad_request", 15},
      {"ack: negative", R"({"type":"ack","id":16,"offset":-1})", "bad_request", 16},
      {"ack: 2^53", R"({"type":"ack","id":17,"offset":)" + std::string(kTwoPow53) + "}",
       "bad_request", 17},
      {"ack: 2^64", R"({"type":"ack","id":"s18","offset":)" + std::string(kTwoPow64) + "}",
       "bad_request", "s18"},
      {"ack: offset string", R"({"type":"ack","id":19,"offset":"3"})", "bad_request", 19},
      {"binary frame", "{\"type\":\"ping\"}", "bad_request", nullptr, 0, true, true},
      {"before auth: ping", R"({"type":"ping","id":20})", "unauthorized", 20, 0, false},
      {"before auth: send", send(R"(,"id":21,"body":"x")"), "unauthorized", 21, 0, false},
      {"auth: bad token", R"({"type":"auth","id":22,"token":"bogus"})", "unauthorized", 22, 0,
       false},
      {"auth: no token", R"({"type":"auth","id":23})", "bad_request", 23, 0, false},
      // Raw, so that the server closing before it has read the whole frame
      // cannot make the client's own write fail first.
      {"frame over 1 MiB", send(R"(,"body":")" + std::string((1 << 20) + 1024, 'b') + "\""), "",
       nullptr, 1009, true, false, true},
      {"invalid UTF-8", "{\"type\":\"ping\",\"id\":\"\xc3\x28\"}", "", nullptr, 1007},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    std::unique_ptr<WsClient> ws;
    if (c.authed) {
      ws = server.connect_ws(alice.token);
    } else {
      ws = std::make_unique<WsClient>();
      ASSERT_EQ(ws->connect(server.host(), server.port()), 101);
    }
    if (c.raw) {
      ws->send_raw(WsClient::encode_frame(1, c.frame));
    } else if (c.binary) {
      ws->send_binary(c.frame);
    } else {
      ws->send_text(c.frame);  // may fail midway when the server closes first (1009)
    }
    if (c.close != 0) {
      auto f = ws->next_where([](const json::object&) { return false; }, 5s);
      EXPECT_EQ(f["type"], "closed") << f;
      EXPECT_EQ(ws->close_code(), c.close) << ws->close_reason();
      continue;
    }
    // Authenticated sockets first get the stream's replay (a `chat` event).
    auto f = ws->next_where([](const json::object& o) { return !o.contains("offset"); }, 5s);
    EXPECT_EQ(f["type"], "error") << f;
    EXPECT_EQ(f["code"], c.code.c_str()) << f;
    EXPECT_EQ(f["id"], c.id) << f;
    EXPECT_TRUE(f.contains("message")) << f;
    EXPECT_TRUE(ws->ping(2s)) << "the socket should stay open after one bad frame";
  }
  // The refused sends stored nothing.
  EXPECT_EQ(full_history(http, bob, chat).size(), 0u);
  EXPECT_EQ(server_still_serves(server), "");
}

TEST(BadInput, UnauthenticatedSocketIsClosedAtTheAuthTimeout) {
  ChatServer server({"--ws-auth-timeout-ms", "1000"});
  WsClient ws;
  ASSERT_EQ(ws.connect(server.host(), server.port()), 101);
  auto refused = ws.call({{"type", "ping"}}, 2s);
  EXPECT_EQ(refused["type"], "error") << refused;
  EXPECT_EQ(refused["code"], "unauthorized") << refused;
  auto f = ws.next_where([](const json::object&) { return false; }, 5s);
  EXPECT_EQ(f["type"], "closed") << f;
  EXPECT_EQ(ws.close_code(), 1008) << ws.close_reason();

  // An authenticated socket outlives the auth timeout.
  const Account a = server.new_account();
  auto authed = server.connect_ws(a.token);
  std::this_thread::sleep_for(1500ms);
  EXPECT_TRUE(authed->ping(2s));
  EXPECT_EQ(server_still_serves(server), "");
}

TEST(BadInput, AFloodOfGarbageDoesNotDisturbOtherUsers) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account(),
                mallory = server.new_account();
  const std::string chat = create_direct(http, alice, bob.user_id);
  auto wa = server.connect_ws(alice.token);
  auto wb = server.connect_ws(bob.token);
  auto bad = server.connect_ws(mallory.token);
  for (int i = 0; i < 2000 && bad->is_open(); ++i) {
    bad->send_text(i % 2 == 0 ? "garbage" : R"({"type":"nope"})");
  }
  // Whether or not mallory was disconnected (1008 is allowed), alice and bob talk.
  auto sent = ws_send(*wa, chat, "unaffected");
  ASSERT_EQ(sent["type"], "ok") << sent;
  auto got = collect_messages_until_seq(*wb, chat, 1, 5s);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(message_of(got[0]).at("body"), "unaffected");
  if (!bad->is_open() ||
      bad->next_where([](const json::object&) { return false; }, 1s)["type"] == "closed") {
    EXPECT_EQ(bad->close_code(), 1008) << bad->close_reason();
  }
  EXPECT_EQ(server_still_serves(server), "");
}

}  // namespace
}  // namespace chat::test

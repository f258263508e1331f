// REST and WebSocket steps that many integration tests share: make chats, send
// batches of messages, read a chat's whole history, collect events.
//
// Helpers throw std::runtime_error (quoting the server's answer) when a step
// that is not under test fails, so the test stops with the reason; what a test
// checks, it checks itself with EXPECT/ASSERT.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "harness.hpp"

namespace chat::test {

namespace json = boost::json;
using client::Account;
using client::HttpClient;
using client::HttpResponse;
using client::WsClient;
using namespace std::chrono_literals;

// The printable form of a response, for assertion messages.
std::string describe(const HttpResponse& r);

// POST /v1/chats {"type":"direct"} → chat_id (200 or 201 expected).
std::string create_direct(HttpClient& http, const Account& me, const std::string& peer_user_id);
// POST /v1/chats {"type":"group"} → chat_id (201 expected).
std::string create_group(HttpClient& http, const Account& creator, const std::string& title,
                         const std::vector<std::string>& member_user_ids);

// Every message of a chat, oldest first, read with `after` pages of 200.
std::vector<json::object> full_history(HttpClient& http, const Account& reader,
                                       const std::string& chat_id);

// One WS `send`; returns the reply (ok or error).
json::object ws_send(WsClient& ws, const std::string& chat_id, const std::string& body,
                     const std::string& client_msg_id = client::random_client_msg_id());

struct SentMessage {
  std::string client_msg_id;
  std::string body;
  std::int64_t seq = 0;
  std::string message_id;
};

// Sends `count` text messages into `chat_id` over `ws`, with up to `window`
// requests in flight, and waits for every `ok`. Bodies come from `body_of(i)`.
// Frames without an id read meanwhile (events) go to `on_event` (when set), in order.
// Throws on an error reply, a close or a timeout.
std::vector<SentMessage> send_many(WsClient& ws, const std::string& chat_id, int count,
                                   const std::function<std::string(int)>& body_of, int window,
                                   const std::function<void(json::object)>& on_event = {},
                                   std::chrono::milliseconds timeout = 60s);

// Reads frames until `done(events so far)` or the timeout, keeping the
// `message` events of `chat_id` (other frames are dropped). Returns them.
std::vector<json::object> collect_messages(
    WsClient& ws, const std::string& chat_id,
    const std::function<bool(const std::vector<json::object>&)>& done,
    std::chrono::milliseconds timeout);

// collect_messages until the event for `seq` of `chat_id` is in.
std::vector<json::object> collect_messages_until_seq(WsClient& ws, const std::string& chat_id,
                                                     std::int64_t seq,
                                                     std::chrono::milliseconds timeout = 10s);

// `message.seq` of a `message` event, `message` object of it, and so on.
std::int64_t seq_of(const json::object& message_event);
const json::object& message_of(const json::object& message_event);
bool is_message_event_of(const json::object& frame, const std::string& chat_id);

// GET /healthz is 200 and a fresh pair of accounts can exchange a message:
// what every bad-input test checks afterwards. Returns "" or what went wrong.
std::string server_still_serves(const ChatServer& server);

}  // namespace chat::test

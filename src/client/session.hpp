// Conveniences on top of HttpClient and WsClient for what every test and load
// generator does first: make an account, open an authenticated socket.
#pragma once

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "client/http_client.hpp"
#include "client/ws_client.hpp"

namespace chat::client {

struct Account {
  std::string phone;
  std::string user_id;
  std::string device_id;
  std::string token;
};

// A random, valid E.164 number (+1555 and 7 random digits). Tests use fresh
// numbers because the server limits OTP codes per phone.
std::string random_phone();

// A random client_msg_id (16 hex digits).
std::string random_client_msg_id();

// POST /v1/auth/otp, then POST /v1/auth/verify with the `dev_code` of the
// answer (the server must run in dev mode). Throws ClientError, quoting the
// server's answer, when either step fails.
Account sign_up(HttpClient& http, std::string_view phone, std::string_view device_name = "test");

// Another device for an existing account: the same two steps for its phone.
Account add_device(HttpClient& http, const Account& account, std::string_view device_name);

// Sends `auth` (with `from_offset` when given) and returns the reply: the
// `ok` frame ({"type":"ok","user_id","device_id","cursor","head"}) or an
// `error` (or WsClient's client-made timeout/closed object).
boost::json::object ws_auth(WsClient& ws, std::string_view token,
                            std::optional<std::uint64_t> from_offset = std::nullopt,
                            std::chrono::milliseconds timeout = WsClient::kDefaultTimeout);

// An integer field of a JSON object, whatever its JSON integer kind; throws
// ClientError when absent or not an integer (the message names the field).
std::int64_t int_field(const boost::json::object& obj, std::string_view key);
// A string field; throws ClientError when absent or not a string.
std::string string_field(const boost::json::object& obj, std::string_view key);

}  // namespace chat::client

#include "client/session.hpp"

#include <boost/json/serialize.hpp>

#include "base/random.hpp"

namespace chat::client {

namespace json = boost::json;

std::string random_phone() {
  return "+1555" + chat::random_digits(7);
}

std::string random_client_msg_id() {
  return chat::random_hex_secret(8);
}

Account sign_up(HttpClient& http, std::string_view phone, std::string_view device_name) {
  const auto otp = http.post("/v1/auth/otp", {{"phone", phone}});
  if (otp.status != 202) {
    throw ClientError("POST /v1/auth/otp: " + std::to_string(otp.status) + " " + otp.body);
  }
  const auto otp_body = otp.json();
  const auto* code = otp_body.is_object() ? otp_body.as_object().if_contains("dev_code") : nullptr;
  if (code == nullptr || !code->is_string()) {
    throw ClientError("POST /v1/auth/otp: no dev_code (is the server in --dev mode?): " + otp.body);
  }
  const auto verify =
      http.post("/v1/auth/verify",
                {{"phone", phone}, {"code", code->as_string()}, {"device_name", device_name}});
  if (verify.status != 200) {
    throw ClientError("POST /v1/auth/verify: " + std::to_string(verify.status) + " " + verify.body);
  }
  const auto v = verify.json();
  if (!v.is_object()) throw ClientError("POST /v1/auth/verify: not an object: " + verify.body);
  const auto& obj = v.as_object();
  return {std::string(phone), string_field(obj, "user_id"), string_field(obj, "device_id"),
          string_field(obj, "token")};
}

Account add_device(HttpClient& http, const Account& account, std::string_view device_name) {
  return sign_up(http, account.phone, device_name);
}

json::object ws_auth(WsClient& ws, std::string_view token, std::optional<std::uint64_t> from_offset,
                     std::chrono::milliseconds timeout) {
  json::object frame{{"type", "auth"}, {"token", token}};
  if (from_offset) frame["from_offset"] = *from_offset;
  return ws.call(std::move(frame), timeout);
}

std::int64_t int_field(const json::object& obj, std::string_view key) {
  const auto* v = obj.if_contains(key);
  if (v != nullptr && v->is_int64()) return v->as_int64();
  if (v != nullptr && v->is_uint64() && v->as_uint64() <= INT64_MAX) {
    return static_cast<std::int64_t>(v->as_uint64());
  }
  throw ClientError("no integer field \"" + std::string(key) + "\" in " + json::serialize(obj));
}

std::string string_field(const json::object& obj, std::string_view key) {
  const auto* v = obj.if_contains(key);
  if (v != nullptr && v->is_string()) return std::string(v->as_string());
  throw ClientError("no string field \"" + std::string(key) + "\" in " + json::serialize(obj));
}

}  // namespace chat::client

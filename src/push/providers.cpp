// Request builders for webhook, FCM HTTP v1 and the APNs provider API.
//
// Why builders and nothing more: each function turns a target and a payload
// into an OutgoingRequest (url, headers, body) and does no I/O, so the exact
// bytes each provider gets are unit-tested, and the sender (HttpSender) stays
// one generic HTTP client. The only state is the two credentials that are
// expensive or rate-limited to mint: the FCM OAuth2 token (its caller keeps
// it until expiry) and the APNs provider token (ApnsTokenCache: Apple wants
// it reused for 20-60 minutes, and refuses tokens older than one hour).
//
// FCM data messages carry only string values, so every payload field is sent
// as its decimal or string form (a null preview is left out).
#include "push/providers.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <fstream>
#include <sstream>

#include "base/random.hpp"
#include "push/jwt.hpp"

namespace chat::push {
namespace json = boost::json;
namespace {

constexpr std::int64_t kApnsTokenReuseS = 50 * 60;
constexpr std::int64_t kFcmAssertionS = 3600;
constexpr char kFcmScope[] = "https://www.googleapis.com/auth/firebase.messaging";
constexpr char kDefaultTokenUri[] = "https://oauth2.googleapis.com/token";

Result<std::string> read_small_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return internal_error("cannot read " + path.string());
  std::ostringstream data;
  data << in.rdbuf();
  if (!in.good() && !in.eof()) return internal_error("cannot read " + path.string());
  return std::move(data).str();
}

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  return to_hex(mac, len);
}

std::string trim_slash(std::string_view base) {
  while (base.ends_with('/'))
    base.remove_suffix(1);
  return std::string(base);
}

json::object payload_object(const PushPayload& p) {
  return json::parse(payload_json(p)).as_object();
}

}  // namespace

OutgoingRequest webhook_request(const PushTarget& t, const PushPayload& p) {
  OutgoingRequest req;
  req.url = t.url;
  req.body = payload_json(p);
  req.headers.emplace_back("Content-Type", "application/json");
  if (!t.secret.empty()) {
    req.headers.emplace_back("X-Chatd-Signature", "sha256=" + hmac_sha256_hex(t.secret, req.body));
  }
  return req;
}

// ---- FCM ----

Result<ServiceAccount> ServiceAccount::load(const std::filesystem::path& json_file) {
  auto text = read_small_file(json_file);
  if (!text) return text.take_error();
  const std::string where = "FCM credentials " + json_file.string() + ": ";
  boost::system::error_code ec;
  json::value v = json::parse(*text, ec);
  if (ec || !v.is_object()) return bad_request(where + "not a JSON object");
  const auto& o = v.as_object();
  auto get = [&](std::string_view key) -> std::string {
    const auto* f = o.if_contains(key);
    return f && f->is_string() ? std::string(f->get_string()) : std::string();
  };
  ServiceAccount sa{get("client_email"), get("private_key"), get("token_uri"), get("project_id")};
  if (sa.token_uri.empty()) sa.token_uri = kDefaultTokenUri;
  if (sa.client_email.empty()) return bad_request(where + "missing client_email");
  if (sa.private_key_pem.empty()) return bad_request(where + "missing private_key");
  if (sa.project_id.empty()) return bad_request(where + "missing project_id");
  // Fail at start-up, not at the first push, if the key cannot sign.
  if (auto probe = sign_rs256("{}", "{}", sa.private_key_pem); !probe) {
    return bad_request(where + "private_key: " + probe.error().message);
  }
  return sa;
}

Result<OutgoingRequest> fcm_token_request(const ServiceAccount& sa, std::int64_t now_s) {
  json::object claims;
  claims["iss"] = sa.client_email;
  claims["scope"] = kFcmScope;
  claims["aud"] = sa.token_uri;
  claims["iat"] = now_s;
  claims["exp"] = now_s + kFcmAssertionS;
  auto jwt =
      sign_rs256(R"({"alg":"RS256","typ":"JWT"})", json::serialize(claims), sa.private_key_pem);
  if (!jwt) return jwt.take_error();
  OutgoingRequest req;
  req.url = sa.token_uri;
  req.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  // The JWT is base64url and dots: nothing in it needs percent-encoding.
  req.body = "grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=" + *jwt;
  return req;
}

Result<std::pair<std::string, std::int64_t>> parse_token_response(std::string_view body,
                                                                  std::int64_t now_s) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return bad_request("token response: not a JSON object");
  const auto& o = v.as_object();
  const auto* token = o.if_contains("access_token");
  if (!token || !token->is_string() || token->get_string().empty()) {
    return bad_request("token response: no access_token");
  }
  std::int64_t expires_in = 3600;
  if (const auto* e = o.if_contains("expires_in")) {
    if (e->is_int64()) {
      expires_in = e->get_int64();
    } else if (e->is_uint64()) {
      expires_in = static_cast<std::int64_t>(e->get_uint64());
    } else {
      return bad_request("token response: expires_in is not an integer");
    }
  }
  return std::pair{std::string(token->get_string()), now_s + expires_in};
}

OutgoingRequest fcm_send_request(std::string_view base_url, const ServiceAccount& sa,
                                 std::string_view access_token, const PushTarget& t,
                                 const PushPayload& p) {
  json::object data;
  for (const auto& [key, value] : payload_object(p)) {
    if (value.is_string()) {
      data[key] = value.get_string();
    } else if (value.is_uint64()) {
      data[key] = std::to_string(value.get_uint64());
    } else if (value.is_int64()) {
      data[key] = std::to_string(value.get_int64());
    }  // null (an absent preview): left out
  }
  json::object android;
  android["priority"] = p.type == PushPayload::Type::message ? "high" : "normal";
  android["collapse_key"] = p.chat_id;
  json::object message;
  message["token"] = t.token;
  message["data"] = std::move(data);
  message["android"] = std::move(android);
  json::object body;
  body["message"] = std::move(message);

  OutgoingRequest req;
  req.url = trim_slash(base_url) + "/v1/projects/" + sa.project_id + "/messages:send";
  req.headers.emplace_back("Authorization", "Bearer " + std::string(access_token));
  req.headers.emplace_back("Content-Type", "application/json");
  req.body = json::serialize(body);
  return req;
}

// ---- APNs ----

Result<ApnsKey> ApnsKey::load(const std::filesystem::path& p8, std::string key_id,
                              std::string team_id) {
  auto pem = read_small_file(p8);
  if (!pem) return pem.take_error();
  const std::string where = "APNs key " + p8.string() + ": ";
  if (key_id.empty()) return bad_request(where + "no key id (--apns-key-id)");
  if (team_id.empty()) return bad_request(where + "no team id (--apns-team-id)");
  if (auto probe = sign_es256("{}", "{}", *pem); !probe) {
    return bad_request(where + probe.error().message);
  }
  return ApnsKey{std::move(*pem), std::move(key_id), std::move(team_id)};
}

Result<std::string> ApnsTokenCache::token(std::int64_t now_s) {
  std::lock_guard lock(mutex_);
  const bool fresh = !token_.empty() && now_s >= issued_s_ && now_s - issued_s_ < kApnsTokenReuseS;
  if (fresh) return token_;
  json::object header;
  header["alg"] = "ES256";
  header["kid"] = key_.key_id;
  json::object claims;
  claims["iss"] = key_.team_id;
  claims["iat"] = now_s;
  auto jwt = sign_es256(json::serialize(header), json::serialize(claims), key_.pem);
  if (!jwt) return jwt.take_error();
  token_ = *jwt;
  issued_s_ = now_s;
  return token_;
}

OutgoingRequest apns_request(std::string_view base_url, std::string_view provider_token,
                             std::string_view default_topic, const PushTarget& t,
                             const PushPayload& p, std::int64_t now_s) {
  const bool message = p.type == PushPayload::Type::message;
  json::object aps;
  if (message) {
    json::object alert;
    alert["title"] = p.sender_name.empty() ? p.chat_title : p.sender_name;
    alert["body"] = p.preview ? *p.preview : std::string("New message");
    aps["alert"] = std::move(alert);
    aps["badge"] = p.unread;
    aps["thread-id"] = p.chat_id;
  } else {
    aps["content-available"] = 1;
  }
  json::object body;
  body["aps"] = std::move(aps);
  body["chatd"] = payload_object(p);

  OutgoingRequest req;
  req.url = trim_slash(base_url) + "/3/device/" + t.token;
  req.http2 = true;
  req.headers.emplace_back("authorization", "bearer " + std::string(provider_token));
  req.headers.emplace_back("apns-push-type", message ? "alert" : "background");
  const std::string_view topic = t.topic.empty() ? default_topic : std::string_view(t.topic);
  if (!topic.empty()) req.headers.emplace_back("apns-topic", std::string(topic));
  req.headers.emplace_back("apns-collapse-id", p.chat_id);
  req.headers.emplace_back("apns-expiration", std::to_string(now_s + 24 * 3600));
  req.headers.emplace_back("apns-priority", message ? "10" : "5");
  req.headers.emplace_back("content-type", "application/json");
  req.body = json::serialize(body);
  return req;
}

}  // namespace chat::push

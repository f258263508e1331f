// Push targets, payloads and response classification (PROTOCOL.md, "Push
// notifications").
//
// Why parse_target is strict: a target is stored and used later, from the
// push thread, long after the PUT that registered it. Anything that would
// make every future push fail (a key that is not on the curve, a URL curl
// cannot use, a token that would change the APNs request path, a header
// value with a line break) is refused at registration with a 400 naming the
// field, instead of turning into silent delivery failures.
//
// URLs are parsed here by a small strict parser rather than a URL library:
// push needs only "is this an absolute http(s) URL with a host" and its
// origin (the VAPID audience); the connect-time address check is HttpSender's.
#include "push/push_types.hpp"

#include <arpa/inet.h>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <array>
#include <cctype>
#include <span>

#include "push/http_sender.hpp"
#include "push/webpush.hpp"

namespace chat::push {
namespace json = boost::json;
namespace {

constexpr std::size_t kMaxUrl = 2048;
constexpr std::size_t kMaxToken = 4096;
constexpr std::size_t kMaxApnsToken = 200;
constexpr std::size_t kMaxTopic = 255;
constexpr std::size_t kMaxKey = 256;  // p256dh (87 chars) and auth (22) with room to spare

struct FieldSpec {
  std::string_view name;
  bool required;
  std::size_t max_len;
};

std::span<const FieldSpec> fields_of(TargetKind k) {
  static constexpr std::array<FieldSpec, 2> kWebhook{{{"url", true, kMaxUrl},  //
                                                      {"secret", false, kMaxToken}}};
  static constexpr std::array<FieldSpec, 3> kWebpush{
      {{"endpoint", true, kMaxUrl}, {"p256dh", true, kMaxKey}, {"auth", true, kMaxKey}}};
  static constexpr std::array<FieldSpec, 1> kFcm{{{"token", true, kMaxToken}}};
  static constexpr std::array<FieldSpec, 2> kApns{{{"token", true, kMaxApnsToken},  //
                                                   {"topic", false, kMaxTopic}}};
  switch (k) {
    case TargetKind::webhook:
      return kWebhook;
    case TargetKind::webpush:
      return kWebpush;
    case TargetKind::fcm:
      return kFcm;
    case TargetKind::apns:
      return kApns;
  }
  return {};
}

std::optional<TargetKind> kind_from_name(std::string_view s) {
  for (TargetKind k :
       {TargetKind::webhook, TargetKind::webpush, TargetKind::fcm, TargetKind::apns}) {
    if (kind_name(k) == s) return k;
  }
  return std::nullopt;
}

std::string* field_slot(PushTarget& t, std::string_view name) {
  if (name == "url") return &t.url;
  if (name == "secret") return &t.secret;
  if (name == "endpoint") return &t.endpoint;
  if (name == "p256dh") return &t.p256dh;
  if (name == "auth") return &t.auth;
  if (name == "token") return &t.token;
  if (name == "topic") return &t.topic;
  return nullptr;
}

const std::string& field_value(const PushTarget& t, std::string_view name) {
  return *field_slot(const_cast<PushTarget&>(t), name);
}

Error field_error(std::string_view name, std::string_view what) {
  return bad_request("field '" + std::string(name) + "' " + std::string(what));
}

bool all_of(std::string_view s, bool (*pred)(unsigned char)) {
  for (unsigned char c : s) {
    if (!pred(c)) return false;
  }
  return true;
}
bool visible_ascii(unsigned char c) {
  return c > 0x20 && c < 0x7f;
}
bool url_unreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

Result<json::object> parse_object(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return bad_request("malformed JSON: " + ec.message());
  if (!v.is_object()) return bad_request("expected a JSON object");
  return std::move(v.as_object());
}

Result<TargetKind> read_kind(const json::object& o) {
  auto it = o.find("kind");
  if (it == o.end()) return bad_request("missing field 'kind'");
  if (!it->value().is_string()) return field_error("kind", "must be a string");
  auto k = kind_from_name(it->value().get_string());
  if (!k) return field_error("kind", "must be \"webhook\", \"webpush\", \"fcm\" or \"apns\"");
  return *k;
}

// The host of an origin ("https://[::1]:8443" -> "::1").
std::string host_of_origin(std::string_view origin) {
  origin.remove_prefix(origin.find("://") + 3);
  if (origin.starts_with('[')) return std::string(origin.substr(1, origin.find(']') - 1));
  return std::string(origin.substr(0, origin.find(':')));
}

// A URL must be https:// (http:// only when private targets are allowed).
// Without that permission, a host written as a non-public IP address, or
// "localhost", is refused here at once; names are checked again after DNS
// resolution at every connect (HttpSender), which is what stops rebinding.
Status check_url(std::string_view name, std::string_view url, bool allow_http) {
  const auto origin = http_origin(url);
  const bool https = origin && origin->starts_with("https://");
  if (!origin || (!https && !allow_http)) {
    return field_error(name, allow_http ? "must be an http:// or https:// URL with a host"
                                        : "must be an https:// URL with a host");
  }
  if (!allow_http) {
    const std::string host = host_of_origin(*origin);
    unsigned char ip[16];
    const bool literal =
        inet_pton(AF_INET, host.c_str(), ip) == 1 || inet_pton(AF_INET6, host.c_str(), ip) == 1;
    if (host == "localhost" || (literal && !HttpSender::is_public_address(host))) {
      return field_error(name, "must not name a loopback, private or link-local address");
    }
  }
  return ok_status();
}

Status check_values(const PushTarget& t, bool allow_http) {
  switch (t.kind) {
    case TargetKind::webhook:
      return check_url("url", t.url, allow_http);
    case TargetKind::webpush: {
      if (auto s = check_url("endpoint", t.endpoint, allow_http); !s) return s;
      auto key = base64url_decode(t.p256dh);
      if (!key || !detail::valid_p256_point(*key)) {
        return field_error("p256dh", "must be a base64url uncompressed P-256 public key");
      }
      auto auth = base64url_decode(t.auth);
      if (!auth || auth->size() != 16) {
        return field_error("auth", "must be 16 bytes, base64url-encoded");
      }
      return ok_status();
    }
    case TargetKind::fcm:
      if (t.token.empty() || !all_of(t.token, visible_ascii)) {
        return field_error("token", "must be a non-empty token without spaces");
      }
      return ok_status();
    case TargetKind::apns:
      // The token goes into the request path: letters, digits and -._~ only.
      if (t.token.empty() || !all_of(t.token, url_unreserved)) {
        return field_error("token", "must be a non-empty device token (hex)");
      }
      if (!all_of(t.topic, visible_ascii)) {
        return field_error("topic", "must be a bundle id without spaces");
      }
      return ok_status();
  }
  return ok_status();
}

bool is_ipv6_char(unsigned char c) {
  return std::isxdigit(c) || c == ':' || c == '.';
}
bool is_host_char(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '.' || c == '_';
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::string_view kind_name(TargetKind k) {
  switch (k) {
    case TargetKind::webhook:
      return "webhook";
    case TargetKind::webpush:
      return "webpush";
    case TargetKind::fcm:
      return "fcm";
    case TargetKind::apns:
      return "apns";
  }
  return "?";
}

std::optional<std::string> http_origin(std::string_view url) {
  if (!all_of(url, visible_ascii)) return std::nullopt;
  const auto sep = url.find("://");
  if (sep == std::string_view::npos) return std::nullopt;
  const std::string scheme = lower(url.substr(0, sep));
  if (scheme != "http" && scheme != "https") return std::nullopt;
  std::string_view authority = url.substr(sep + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (authority.find('@') != std::string_view::npos) return std::nullopt;  // no credentials

  std::string_view host, port;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos || close < 3) return std::nullopt;
    if (!all_of(authority.substr(1, close - 1), is_ipv6_char)) return std::nullopt;
    host = authority.substr(0, close + 1);
    port = authority.substr(close + 1);
  } else {
    const auto colon = authority.find(':');
    host = authority.substr(0, colon);
    port = colon == std::string_view::npos ? std::string_view{} : authority.substr(colon);
    if (host.empty() || !all_of(host, is_host_char)) return std::nullopt;
  }
  std::string origin = scheme + "://" + lower(host);
  if (!port.empty()) {
    port.remove_prefix(1);  // ':'
    if (port.empty() || port.size() > 5 ||
        !all_of(port, [](unsigned char c) -> bool { return std::isdigit(c); })) {
      return std::nullopt;
    }
    const unsigned number = static_cast<unsigned>(std::stoul(std::string(port)));
    if (number == 0 || number > 65535) return std::nullopt;
    if (number != (scheme == "https" ? 443u : 80u)) origin += ':' + std::to_string(number);
  }
  return origin;
}

Result<PushTarget> parse_target(std::string_view text, bool allow_http) {
  auto object = parse_object(text);
  if (!object) return object.take_error();
  auto kind = read_kind(*object);
  if (!kind) return kind.take_error();
  PushTarget t;
  t.kind = *kind;
  const auto specs = fields_of(t.kind);
  for (const auto& [key, value] : *object) {
    if (key == "kind") continue;
    const FieldSpec* spec = nullptr;
    for (const auto& f : specs) {
      if (f.name == key) spec = &f;
    }
    if (!spec) return bad_request("unknown field '" + std::string(key) + "'");
    if (value.is_null() && !spec->required) continue;
    if (!value.is_string()) return field_error(key, "must be a string");
    const auto& s = value.get_string();
    if (s.size() > spec->max_len) {
      return field_error(key, "is too long (at most " + std::to_string(spec->max_len) + ")");
    }
    *field_slot(t, key) = std::string(s);
  }
  for (const auto& f : specs) {
    if (f.required && !object->contains(f.name)) {
      return bad_request("missing field '" + std::string(f.name) + "'");
    }
  }
  if (auto s = check_values(t, allow_http); !s) return s.take_error();
  return t;
}

std::string target_to_json(const PushTarget& t) {
  json::object o;
  o["kind"] = kind_name(t.kind);
  for (const auto& f : fields_of(t.kind))
    o[f.name] = field_value(t, f.name);
  return json::serialize(o);
}

Result<PushTarget> target_from_json(std::string_view text) {
  auto object = parse_object(text);
  if (!object) return object.take_error();
  auto kind = read_kind(*object);
  if (!kind) return kind.take_error();
  PushTarget t;
  t.kind = *kind;
  for (const auto& f : fields_of(t.kind)) {
    auto it = object->find(f.name);
    if (it == object->end() || it->value().is_null()) continue;
    if (!it->value().is_string()) return field_error(f.name, "must be a string");
    *field_slot(t, f.name) = std::string(it->value().get_string());
  }
  return t;
}

std::string payload_json(const PushPayload& p) {
  json::object o;
  if (p.type == PushPayload::Type::clear) {
    o["type"] = "clear";
    o["user_id"] = p.user_id;
    o["device_id"] = p.device_id;
    o["chat_id"] = p.chat_id;
    o["up_to_seq"] = p.seq;
    o["unread"] = p.unread;
    return json::serialize(o);
  }
  o["type"] = "message";
  o["user_id"] = p.user_id;
  o["device_id"] = p.device_id;
  o["chat_id"] = p.chat_id;
  o["seq"] = p.seq;
  o["message_id"] = p.message_id;
  o["sender"] = p.sender;
  o["sender_name"] = p.sender_name;
  o["chat_title"] = p.chat_title;
  if (p.preview) {
    o["preview"] = *p.preview;
  } else {
    o["preview"] = nullptr;
  }
  o["unread"] = p.unread;
  o["ts"] = p.ts;
  return json::serialize(o);
}

std::string preview_of(std::string_view body, std::size_t n) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < body.size(); ++i) {
    const auto c = static_cast<unsigned char>(body[i]);
    if ((c & 0xc0) == 0x80) continue;  // continuation byte
    if (count == n) return std::string(body.substr(0, i));
    ++count;
  }
  return std::string(body);
}

Outcome classify(TargetKind kind, const PushResponse& r) {
  if (r.status == 0) return r.error == "blocked address" ? Outcome::failed : Outcome::retry;
  if (r.status >= 200 && r.status < 300) return Outcome::sent;
  if (r.status == 429 || (r.status >= 500 && r.status < 600)) return Outcome::retry;
  if (r.status == 404 || r.status == 410) return Outcome::gone;
  if (kind == TargetKind::fcm && r.body.find("UNREGISTERED") != std::string::npos) {
    return Outcome::gone;
  }
  if (kind == TargetKind::apns && r.status == 400) {
    boost::system::error_code ec;
    const json::value v = json::parse(r.body, ec);
    if (!ec && v.is_object()) {
      const auto* reason = v.as_object().if_contains("reason");
      if (reason && reason->is_string() && reason->get_string() == "BadDeviceToken") {
        return Outcome::gone;
      }
    }
  }
  return Outcome::failed;
}

}  // namespace chat::push

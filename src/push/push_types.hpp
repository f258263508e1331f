// The vocabulary of push (PROTOCOL.md, "Push notifications"): a device's
// target, the payload every kind carries, and an HTTP request ready to send.
// Plain structs: core/ stores targets as JSON, push/ turns payloads into
// requests, net/ sends them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/result.hpp"

namespace chat::push {

enum class TargetKind { webhook, webpush, fcm, apns };

std::string_view kind_name(TargetKind k);  // "webhook", "webpush", "fcm", "apns"

struct PushTarget {
  TargetKind kind = TargetKind::webhook;
  std::string url, secret;             // webhook (secret optional)
  std::string endpoint, p256dh, auth;  // webpush (PushSubscription; keys base64url)
  std::string token, topic;            // fcm (token), apns (token, topic optional)
};

// Parses and validates a PUT /v1/devices/{id}/push body. URLs must be https://
// unless `allow_http` (dev / --push-allow-private); the address check happens
// at connect time (see HttpSender), not here. Errors are bad_request naming
// the field.
Result<PushTarget> parse_target(std::string_view json, bool allow_http);
// The origin of an http(s) URL, "<scheme>://<host>[:port]" (lowercase; the
// scheme's default port left out), or nullopt when `url` is not an absolute
// http:// or https:// URL with a host (no credentials, no spaces or controls).
std::optional<std::string> http_origin(std::string_view url);
// Storage form (JSON, all fields) and back.
std::string target_to_json(const PushTarget& t);
Result<PushTarget> target_from_json(std::string_view json);

// The plaintext of every push, message or clear (PROTOCOL.md).
struct PushPayload {
  enum class Type { message, clear } type = Type::message;
  std::string user_id, device_id, chat_id;
  std::uint64_t seq = 0;  // message: the newest message pushed; clear: up_to_seq
  std::string message_id, sender, sender_name, chat_title;
  std::optional<std::string> preview;  // null when previews are off
  std::uint64_t unread = 0;
  std::int64_t ts = 0;
};
// {"type":"message",...} / {"type":"clear",...} exactly as PROTOCOL.md lists them.
std::string payload_json(const PushPayload& p);
// The first `n` code points of a UTF-8 body (never splits a sequence).
std::string preview_of(std::string_view body, std::size_t n = 100);

struct OutgoingRequest {
  std::string method = "POST";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool http2 = false;  // APNs: HTTP/2 only
};

struct PushResponse {
  int status = 0;     // 0: no HTTP answer (transport error in `error`)
  std::string error;  // curl's message, or "blocked address" (SSRF guard)
  std::string body;
  std::optional<std::int64_t> retry_after_ms;  // from Retry-After (seconds or HTTP date)
};

// What to do with a response (PROTOCOL.md, Delivery): done, retry later
// (timeouts, connection errors, 429, 5xx), or the target is gone (404/410,
// FCM UNREGISTERED, APNs 410) and must be removed. Anything else: failed for
// good (dropped, counted).
enum class Outcome { sent, retry, gone, failed };
Outcome classify(TargetKind kind, const PushResponse& r);

}  // namespace chat::push

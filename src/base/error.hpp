// The protocol's error vocabulary, shared by every layer.
//
// `core/` reports failures as an `Error` (a code from PROTOCOL.md plus a human
// message); `net/` maps the code to an HTTP status or a WebSocket `error` frame.
// Keeping the list here, not in `net/`, lets the domain speak the protocol's
// language without knowing about HTTP.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace chat {

enum class ErrorCode : std::uint8_t {
  bad_request,   // 400: malformed or invalid input
  unauthorized,  // 401: missing, bad or revoked credentials; wrong OTP
  forbidden,     // 403: authenticated, but not allowed (e.g. non-admin)
  not_found,     // 404: absent, or not visible to the caller (no existence leak)
  conflict,      // 409
  too_large,     // 413: body, frame or field over its limit
  unsupported,   // 415: a media type that is not what it claims (PROTOCOL.md, Media)
  rate_limited,  // 429: carries retry_after_ms
  unavailable,   // 503
  internal,      // 500
};

std::string_view code_name(ErrorCode code);
int http_status(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::internal;
  std::string message;
  std::int64_t retry_after_ms = 0;  // only for rate_limited
};

inline Error bad_request(std::string m) {
  return {ErrorCode::bad_request, std::move(m)};
}
inline Error unauthorized(std::string m) {
  return {ErrorCode::unauthorized, std::move(m)};
}
inline Error forbidden(std::string m) {
  return {ErrorCode::forbidden, std::move(m)};
}
inline Error not_found(std::string m) {
  return {ErrorCode::not_found, std::move(m)};
}
inline Error too_large(std::string m) {
  return {ErrorCode::too_large, std::move(m)};
}
inline Error unsupported(std::string m) {
  return {ErrorCode::unsupported, std::move(m)};
}
inline Error unavailable(std::string m) {
  return {ErrorCode::unavailable, std::move(m)};
}
inline Error internal_error(std::string m) {
  return {ErrorCode::internal, std::move(m)};
}

}  // namespace chat

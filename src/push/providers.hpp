// Requests for the other kinds: webhook (JSON + optional HMAC signature), FCM
// HTTP v1 (OAuth2 token from a service account; data message), APNs provider
// API (token auth, HTTP/2).
#pragma once

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>

#include "base/result.hpp"
#include "push/push_types.hpp"

namespace chat::push {

// POST the payload JSON; with a secret, X-Chatd-Signature: sha256=<hex HMAC>.
OutgoingRequest webhook_request(const PushTarget& t, const PushPayload& p);

// A Google service-account file (the JSON with client_email, private_key,
// token_uri, project_id).
struct ServiceAccount {
  std::string client_email, private_key_pem, token_uri, project_id;
  static Result<ServiceAccount> load(const std::filesystem::path& json_file);
};

// The OAuth2 token request: POST token_uri with
// grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<RS256 JWT>
// (iss = client_email, scope = firebase.messaging, aud = token_uri, 1 h).
Result<OutgoingRequest> fcm_token_request(const ServiceAccount& sa, std::int64_t now_s);
// Parses {"access_token","expires_in",...}: the token and its expiry (s).
Result<std::pair<std::string, std::int64_t>> parse_token_response(std::string_view body,
                                                                  std::int64_t now_s);
// POST <base>/v1/projects/<project>/messages:send with Bearer <access_token>,
// {"message":{"token":...,"data":{...payload fields as strings...},
//  "android":{"priority":"high","collapse_key":<chat_id>}}}.
OutgoingRequest fcm_send_request(std::string_view base_url, const ServiceAccount& sa,
                                 std::string_view access_token, const PushTarget& t,
                                 const PushPayload& p);

// APNs token auth: the .p8 key (PEM EC), key id, team id.
struct ApnsKey {
  std::string pem, key_id, team_id;
  static Result<ApnsKey> load(const std::filesystem::path& p8, std::string key_id,
                              std::string team_id);
};
// The provider token (ES256 JWT, iss = team, iat = now), reused for 50 min.
class ApnsTokenCache {
 public:
  explicit ApnsTokenCache(ApnsKey key) : key_(std::move(key)) {}
  Result<std::string> token(std::int64_t now_s);

 private:
  ApnsKey key_;
  std::mutex mutex_;
  std::string token_;
  std::int64_t issued_s_ = 0;
};
// POST <base>/3/device/<token>, HTTP/2, authorization: bearer <jwt>,
// apns-push-type (alert for messages; background for clears), apns-topic
// (the target's topic or `default_topic`), apns-collapse-id (the chat id),
// apns-expiration (now + 24 h), apns-priority; body {"aps":{...},"chatd":payload}.
OutgoingRequest apns_request(std::string_view base_url, std::string_view provider_token,
                             std::string_view default_topic, const PushTarget& t,
                             const PushPayload& p, std::int64_t now_s);

}  // namespace chat::push

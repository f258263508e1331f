// Signed media URLs: /v1/media/{id}?exp=<ms>&sig=<hex> lets a browser <img> or
// <audio> fetch media without a bearer header. sig = HMAC-SHA256(secret,
// id "\n" variant "\n" exp), lowercase hex; the secret is 32 random bytes kept
// in the data dir (0600), made at first start, so URLs survive a restart.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>

namespace chat::media {

enum class Variant { original, thumbnail };

class UrlSigner {
 public:
  explicit UrlSigner(std::string secret) : secret_(std::move(secret)) {}
  // Reads the secret from `path`, or creates it (mode 0600).
  static UrlSigner load_or_create(const std::filesystem::path& path);

  std::string sign(std::string_view media_id, Variant v, std::int64_t exp_ms) const;
  // Constant-time comparison; false also for a malformed signature. Expiry is
  // the caller's check (it knows the clock).
  bool verify(std::string_view media_id, Variant v, std::int64_t exp_ms,
              std::string_view sig_hex) const;

 private:
  std::string secret_;
};

}  // namespace chat::media

// Web Push (RFC 8030 delivery, RFC 8291 message encryption, RFC 8188
// aes128gcm content coding, RFC 8292 VAPID), with OpenSSL.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.hpp"
#include "push/push_types.hpp"

namespace chat::push {

std::string base64url_encode(std::string_view bytes);
Result<std::string> base64url_decode(std::string_view text);

// RFC 8291 section 3 + RFC 8188: encrypts `plaintext` for a subscription
// (`ua_public`: the 65-byte uncompressed P-256 point from p256dh; `auth`: 16
// bytes) into an aes128gcm body (header with salt, rs = 4096, keyid = the
// sender's public key; one record, padding delimiter 0x02). `as_private` (32
// bytes) and `salt` (16 bytes) are inputs so tests can reproduce RFC 8291
// Appendix A byte for byte; production passes fresh random ones.
Result<std::string> encrypt_aes128gcm(std::string_view plaintext, std::string_view ua_public,
                                      std::string_view auth, std::string_view as_private,
                                      std::string_view salt);
// The same with a fresh ephemeral key pair and salt.
Result<std::string> encrypt_for(std::string_view plaintext, std::string_view ua_public,
                                std::string_view auth);

// The server's VAPID key pair (P-256), made at first start and kept in the
// data dir (PEM, 0600).
class VapidKey {
 public:
  static VapidKey load_or_create(const std::filesystem::path& pem_path);
  // The uncompressed public point, base64url (GET /v1/push/vapid, and `k=`).
  const std::string& public_key_b64() const { return public_b64_; }
  // `vapid t=<ES256 JWT>, k=<public key>` for `endpoint`'s origin, valid until
  // `now_s + 12 h` (at most 24 h per RFC 8292), `sub` = `contact`. The header
  // is cached per origin and contact and handed out again while more than 1 h
  // of its validity is left (so `exp` is then that of the cached token).
  // Thread-safe.
  std::string authorization(std::string_view endpoint, std::string_view contact,
                            std::int64_t now_s) const;
  ~VapidKey();
  VapidKey(VapidKey&&) noexcept;
  VapidKey& operator=(VapidKey&&) noexcept;

 private:
  struct AuthCache;  // signed headers per (origin, contact); in webpush.cpp
  VapidKey() = default;
  void* pkey_ = nullptr;  // EVP_PKEY*
  std::string public_b64_;
  std::unique_ptr<AuthCache> cache_;
};

namespace detail {
// RFC 8188 aes128gcm with the input keying material given directly (as in the
// RFC's section 3.1 example): one record of at most `rs` bytes, padding
// delimiter 0x02, header salt | rs | idlen | keyid. `salt` is 16 bytes.
Result<std::string> ece_encrypt(std::string_view plaintext, std::string_view ikm,
                                std::string_view salt, std::uint32_t rs, std::string_view keyid);
// The reverse (any number of records); bad_request when the body does not
// authenticate or is malformed.
Result<std::string> ece_decrypt(std::string_view body, std::string_view ikm);
// The user agent's side of RFC 8291: decrypts a Web Push body with the
// subscription's private key (32 bytes), public point (65 bytes) and auth
// secret. For tests and test receivers.
Result<std::string> webpush_decrypt(std::string_view body, std::string_view ua_private,
                                    std::string_view ua_public, std::string_view auth);
// Whether `point` is a 65-byte uncompressed point on P-256.
bool valid_p256_point(std::string_view point);
}  // namespace detail

// The full request: encrypted body, Content-Encoding: aes128gcm, TTL, Urgency
// (high for messages, normal for clears), VAPID Authorization.
Result<OutgoingRequest> webpush_request(const PushTarget& t, const PushPayload& p,
                                        const VapidKey& vapid, std::string_view contact,
                                        std::int64_t now_s);

}  // namespace chat::push

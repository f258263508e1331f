// Compact JWS for the push providers: ES256 (VAPID, APNs; the raw r||s
// signature form, not DER) and RS256 (Google OAuth2 service accounts).
#pragma once

#include <string>
#include <string_view>

#include "base/result.hpp"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY

namespace chat::push {

// header.payload.signature, each base64url; `header_json` / `claims_json` are
// given as JSON text. `pem_private_key` is a PKCS#8 or SEC1 EC key (ES256) or
// an RSA key (RS256).
Result<std::string> sign_es256(std::string_view header_json, std::string_view claims_json,
                               std::string_view pem_private_key);
Result<std::string> sign_rs256(std::string_view header_json, std::string_view claims_json,
                               std::string_view pem_private_key);

namespace detail {
// sign_es256 with a key already loaded (an EC P-256 EVP_PKEY), for callers
// that keep one (VapidKey).
Result<std::string> sign_es256_key(std::string_view header_json, std::string_view claims_json,
                                   evp_pkey_st* key);
}  // namespace detail

}  // namespace chat::push

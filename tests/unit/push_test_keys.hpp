// Keys and JWT checks for the push unit tests, with OpenSSL directly: a
// token is checked the way a provider checks it, from the public key only (an
// ES256 r||s signature turned back into DER), so one that merely looks right
// does not pass. Shared by push_crypto_test.cpp and push_requests_test.cpp.
#pragma once

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <boost/json.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "push/webpush.hpp"
#include "test_json.hpp"

namespace chat::push::test_keys {
namespace json = boost::json;

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

inline std::string b64(std::string_view text) {
  auto r = base64url_decode(text);
  EXPECT_TRUE(r.ok()) << text;
  return r.ok() ? *r : std::string();
}

inline Pkey ec_key() {
  return Pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
}
inline Pkey rsa_key() {
  return Pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(2048)));
}

inline std::string pem_of(EVP_PKEY* key, bool traditional = false) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (traditional) {
    PEM_write_bio_PrivateKey_traditional(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  } else {
    PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(len));
  BIO_free(bio);
  return pem;
}

// The raw private scalar (32 bytes) and uncompressed public point (65 bytes).
inline std::pair<std::string, std::string> raw_ec(EVP_PKEY* key) {
  BIGNUM* d = nullptr;
  EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_PRIV_KEY, &d);
  std::string priv(32, '\0');
  BN_bn2binpad(d, reinterpret_cast<unsigned char*>(priv.data()), 32);
  BN_clear_free(d);
  std::string pub(65, '\0');
  std::size_t len = 0;
  EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
                                  reinterpret_cast<unsigned char*>(pub.data()), pub.size(), &len);
  pub.resize(len);
  return {priv, pub};
}

inline std::vector<std::string> split_jwt(std::string_view jwt) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    auto dot = jwt.find('.', start);
    parts.emplace_back(jwt.substr(start, dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return parts;
}

inline json::object jwt_json(std::string_view jwt, int part) {
  return test::parse_json_object(b64(split_jwt(jwt).at(part)));
}

// Verifies a compact JWS with the public half of `key`; ES256 signatures
// (r||s) are turned back into DER for OpenSSL.
inline bool verify_jwt(std::string_view jwt, EVP_PKEY* key, bool es256) {
  auto parts = split_jwt(jwt);
  if (parts.size() != 3) return false;
  const std::string input = parts[0] + "." + parts[1];
  std::string sig = b64(parts[2]);
  if (es256) {
    if (sig.size() != 64) return false;
    ECDSA_SIG* s = ECDSA_SIG_new();
    const auto* raw = reinterpret_cast<const unsigned char*>(sig.data());
    ECDSA_SIG_set0(s, BN_bin2bn(raw, 32, nullptr), BN_bin2bn(raw + 32, 32, nullptr));
    unsigned char* der = nullptr;
    int len = i2d_ECDSA_SIG(s, &der);
    sig.assign(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
    OPENSSL_free(der);
    ECDSA_SIG_free(s);
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok =
      EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
      EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

}  // namespace chat::push::test_keys

// Compact JWS signing with OpenSSL 3's EVP interface.
//
// Why the conversion: OpenSSL signs ECDSA in DER (a SEQUENCE of two INTEGERs
// of varying length), while JWS ES256 (RFC 7518 section 3.4) wants the fixed
// 64-byte r || s; a DER signature in a JWT is rejected by every verifier. RSA
// (RS256, PKCS#1 v1.5) signatures go out as they are.
//
// The key's type is checked before signing, so a misconfigured file (an RSA
// key given for APNs, say) fails with a clear message instead of producing a
// token the provider refuses.
#include "push/jwt.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <memory>

#include "push/webpush.hpp"

namespace chat::push {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
struct SigFree {
  void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

Result<Pkey> read_private_key(std::string_view pem) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return internal_error("out of memory");
  Pkey key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return bad_request("not a PEM private key");
  return key;
}

bool is_p256(EVP_PKEY* key) {
  if (!EVP_PKEY_is_a(key, "EC")) return false;
  char group[64] = {};
  std::size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len) !=
      1) {
    return false;
  }
  return std::string_view(group, len) == "prime256v1";
}

// SHA-256 signature of `input` in OpenSSL's native form (DER for ECDSA).
Result<std::string> digest_sign(EVP_PKEY* key, std::string_view input) {
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  if (!ctx) return internal_error("out of memory");
  if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1) {
    return internal_error("EVP_DigestSignInit failed");
  }
  const auto* data = reinterpret_cast<const unsigned char*>(input.data());
  std::size_t len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &len, data, input.size()) != 1) {
    return internal_error("EVP_DigestSign failed");
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, data,
                     input.size()) != 1) {
    return internal_error("EVP_DigestSign failed");
  }
  sig.resize(len);
  return sig;
}

// DER ECDSA-Sig-Value -> the JOSE form: r and s, each left-padded to 32 bytes.
Result<std::string> der_to_jose(std::string_view der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  std::unique_ptr<ECDSA_SIG, SigFree> sig(
      d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) return internal_error("cannot parse the ECDSA signature");
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string out(64, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  if (BN_bn2binpad(r, o, 32) != 32 || BN_bn2binpad(s, o + 32, 32) != 32) {
    return internal_error("ECDSA signature out of range");
  }
  return out;
}

std::string signing_input(std::string_view header_json, std::string_view claims_json) {
  return base64url_encode(header_json) + '.' + base64url_encode(claims_json);
}

}  // namespace

namespace detail {

Result<std::string> sign_es256_key(std::string_view header_json, std::string_view claims_json,
                                   evp_pkey_st* key) {
  if (!key || !is_p256(key)) return bad_request("ES256 needs an EC P-256 private key");
  std::string input = signing_input(header_json, claims_json);
  auto der = digest_sign(key, input);
  if (!der) return der.take_error();
  auto jose = der_to_jose(*der);
  if (!jose) return jose.take_error();
  return input + '.' + base64url_encode(*jose);
}

}  // namespace detail

Result<std::string> sign_es256(std::string_view header_json, std::string_view claims_json,
                               std::string_view pem_private_key) {
  auto key = read_private_key(pem_private_key);
  if (!key) return key.take_error();
  return detail::sign_es256_key(header_json, claims_json, key->get());
}

Result<std::string> sign_rs256(std::string_view header_json, std::string_view claims_json,
                               std::string_view pem_private_key) {
  auto key = read_private_key(pem_private_key);
  if (!key) return key.take_error();
  if (!EVP_PKEY_is_a(key->get(), "RSA")) return bad_request("RS256 needs an RSA private key");
  std::string input = signing_input(header_json, claims_json);
  auto sig = digest_sign(key->get(), input);  // RSA default padding: PKCS#1 v1.5
  if (!sig) return sig.take_error();
  return input + '.' + base64url_encode(*sig);
}

}  // namespace chat::push

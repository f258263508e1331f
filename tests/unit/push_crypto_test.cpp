// push/ crypto: base64url, RFC 8291 / RFC 8188 encryption (byte for byte
// against the RFCs' examples), VAPID keys and tokens, ES256 and RS256 JWTs.
//
// Signatures are checked the way a provider checks them: with OpenSSL, from
// the public key only (an ES256 r||s signature converted back to DER), so a
// token that merely looks right does not pass.
#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/encoder.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "push/jwt.hpp"
#include "push/webpush.hpp"
#include "push_test_keys.hpp"
#include "test_json.hpp"

namespace chat::push {
namespace {
namespace json = boost::json;

using namespace test_keys;

std::string random_bytes(std::size_t n) {
  std::string s(n, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(s.data()), static_cast<int>(n));
  return s;
}

// A P-256 public key from its uncompressed point, the way a push service sees it.
Pkey public_from_point(const std::string& point) {
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
  OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr);
  EVP_PKEY* key = nullptr;
  EVP_PKEY_fromdata_init(ctx);
  EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params);
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  return Pkey(key);
}

std::filesystem::path temp_dir() {
  static int n = 0;
  auto dir = std::filesystem::temp_directory_path() /
             ("chatd-push-crypto-" + std::to_string(::getpid()) + "-" + std::to_string(++n));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// ---- RFC vectors ----

// RFC 8291, Appendix A.
constexpr char kPlaintext[] = "When I grow up, I want to be a watermelon";
constexpr char kAsPrivate[] = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw";
constexpr char kAsPublic[] =
    "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8";
constexpr char kUaPrivate[] = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94";
constexpr char kUaPublic[] =
    "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
constexpr char kAuth[] = "BTBZMqHH6r4Tts7J_aSIgg";
constexpr char kSalt[] = "DGv6ra1nlYgDCS1FRnbzlw";
constexpr char kBody[] =
    "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6T"
    "lzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_"
    "Qulcy4a"
    "-fN";

// RFC 8188, section 3.1 (one record) and 3.2 (two records, key id "a1").
constexpr char kWalrusKey[] = "yqdlZ-tYemfogSmv7Ws5PQ";
constexpr char kWalrusSalt[] = "I1BsxtFttlv3u_Oo94xnmw";
constexpr char kWalrusBody[] =
    "I1BsxtFttlv3u_Oo94xnmwAAEAAA-NAVub2qFgBEuQKRapoZu-IxkIva3MEB1PD-ly8Thjg";
constexpr char kWalrus2Key[] = "BO3ZVPxUlnLORbVGMpbT1Q";
constexpr char kWalrus2Body[] =
    "uNCkWiNYzKTnBN9ji3-qWAAAABkCYTHOG8chz_"
    "gnvgOqdGYovxyjuqRyJFjEDyoF1Fvkj6hQPdPHI51OEUKEpgz3SsLWIqS_"
    "uA";

// ---- base64url ----

TEST(Base64Url, RoundTripsEveryLength) {
  std::string bytes;
  for (int i = 0; i < 70; ++i) {
    auto decoded = base64url_decode(base64url_encode(bytes));
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(*decoded, bytes);
    bytes += static_cast<char>(i * 37 + 251);
  }
}

TEST(Base64Url, UsesTheUrlAlphabetWithoutPadding) {
  EXPECT_EQ(base64url_encode(""), "");
  EXPECT_EQ(base64url_encode("f"), "Zg");
  EXPECT_EQ(base64url_encode("fo"), "Zm8");
  EXPECT_EQ(base64url_encode("foo"), "Zm9v");
  EXPECT_EQ(base64url_encode("\xfb\xff\xbf"), "-_-_");
}

TEST(Base64Url, DecodesOptionalPaddingAndRefusesOtherAlphabets) {
  EXPECT_EQ(*base64url_decode("Zg=="), "f");
  EXPECT_EQ(*base64url_decode("Zm8="), "fo");
  EXPECT_EQ(*base64url_decode("-_-_"), "\xfb\xff\xbf");
  EXPECT_FALSE(base64url_decode("+/+/").ok());
  EXPECT_FALSE(base64url_decode("Zm 9v").ok());
  EXPECT_FALSE(base64url_decode("Zm9vY").ok());  // 1 mod 4: not a length base64 produces
  EXPECT_EQ(base64url_decode("a*b").error().code, ErrorCode::bad_request);
}

// ---- RFC 8291 / RFC 8188 ----

TEST(WebPushEncryption, ReproducesRfc8291AppendixAByteForByte) {
  auto body =
      encrypt_aes128gcm(kPlaintext, b64(kUaPublic), b64(kAuth), b64(kAsPrivate), b64(kSalt));
  ASSERT_TRUE(body.ok()) << body.error().message;
  EXPECT_EQ(base64url_encode(*body), kBody);
  // The header: salt, rs = 4096, idlen = 65, keyid = the application server's public key.
  EXPECT_EQ(body->substr(0, 16), b64(kSalt));
  EXPECT_EQ(body->substr(16, 4), std::string("\x00\x00\x10\x00", 4));
  EXPECT_EQ(static_cast<unsigned char>((*body)[20]), 65);
  EXPECT_EQ(body->substr(21, 65), b64(kAsPublic));
  // One record: plaintext + delimiter + 16-byte tag.
  EXPECT_EQ(body->size(), 86 + sizeof(kPlaintext) - 1 + 1 + 16);
}

TEST(WebPushEncryption, TheUserAgentDecryptsRfc8291AppendixA) {
  auto plain = detail::webpush_decrypt(b64(kBody), b64(kUaPrivate), b64(kUaPublic), b64(kAuth));
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  EXPECT_EQ(*plain, kPlaintext);
}

TEST(WebPushEncryption, Rfc8188Section31EncryptsAndDecrypts) {
  auto plain = detail::ece_decrypt(b64(kWalrusBody), b64(kWalrusKey));
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  EXPECT_EQ(*plain, "I am the walrus");

  auto body = detail::ece_encrypt("I am the walrus", b64(kWalrusKey), b64(kWalrusSalt), 4096, "");
  ASSERT_TRUE(body.ok()) << body.error().message;
  EXPECT_EQ(base64url_encode(*body), kWalrusBody);
}

TEST(WebPushEncryption, Rfc8188Section32DecryptsTwoPaddedRecords) {
  const std::string body = b64(kWalrus2Body);
  EXPECT_EQ(body.substr(16, 4), std::string("\x00\x00\x00\x19", 4));  // rs = 25
  EXPECT_EQ(body.substr(20, 3), std::string("\x02"
                                            "a1"));
  auto plain = detail::ece_decrypt(body, b64(kWalrus2Key));
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  EXPECT_EQ(*plain, "I am the walrus");
}

TEST(WebPushEncryption, RefusesATamperedBodyOrTheWrongKey) {
  std::string body = b64(kBody);
  body[100] ^= 1;
  EXPECT_FALSE(detail::webpush_decrypt(body, b64(kUaPrivate), b64(kUaPublic), b64(kAuth)).ok());
  std::string auth = b64(kAuth);
  auth[0] ^= 1;
  EXPECT_FALSE(detail::webpush_decrypt(b64(kBody), b64(kUaPrivate), b64(kUaPublic), auth).ok());
  EXPECT_FALSE(detail::ece_decrypt(b64(kWalrusBody), b64(kWalrus2Key)).ok());
  EXPECT_FALSE(detail::ece_decrypt(b64(kWalrusBody).substr(0, 30), b64(kWalrusKey)).ok());
}

TEST(WebPushEncryption, EncryptForUsesAFreshKeyAndSaltThatTheUserAgentCanOpen) {
  Pkey ua = ec_key();
  auto [ua_private, ua_public] = raw_ec(ua.get());
  const std::string auth = random_bytes(16);
  const std::string text = R"({"type":"message","preview":"h\u00e9llo"})";

  auto a = encrypt_for(text, ua_public, auth);
  auto b = encrypt_for(text, ua_public, auth);
  ASSERT_TRUE(a.ok()) << a.error().message;
  ASSERT_TRUE(b.ok());
  EXPECT_NE(a->substr(0, 16), b->substr(0, 16));    // salt
  EXPECT_NE(a->substr(21, 65), b->substr(21, 65));  // ephemeral key
  EXPECT_EQ(static_cast<unsigned char>((*a)[21]), 0x04);
  for (const auto& body : {*a, *b}) {
    auto plain = detail::webpush_decrypt(body, ua_private, ua_public, auth);
    ASSERT_TRUE(plain.ok()) << plain.error().message;
    EXPECT_EQ(*plain, text);
  }
}

TEST(WebPushEncryption, EncryptForStaysDecryptableAcrossCallsThreadsAndBadKeys) {
  // encrypt_for keeps per-thread OpenSSL state between calls: every body must
  // still open, including after a refused key and on another thread.
  Pkey ua = ec_key();
  auto [ua_private, ua_public] = raw_ec(ua.get());
  const std::string auth = random_bytes(16);
  std::string off_curve = ua_public;
  off_curve[64] ^= 1;
  auto round = [&](const std::string& text) {
    std::vector<std::string> keys;
    for (int i = 0; i < 8; ++i) {
      auto body = encrypt_for(text, ua_public, auth);
      if (!body.ok()) return std::string("encrypt_for: ") + body.error().message;
      auto plain = detail::webpush_decrypt(*body, ua_private, ua_public, auth);
      if (!plain.ok()) return std::string("decrypt: ") + plain.error().message;
      if (*plain != text) return std::string("wrong plaintext");
      keys.push_back(body->substr(21, 65));
      if (encrypt_for(text, off_curve, auth).ok()) return std::string("off-curve key accepted");
    }
    for (std::size_t i = 1; i < keys.size(); ++i) {
      if (keys[i] == keys[i - 1]) return std::string("ephemeral key reused");
    }
    return std::string();
  };
  EXPECT_EQ(round("first"), "");
  std::string other;
  std::thread([&] { other = round("on another thread"); }).join();
  EXPECT_EQ(other, "");
  EXPECT_EQ(round("again"), "");
}

TEST(WebPushEncryption, WebPushRequestBodyDecryptsForTheSubscription) {
  const auto dir = temp_dir();
  auto vapid = VapidKey::load_or_create(dir / "vapid.pem");
  Pkey ua = ec_key();
  auto [ua_private, ua_public] = raw_ec(ua.get());
  const std::string auth = random_bytes(16);
  PushTarget t;
  t.kind = TargetKind::webpush;
  t.endpoint = "https://push.example.com/x";
  t.p256dh = base64url_encode(ua_public);
  t.auth = base64url_encode(auth);
  PushPayload p;
  p.chat_id = "c1";
  p.seq = 7;
  auto req = webpush_request(t, p, vapid, "mailto:a@b", 1'764'000'000);
  ASSERT_TRUE(req.ok()) << req.error().message;
  auto plain = detail::webpush_decrypt(req->body, ua_private, ua_public, auth);
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  EXPECT_EQ(*plain, payload_json(p));
  std::filesystem::remove_all(dir);
}

TEST(WebPushEncryption, RefusesBadKeysAndOversizedPlaintext) {
  Pkey ua = ec_key();
  auto [ua_private, ua_public] = raw_ec(ua.get());
  const std::string auth = random_bytes(16);
  EXPECT_FALSE(encrypt_for("x", ua_public.substr(0, 64), auth).ok());
  std::string off_curve = ua_public;
  off_curve[64] ^= 1;
  EXPECT_FALSE(encrypt_for("x", off_curve, auth).ok());
  std::string compressed = ua_public;
  compressed[0] = 0x02;
  EXPECT_FALSE(encrypt_for("x", compressed, auth).ok());
  EXPECT_FALSE(encrypt_for("x", ua_public, auth.substr(0, 15)).ok());
  // One 4096-byte record holds 4096 - 16 (tag) - 1 (delimiter) bytes.
  EXPECT_TRUE(encrypt_for(std::string(4079, 'a'), ua_public, auth).ok());
  auto too_big = encrypt_for(std::string(4080, 'a'), ua_public, auth);
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.error().code, ErrorCode::too_large);
}

TEST(WebPushEncryption, ValidP256PointChecksTheCurve) {
  EXPECT_TRUE(detail::valid_p256_point(b64(kUaPublic)));
  EXPECT_TRUE(detail::valid_p256_point(b64(kAsPublic)));
  std::string off = b64(kUaPublic);
  off[40] ^= 0x10;
  EXPECT_FALSE(detail::valid_p256_point(off));
  EXPECT_FALSE(detail::valid_p256_point(std::string(65, '\x04')));
  EXPECT_FALSE(detail::valid_p256_point(""));
}

// ---- JWT ----

TEST(Jwt, Es256IsJoseFormAndVerifiesWithThePublicKey) {
  Pkey key = ec_key();
  for (bool traditional : {false, true}) {  // PKCS#8 and SEC1 ("EC PRIVATE KEY")
    const std::string pem = pem_of(key.get(), traditional);
    auto jwt = sign_es256(R"({"alg":"ES256","kid":"K1"})", R"({"iss":"T","iat":1})", pem);
    ASSERT_TRUE(jwt.ok()) << jwt.error().message;
    auto parts = split_jwt(*jwt);
    ASSERT_EQ(parts.size(), 3u);
    EXPECT_EQ(b64(parts[0]), R"({"alg":"ES256","kid":"K1"})");
    EXPECT_EQ(b64(parts[1]), R"({"iss":"T","iat":1})");
    EXPECT_EQ(b64(parts[2]).size(), 64u);
    EXPECT_TRUE(verify_jwt(*jwt, key.get(), true));
    // Altered claims no longer verify.
    std::string forged = base64url_encode(R"({"alg":"ES256","kid":"K1"})") + "." +
                         base64url_encode(R"({"iss":"X","iat":1})") + "." + parts[2];
    EXPECT_FALSE(verify_jwt(forged, key.get(), true));
  }
}

TEST(Jwt, Rs256VerifiesWithThePublicKey) {
  Pkey key = rsa_key();
  auto jwt = sign_rs256(R"({"alg":"RS256","typ":"JWT"})", R"({"iss":"a@b"})", pem_of(key.get()));
  ASSERT_TRUE(jwt.ok()) << jwt.error().message;
  EXPECT_EQ(b64(split_jwt(*jwt)[2]).size(), 256u);
  EXPECT_TRUE(verify_jwt(*jwt, key.get(), false));
  Pkey other = rsa_key();
  EXPECT_FALSE(verify_jwt(*jwt, other.get(), false));
}

TEST(Jwt, RefusesTheWrongKeyType) {
  Pkey ec = ec_key();
  Pkey rsa = rsa_key();
  EXPECT_FALSE(sign_es256("{}", "{}", pem_of(rsa.get())).ok());
  EXPECT_FALSE(sign_rs256("{}", "{}", pem_of(ec.get())).ok());
  Pkey p384(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"));
  EXPECT_FALSE(sign_es256("{}", "{}", pem_of(p384.get())).ok());
  EXPECT_FALSE(sign_es256("{}", "{}", "not a key").ok());
  EXPECT_FALSE(sign_rs256("{}", "{}", "").ok());
}

// ---- VAPID ----

TEST(Vapid, CreatesAKeyFile0600AndReadsItBack) {
  const auto dir = temp_dir();
  const auto path = dir / "vapid.pem";
  auto first = VapidKey::load_or_create(path);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const std::string point = b64(first.public_key_b64());
  ASSERT_EQ(point.size(), 65u);
  EXPECT_EQ(point[0], '\x04');
  EXPECT_TRUE(detail::valid_p256_point(point));

  auto second = VapidKey::load_or_create(path);
  EXPECT_EQ(second.public_key_b64(), first.public_key_b64());
  VapidKey moved = std::move(second);
  EXPECT_EQ(moved.public_key_b64(), first.public_key_b64());
  EXPECT_FALSE(moved.authorization("https://push.example.com/x", "mailto:a@b", 1).empty());
  std::filesystem::remove_all(dir);
}

TEST(Vapid, RefusesAFileThatIsNotAP256Key) {
  const auto dir = temp_dir();
  {
    std::ofstream(dir / "garbage.pem") << "hello";
    Pkey rsa = rsa_key();
    std::ofstream(dir / "rsa.pem") << pem_of(rsa.get());
  }
  EXPECT_THROW(VapidKey::load_or_create(dir / "garbage.pem"), std::runtime_error);
  EXPECT_THROW(VapidKey::load_or_create(dir / "rsa.pem"), std::runtime_error);
  EXPECT_THROW(VapidKey::load_or_create(dir / "no-such-dir" / "v.pem"), std::runtime_error);
  std::filesystem::remove_all(dir);
}

TEST(Vapid, AuthorizationIsAVerifiableEs256TokenForTheEndpointsOrigin) {
  const auto dir = temp_dir();
  auto vapid = VapidKey::load_or_create(dir / "vapid.pem");
  const std::int64_t now = 1'764'000'000;
  struct Case {
    std::string endpoint, aud;
  } cases[] = {
      {"https://fcm.googleapis.com/fcm/send/abc:def?x=1", "https://fcm.googleapis.com"},
      {"https://Push.Example.COM:8443/wpush/v2/xyz", "https://push.example.com:8443"},
      {"https://updates.push.services.mozilla.com:443/wpush/v2/x",
       "https://updates.push.services.mozilla.com"},
      {"http://127.0.0.1:9000/push", "http://127.0.0.1:9000"},
  };
  Pkey pub = public_from_point(b64(vapid.public_key_b64()));
  ASSERT_TRUE(pub);
  for (const auto& c : cases) {
    const std::string auth = vapid.authorization(c.endpoint, "mailto:ops@example.com", now);
    ASSERT_TRUE(auth.starts_with("vapid t=")) << auth;
    const auto comma = auth.find(", k=");
    ASSERT_NE(comma, std::string::npos);
    const std::string jwt = auth.substr(8, comma - 8);
    EXPECT_EQ(auth.substr(comma + 4), vapid.public_key_b64());

    EXPECT_TRUE(verify_jwt(jwt, pub.get(), true));
    const auto header = jwt_json(jwt, 0);
    EXPECT_EQ(header.at("typ"), "JWT");
    EXPECT_EQ(header.at("alg"), "ES256");
    const auto claims = jwt_json(jwt, 1);
    EXPECT_EQ(claims.size(), 3u);
    EXPECT_EQ(claims.at("aud"), c.aud.c_str()) << c.endpoint;
    EXPECT_EQ(claims.at("exp").to_number<std::int64_t>(), now + 12 * 3600);
    EXPECT_EQ(claims.at("sub"), "mailto:ops@example.com");
  }
  EXPECT_EQ(vapid.authorization("not a url", "mailto:a@b", now), "");
  std::filesystem::remove_all(dir);
}

std::int64_t vapid_exp(const std::string& authorization) {
  const auto comma = authorization.find(", k=");
  return jwt_json(authorization.substr(8, comma - 8), 1).at("exp").to_number<std::int64_t>();
}

TEST(Vapid, AuthorizationIsReusedPerOriginWhileMoreThanAnHourIsLeft) {
  const auto dir = temp_dir();
  auto vapid = VapidKey::load_or_create(dir / "vapid.pem");
  Pkey pub = public_from_point(b64(vapid.public_key_b64()));
  const std::int64_t now = 1'764'000'000;
  const std::string contact = "mailto:ops@example.com";
  const std::string first = vapid.authorization("https://push.example.com/a", contact, now);
  ASSERT_TRUE(first.starts_with("vapid t=")) << first;
  EXPECT_EQ(vapid_exp(first), now + 12 * 3600);

  // The same origin (any path, any case) within the window: the same header,
  // ECDSA signatures being randomized, so not signed again.
  EXPECT_EQ(vapid.authorization("https://push.example.com/a", contact, now), first);
  EXPECT_EQ(vapid.authorization("https://PUSH.example.com:443/b/c", contact, now + 60), first);
  EXPECT_EQ(vapid.authorization("https://push.example.com/d", contact, now + 11 * 3600 - 1), first);

  // Another origin, or another contact: a header of its own.
  const std::string other = vapid.authorization("https://fcm.googleapis.com/x", contact, now + 5);
  EXPECT_NE(other, first);
  EXPECT_EQ(jwt_json(other.substr(8, other.find(", k=") - 8), 1).at("aud"),
            "https://fcm.googleapis.com");
  EXPECT_EQ(vapid_exp(other), now + 5 + 12 * 3600);
  const std::string other_contact =
      vapid.authorization("https://push.example.com/a", "mailto:x@example.com", now + 5);
  EXPECT_NE(other_contact, first);
  EXPECT_EQ(vapid.authorization("https://push.example.com/a", contact, now + 10), first);

  // An hour or less of validity left: a fresh token, then reused in turn.
  const std::int64_t later = now + 11 * 3600;
  const std::string fresh = vapid.authorization("https://push.example.com/a", contact, later);
  EXPECT_NE(fresh, first);
  EXPECT_EQ(vapid_exp(fresh), later + 12 * 3600);
  EXPECT_TRUE(verify_jwt(fresh.substr(8, fresh.find(", k=") - 8), pub.get(), true));
  EXPECT_EQ(vapid.authorization("https://push.example.com/a", contact, later + 3600), fresh);

  // A clock set back re-signs rather than hand out a token expiring over 12 h ahead.
  const std::string earlier = vapid.authorization("https://push.example.com/a", contact, now);
  EXPECT_NE(earlier, fresh);
  EXPECT_EQ(vapid_exp(earlier), now + 12 * 3600);

  // Moving the key keeps working (and keeps the cache).
  const std::string before_move = vapid.authorization("https://push.example.com/a", contact, now);
  VapidKey moved = std::move(vapid);
  EXPECT_EQ(moved.authorization("https://push.example.com/a", contact, now + 1), before_move);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace chat::push

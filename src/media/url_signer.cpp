// Signed media URLs (HMAC-SHA256, OpenSSL).
//
// Why the secret lives in a file: URLs handed to a browser must stay valid
// across a restart for their whole TTL, so the key is made once (32 bytes from
// the CSPRNG, created with O_EXCL and mode 0600, fsynced) and read at every
// start. A short or unreadable key file stops the server rather than silently
// minting a new key that would break every URL already handed out.
#include "media/url_signer.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "base/random.hpp"

namespace chat::media {

namespace {

constexpr std::size_t kSecretBytes = 32;

std::string message(std::string_view id, Variant v, std::int64_t exp_ms) {
  std::string m;
  m.reserve(id.size() + 32);
  m.append(id);
  m += '\n';
  m += v == Variant::original ? "original" : "thumbnail";
  m += '\n';
  m += std::to_string(exp_ms);
  return m;
}

[[noreturn]] void fail(const std::filesystem::path& path, const std::string& what) {
  throw std::runtime_error("media URL secret " + path.string() + ": " + what);
}

std::string read_secret(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(path, std::strerror(errno));
  std::string secret(kSecretBytes, '\0');
  std::size_t got = 0;
  while (got < kSecretBytes) {
    ssize_t r = ::read(fd, secret.data() + got, kSecretBytes - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      int e = errno;
      ::close(fd);
      fail(path, std::strerror(e));
    }
    if (r == 0) break;
    got += static_cast<std::size_t>(r);
  }
  ::close(fd);
  if (got < kSecretBytes) {
    fail(path, "holds " + std::to_string(got) + " bytes, expected " + std::to_string(kSecretBytes) +
                   " (delete it to make a new one)");
  }
  return secret;
}

}  // namespace

UrlSigner UrlSigner::load_or_create(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return UrlSigner(read_secret(path));
    fail(path, std::strerror(errno));
  }
  std::string secret(kSecretBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(secret.data()), kSecretBytes) != 1) {
    ::close(fd);
    ::unlink(path.c_str());
    fail(path, "RAND_bytes failed");
  }
  std::size_t done = 0;
  while (done < secret.size()) {
    ssize_t w = ::write(fd, secret.data() + done, secret.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    done += static_cast<std::size_t>(w);
  }
  bool ok = done == secret.size() && ::fsync(fd) == 0;
  int e = errno;
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    fail(path, std::string("cannot write: ") + std::strerror(e));
  }
  // Make the new name durable too.
  const auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return UrlSigner(std::move(secret));
}

std::string UrlSigner::sign(std::string_view media_id, Variant v, std::int64_t exp_ms) const {
  const std::string m = message(media_id, v, exp_ms);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
       reinterpret_cast<const unsigned char*>(m.data()), m.size(), mac, &len);
  return to_hex(mac, len);
}

bool UrlSigner::verify(std::string_view media_id, Variant v, std::int64_t exp_ms,
                       std::string_view sig_hex) const {
  if (sig_hex.size() != 64) return false;
  for (char c : sig_hex) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  const std::string expected = sign(media_id, v, exp_ms);
  return expected.size() == sig_hex.size() &&
         CRYPTO_memcmp(expected.data(), sig_hex.data(), expected.size()) == 0;
}

}  // namespace chat::media

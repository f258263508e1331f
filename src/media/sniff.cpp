// Type sniffing with libmagic (MAGIC_MIME_TYPE: just "image/png", no charset).
//
// Why one magic_t per thread: a magic_t is not safe to share between threads,
// and loading the database costs milliseconds, so each media-pool thread loads
// it once, lazily, and keeps it for its life. Only the file's head is read: the
// magic database looks at the first bytes, and 64 KiB is what it needs for the
// formats we care about.
#include "media/sniff.hpp"

#include <fcntl.h>
#include <magic.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

namespace chat::media {

namespace {

constexpr const char* kUnknown = "application/octet-stream";
constexpr std::size_t kHeadBytes = 64 * 1024;

class Magic {
 public:
  Magic() {
    cookie_ = magic_open(MAGIC_MIME_TYPE);
    if (cookie_ != nullptr && magic_load(cookie_, nullptr) != 0) {
      magic_close(cookie_);
      cookie_ = nullptr;
    }
  }
  ~Magic() {
    if (cookie_ != nullptr) magic_close(cookie_);
  }
  Magic(const Magic&) = delete;
  Magic& operator=(const Magic&) = delete;
  magic_t get() const { return cookie_; }

 private:
  magic_t cookie_ = nullptr;
};

magic_t thread_magic() {
  thread_local Magic magic;
  return magic.get();
}

}  // namespace

std::string sniff_mime(const void* head, std::size_t n) {
  magic_t m = thread_magic();
  if (m == nullptr) return kUnknown;
  const char* type = magic_buffer(m, head, n);
  if (type == nullptr || *type == '\0') return kUnknown;
  return type;
}

std::string sniff_file_mime(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return kUnknown;
  std::vector<unsigned char> buf(kHeadBytes);
  std::size_t got = 0;
  while (got < buf.size()) {
    ssize_t r = ::read(fd, buf.data() + got, buf.size() - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += static_cast<std::size_t>(r);
  }
  ::close(fd);
  return sniff_mime(buf.data(), got);
}

MediaClass classify(std::string_view mime) {
  if (mime == "image/jpeg" || mime == "image/png" || mime == "image/gif" || mime == "image/webp") {
    return MediaClass::image;
  }
  if (mime.starts_with("audio/")) return MediaClass::audio;
  if (mime.starts_with("video/")) return MediaClass::video;
  return MediaClass::document;
}

bool inline_safe(std::string_view mime) {
  return classify(mime) != MediaClass::document;
}

}  // namespace chat::media

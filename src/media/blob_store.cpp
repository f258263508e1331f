// The blob store on disk (layout and the pin protocol: blob_store.hpp).
//
// Why plain POSIX calls and not iostreams: an upload is acknowledged only once
// its bytes are durable, which needs fsync on the file and, after the rename,
// on the directory that holds the new name; iostreams offer neither. The
// sha256 is computed as the bytes pass through (OpenSSL EVP), so a 100 MiB
// upload is never read back from disk. Temp names are random, so two uploads of
// the same bytes never share a temp file; the second commit finds the blob
// already there and drops its copy.
#include "media/blob_store.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include "base/random.hpp"

namespace chat::media {

namespace fs = std::filesystem;

namespace {

std::string errno_text(const char* what) {
  return std::string(what) + ": " + std::strerror(errno);
}

bool valid_sha256_hex(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// fsync a directory, so that a rename into it survives a crash.
bool fsync_dir(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

struct UploadSink::Hasher {
  Hasher() : ctx(EVP_MD_CTX_new()) {
    if (ctx == nullptr || EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) != 1) {
      throw std::runtime_error("sha256: EVP_DigestInit_ex failed");
    }
  }
  ~Hasher() { EVP_MD_CTX_free(ctx); }
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;
  EVP_MD_CTX* ctx;
  bool finished = false;
};

UploadSink::UploadSink(int fd, fs::path temp_path)
    : fd_(fd), temp_path_(std::move(temp_path)), hasher_(std::make_unique<Hasher>()) {}

UploadSink::~UploadSink() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(temp_path_.c_str());
}

Status UploadSink::write(const void* data, std::size_t n) {
  if (fd_ < 0 || hasher_->finished) return internal_error("upload: write after finish");
  if (EVP_DigestUpdate(hasher_->ctx, data, n) != 1) return internal_error("sha256 update failed");
  const char* p = static_cast<const char*>(data);
  std::size_t left = n;
  while (left > 0) {
    ssize_t w = ::write(fd_, p, left);
    if (w < 0) {
      if (errno == EINTR) continue;
      return internal_error(errno_text("upload: write"));
    }
    p += w;
    left -= static_cast<std::size_t>(w);
  }
  size_ += n;
  return ok_status();
}

Result<std::string> UploadSink::finish() {
  if (fd_ < 0 || hasher_->finished) return internal_error("upload: finish called twice");
  hasher_->finished = true;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(hasher_->ctx, digest, &len) != 1) {
    return internal_error("sha256 final failed");
  }
  int rc = ::fsync(fd_);
  int fsync_errno = errno;
  ::close(fd_);
  fd_ = -1;
  if (rc != 0) {
    errno = fsync_errno;
    return internal_error(errno_text("upload: fsync"));
  }
  return to_hex(digest, len);
}

BlobStore::BlobStore(fs::path root) : root_(std::move(root)) {
  fs::create_directories(root_ / "tmp");
  fs::create_directories(root_ / "blobs");
  fs::create_directories(root_ / "thumbs");
  // Uploads that were being received when the process stopped: nobody will
  // finish them.
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root_ / "tmp", ec)) {
    std::error_code ignored;
    fs::remove_all(entry.path(), ignored);
  }
}

Result<std::unique_ptr<UploadSink>> BlobStore::begin_upload() {
  for (int attempt = 0; attempt < 4; ++attempt) {
    fs::path path = root_ / "tmp" / random_hex_secret(16);
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
      try {
        return std::unique_ptr<UploadSink>(new UploadSink(fd, std::move(path)));
      } catch (const std::exception& e) {
        ::close(fd);
        ::unlink(path.c_str());
        return internal_error(std::string("upload: ") + e.what());
      }
    }
    if (errno != EEXIST) return internal_error(errno_text("upload: open temp file"));
  }
  return internal_error("upload: no free temp file name");
}

Result<fs::path> BlobStore::commit(UploadSink& sink, const std::string& sha256) {
  if (!valid_sha256_hex(sha256)) return internal_error("commit: bad sha256");
  if (sink.committed_) return internal_error("commit: upload already committed");
  if (sink.fd_ >= 0 || !sink.hasher_->finished) {
    return internal_error("commit: upload not finished");
  }
  fs::path dest = blob_path(sha256);
  std::lock_guard lock(mutex_);
  ++pins_[sha256];
  auto unpin_on_error = [&] {
    if (--pins_[sha256] <= 0) pins_.erase(sha256);
  };
  struct stat st;
  if (::stat(dest.c_str(), &st) == 0) {
    // The same bytes are already stored: keep that copy.
    ::unlink(sink.temp_path_.c_str());
    sink.committed_ = true;
    return dest;
  }
  const fs::path dir = dest.parent_path();
  bool new_dir = false;
  if (::mkdir(dir.c_str(), 0700) == 0) {
    new_dir = true;
  } else if (errno != EEXIST) {
    unpin_on_error();
    return internal_error(errno_text("commit: mkdir"));
  }
  if (::rename(sink.temp_path_.c_str(), dest.c_str()) != 0) {
    unpin_on_error();
    return internal_error(errno_text("commit: rename"));
  }
  sink.committed_ = true;
  if (!fsync_dir(dir) || (new_dir && !fsync_dir(dir.parent_path()))) {
    // The blob is in place and pinned; only its durability across a crash is
    // in doubt. Report it so the upload is refused rather than acknowledged.
    unpin_on_error();
    return internal_error(errno_text("commit: fsync directory"));
  }
  return dest;
}

void BlobStore::unpin(const std::string& sha256) {
  std::lock_guard lock(mutex_);
  auto it = pins_.find(sha256);
  if (it == pins_.end()) return;
  if (--it->second <= 0) pins_.erase(it);
}

fs::path BlobStore::blob_path(const std::string& sha256) const {
  return root_ / "blobs" / sha256.substr(0, 2) / sha256;
}

fs::path BlobStore::thumb_path(const std::string& sha256) const {
  return root_ / "thumbs" / sha256.substr(0, 2) / sha256;
}

bool BlobStore::exists(const std::string& sha256) const {
  if (!valid_sha256_hex(sha256)) return false;
  struct stat st;
  return ::stat(blob_path(sha256).c_str(), &st) == 0;
}

bool BlobStore::remove_if_unreferenced(
    const std::string& sha256, const std::function<bool(const std::string&)>& still_referenced) {
  if (!valid_sha256_hex(sha256)) return false;
  std::lock_guard lock(mutex_);
  if (pins_.count(sha256) != 0) return false;
  if (still_referenced && still_referenced(sha256)) return false;
  bool removed = ::unlink(blob_path(sha256).c_str()) == 0;
  ::unlink(thumb_path(sha256).c_str());
  return removed;
}

std::size_t BlobStore::count_blobs() const {
  std::size_t n = 0;
  std::error_code ec;
  for (const auto& dir : fs::directory_iterator(root_ / "blobs", ec)) {
    std::error_code ec2;
    if (!dir.is_directory(ec2)) continue;
    for (const auto& file : fs::directory_iterator(dir.path(), ec2)) {
      std::error_code ec3;
      if (file.is_regular_file(ec3)) ++n;
    }
  }
  return n;
}

}  // namespace chat::media

// The media pool's threads and the inspection of one upload.
//
// Why a pool of our own: sniffing, header probes and thumbnails are blocking,
// CPU-bound calls into C libraries; a socket thread must never run them. Each
// job runs to completion on one pool thread, and no exception may leave it: a
// throw from a library or a callback becomes `internal` for that upload (or is
// dropped, for a plain posted job), never a dead thread.
#include "media/media_pool.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <sys/stat.h>

#include <cctype>
#include <exception>

#include "media/av_probe.hpp"
#include "media/image.hpp"
#include "media/sniff.hpp"

namespace chat::media {

namespace {

bool claims_image(std::string_view claimed) {
  constexpr std::string_view prefix = "image/";
  if (claimed.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(claimed[i])) != prefix[i]) return false;
  }
  return true;
}

bool file_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
}

}  // namespace

MediaPool::MediaPool(BlobStore& blobs, MediaLimits limits, std::size_t threads)
    : blobs_(blobs), limits_(limits) {
  init_image_library();
  if (threads == 0) threads = 1;
  threads_.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i)
    threads_.emplace_back([this] { run(); });
}

MediaPool::~MediaPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : threads_)
    t.join();
}

void MediaPool::post(std::function<void()> job) {
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back(std::move(job));
  }
  wake_.notify_one();
}

void MediaPool::run() {
  // Looking into files (decoding a 12-megapixel photo takes ~70 ms of CPU)
  // must not take the cores from the socket threads that carry chat traffic:
  // a lower priority (nice 10, about a tenth of a core's share when the
  // machine is busy; all of it when idle). libvips's helper threads are
  // started from here and inherit it.
  setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 10);
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping, and everything queued is done
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    try {
      job();
    } catch (...) {
      // A posted job that throws loses only itself.
    }
  }
}

void MediaPool::inspect(std::string sha256, std::string claimed_mime,
                        std::function<void(Result<Inspection>)> done) {
  post([this, sha256 = std::move(sha256), claimed = std::move(claimed_mime),
        done = std::move(done)] {
    Result<Inspection> result = internal_error("media inspection failed");
    try {
      result = inspect_now(sha256, claimed);
    } catch (const std::exception& e) {
      result = internal_error(std::string("media inspection failed: ") + e.what());
    } catch (...) {
      result = internal_error("media inspection failed");
    }
    done(std::move(result));
  });
}

Result<Inspection> MediaPool::inspect_now(const std::string& sha256, const std::string& claimed) {
  if (!blobs_.exists(sha256)) return internal_error("media: blob is missing");
  const std::string path = blobs_.blob_path(sha256).string();
  Inspection out;
  out.mime = sniff_file_mime(path);
  const MediaClass cls = classify(out.mime);
  // "Claims image/* but is no image at all" (PROTOCOL.md): an image we do not
  // decode (SVG, BMP, TIFF, HEIC...) is kept as a document of its real type.
  if (claims_image(claimed) && !claims_image(out.mime)) return unsupported("not an image");

  switch (cls) {
    case MediaClass::image: {
      auto info = probe_image(path, limits_.max_image_pixels);
      if (!info) return info.take_error();
      out.width = info->width;
      out.height = info->height;
      const std::string thumb = blobs_.thumb_path(sha256).string();
      if (file_exists(thumb)) {
        out.thumbnail_mime = sniff_file_mime(thumb);
      } else {
        auto made = make_thumbnail(path, thumb, limits_.thumbnail_max_side);
        if (!made) return made.take_error();
        thumbnails_made_.fetch_add(1);
        out.thumbnail_mime = made->mime;
      }
      out.thumbnail = true;
      break;
    }
    case MediaClass::audio:
    case MediaClass::video:
      out.duration_ms = probe_duration_ms(path);
      break;
    case MediaClass::document:
      break;
  }
  return out;
}

}  // namespace chat::media

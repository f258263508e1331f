// The media pool: the threads that look into uploaded files (sniffing, image
// headers, thumbnails, durations). Socket threads hand a finished upload here
// and get the result back through a callback, so decoding never blocks I/O.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/result.hpp"
#include "media/blob_store.hpp"

namespace chat::media {

struct MediaLimits {
  std::uint64_t max_image_pixels = 100'000'000;
  int thumbnail_max_side = 320;
};

// What the pool learned about one upload.
struct Inspection {
  std::string mime;  // sniffed
  std::optional<std::uint32_t> width, height;
  std::optional<std::int64_t> duration_ms;
  bool thumbnail = false;
  std::string thumbnail_mime;
};

class MediaPool {
 public:
  MediaPool(BlobStore& blobs, MediaLimits limits, std::size_t threads);
  ~MediaPool();  // finishes queued jobs, joins

  // Inspects the blob `sha256` (already committed to the blob store) that the
  // client claimed to be `claimed_mime`: sniffs, and for images probes the
  // header (bomb check), makes the thumbnail if it is not there yet; for audio
  // and video reads the duration. A claimed image/* that is no image:
  // `unsupported`; too many pixels: `too_large`. `done` runs on a pool thread.
  void inspect(std::string sha256, std::string claimed_mime,
               std::function<void(Result<Inspection>)> done);

  // Runs any job on the pool (the garbage-collection sweep uses it).
  void post(std::function<void()> job);

  std::uint64_t thumbnails_made() const { return thumbnails_made_.load(); }

 private:
  void run();
  Result<Inspection> inspect_now(const std::string& sha256, const std::string& claimed_mime);
  BlobStore& blobs_;
  MediaLimits limits_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
  std::atomic<std::uint64_t> thumbnails_made_{0};
};

}  // namespace chat::media

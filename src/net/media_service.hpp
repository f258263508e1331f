// Media over HTTP (PROTOCOL.md, "Media"): the glue between the socket layer,
// the bytes (media/: blob store, pool, signed URLs) and the domain's records
// and access rule (core/media_library). No Beast here: http_session.cpp does
// the streaming I/O and calls these steps.
//
// Upload:   header checked (auth, Content-Length, type) -> bytes streamed into
//           an UploadSink on the socket thread -> on the media pool: fsync,
//           rename to the blob path (pinned), sniff/probe/thumbnail -> the
//           record commits through the writer -> unpin -> 201.
// Download: access (bearer or signed URL) -> open the blob -> ETag/Range
//           answer -> http_session sends the bytes with sendfile(2).
// Sweep:    a thread removes media no live message carries and uploads never
//           sent, then unlinks blobs no record names (see BlobStore for why a
//           concurrent upload of the same bytes is safe).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "base/result.hpp"
#include "core/chat_core.hpp"
#include "media/blob_store.hpp"
#include "media/media_pool.hpp"
#include "media/url_signer.hpp"
#include "net/metrics.hpp"

namespace chat::net {

struct MediaServiceConfig {
  std::filesystem::path root;  // <data dir>/media
  media::MediaLimits limits;
  std::int64_t url_ttl_ms = 3'600'000;                // signed URLs are valid this long
  std::chrono::milliseconds sweep_interval{600'000};  // GC pass at least this often
  std::size_t pool_threads = 2;                       // sniffing, thumbnails, fsync
};

// An open file to send: the answer's status and headers, then `length` bytes
// from `offset` of `fd` (none for 304 and 416, or a HEAD request).
struct MediaDownload {
  int status = 200;
  std::string content_type;
  std::vector<std::pair<std::string, std::string>> headers;
  int fd = -1;  // owned; closed by the destructor
  std::uint64_t offset = 0;
  std::uint64_t length = 0;

  MediaDownload() = default;
  MediaDownload(MediaDownload&& o) noexcept { *this = std::move(o); }
  MediaDownload& operator=(MediaDownload&& o) noexcept;
  ~MediaDownload();
};

struct MediaDownloadRequest {
  std::string_view media_id;
  bool thumbnail = false;
  std::string_view query;  // exp & sig of a signed URL, if any
  std::string_view bearer;
  std::string_view range;          // Range header
  std::string_view if_none_match;  // If-None-Match header
};

class MediaService {
 public:
  MediaService(core::ChatCore& core, Metrics& metrics, MediaServiceConfig config);
  ~MediaService();  // stops the sweep thread and drains the pool

  std::uint64_t max_bytes() const { return core_.config().limits.max_media_bytes; }
  const MediaServiceConfig& config() const { return config_; }

  Result<std::unique_ptr<media::UploadSink>> begin_upload() { return blobs_.begin_upload(); }
  // Completes an upload whose bytes are all in `sink`. `done` runs once, on a
  // pool or writer thread, with the 201 body or the error.
  void finish_upload(std::unique_ptr<media::UploadSink> sink, core::Principal who,
                     std::string claimed_mime, std::string filename,
                     std::function<void(Result<std::string>)> done);

  // Access check, file open, ETag and Range. Runs on the socket thread: a
  // point read or two and an open(2).
  Result<MediaDownload> open_download(const MediaDownloadRequest& req);

  // GET /v1/media/{id}/url: {"url", "thumbnail_url"?, "expires_ts"}.
  Result<std::string> signed_urls(const core::Principal& who, const std::string& media_id);

  // Runs one garbage-collection pass now (blocking; not on a socket thread).
  void sweep();
  // Asks the sweep thread for a pass soon (after a delete for everyone).
  void request_sweep();

  media::BlobStore& blobs() { return blobs_; }

 private:
  void sweep_loop();
  Result<store::MediaRecord> signed_access(std::string_view media_id, media::Variant v,
                                           std::string_view query) const;

  core::ChatCore& core_;
  Metrics& metrics_;
  MediaServiceConfig config_;
  media::BlobStore blobs_;
  media::UrlSigner signer_;
  media::MediaPool pool_;

  // Uploads between finish_upload and their answer: the destructor waits for
  // them (their completions use this object) while the writer still runs.
  std::mutex pending_mutex_;
  std::condition_variable pending_done_;
  std::size_t pending_ = 0;

  std::mutex sweep_mutex_;
  std::condition_variable sweep_wake_;
  bool sweep_requested_ = false;
  bool stopping_ = false;
  std::thread sweeper_;
};

// "photo 1.png" -> a filename safe to store and echo: no path, no control
// characters, at most 255 bytes of valid UTF-8. Empty if nothing is left.
std::string clean_filename(std::string_view raw);

}  // namespace chat::net

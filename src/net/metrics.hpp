// Server counters for GET /metrics (Prometheus text format).
//
// Plain relaxed atomics, bumped from socket threads: cheap enough for the hot
// path (one uncontended atomic add per event written) and never locked.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "base/error.hpp"
#include "push/push_types.hpp"

namespace chat::core {
class ChatCore;
}

namespace chat::net {

class Metrics {
 public:
  // Upper bounds (ms) of the delivery latency histogram's buckets.
  static constexpr std::array<std::int64_t, 12> kLatencyBucketsMs = {
      1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000};

  std::atomic<std::int64_t> http_connections{0};
  std::atomic<std::int64_t> ws_connections{0};
  std::atomic<std::uint64_t> http_requests{0};
  std::atomic<std::uint64_t> events_delivered{0};
  std::atomic<std::uint64_t> slow_consumer_disconnects{0};
  std::atomic<std::uint64_t> accept_pauses{0};  // 50 ms waits at max_connections
  // Media (net/media_service).
  std::atomic<std::uint64_t> media_uploads{0};
  std::atomic<std::uint64_t> media_upload_bytes{0};
  std::atomic<std::uint64_t> media_downloads{0};
  std::atomic<std::uint64_t> media_download_bytes{0};
  std::atomic<std::uint64_t> media_thumbnails{0};  // the pool's count, copied after each upload
  std::atomic<std::uint64_t> media_blobs_removed{0};

  void count_error(ErrorCode code) {
    errors_[static_cast<std::size_t>(code)].fetch_add(1, std::memory_order_relaxed);
  }
  // A push attempt's outcome by target kind ("webhook", ...) and result
  // ("sent", "gone", "retry_503", "blocked", ...). Not a hot path: a map
  // under a mutex keeps the label set open.
  void count_push(push::TargetKind kind, std::string_view result);

  // Time from the server ordering an event to its frame being written.
  void observe_delivery_ms(std::int64_t ms);

  std::string render(core::ChatCore& core) const;

 private:
  mutable std::mutex push_mutex_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> pushes_;
  std::array<std::atomic<std::uint64_t>, 10> errors_{};  // one per ErrorCode
  std::array<std::atomic<std::uint64_t>, kLatencyBucketsMs.size() + 1> latency_buckets_{};
  std::atomic<std::uint64_t> latency_sum_ms_{0};
  std::atomic<std::uint64_t> latency_count_{0};
};

}  // namespace chat::net

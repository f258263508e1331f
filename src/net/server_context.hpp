// What every connection shares: the domain, the REST API, the counters and
// the network limits; and, per worker thread, its io_context and timer wheel.
#pragma once

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstddef>

#include "core/chat_core.hpp"
#include "net/media_service.hpp"
#include "net/metrics.hpp"
#include "net/rest_api.hpp"
#include "net/timer_wheel.hpp"

namespace chat::net {

struct NetConfig {
  std::size_t max_request_bytes = 2 * 64 * 1024 + 4096;  // a REST body (see docs/operations.md)
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_frame_bytes = 1024 * 1024;
  std::size_t ws_max_queued_bytes = 4 * 1024 * 1024;  // per connection; beyond: close 1013
  std::chrono::milliseconds ws_auth_timeout{10'000};
  std::chrono::milliseconds ws_idle_timeout{60'000};
  std::chrono::milliseconds http_idle_timeout{30'000};
  std::chrono::milliseconds close_grace{5'000};  // a close handshake gets this long
  // Open client connections (HTTP + WebSocket) beyond which accepting pauses:
  // new clients wait in the listen backlog instead of taking the descriptors
  // the store needs (chatd sets it from the open-files limit). Each worker's
  // listener may have one accept in flight when the limit is reached, so up to
  // threads - 1 more can get in. 0: no limit.
  std::size_t max_connections = 0;
};

struct ServerContext {
  core::ChatCore& core;
  RestApi& api;
  Metrics& metrics;
  MediaService& media;
  NetConfig config;
};

// One per thread: sessions live on their worker's io_context all their life,
// so a session's state needs no lock.
struct Worker {
  boost::asio::io_context io{1};
  TimerWheel wheel{io};
};

}  // namespace chat::net

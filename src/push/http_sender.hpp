// Outgoing HTTP for pushes: libcurl's multi interface on one thread of its
// own, so no push I/O runs on a socket thread and one slow or dead endpoint
// never delays the others (every request is its own transfer with its own
// timeouts). Connections are reused (keep-alive, HTTP/2 multiplexing for
// APNs); TLS is verified (a CA file may be added for tests).
//
// SSRF guard: unless private addresses are allowed, every connection's peer
// address is checked after DNS resolution, at connect time (so rebinding a
// name between a check and the connect does not help): loopback, private,
// link-local, unique-local, multicast and unspecified addresses are refused
// and the request fails with error "blocked address".
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "push/push_types.hpp"

namespace chat::push {

struct HttpSenderConfig {
  bool allow_private = false;
  std::string ca_file;  // extra trusted CA (PEM), e.g. a test server's; empty: system CAs
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds total_timeout{15'000};
  std::size_t max_in_flight = 1'000;  // more wait in a queue
};

class HttpSender {
 public:
  explicit HttpSender(HttpSenderConfig config);
  ~HttpSender();  // cancels what is in flight (callbacks get status 0, "shutdown"), joins

  // Queues `req`; `done` runs once, on the sender's thread (must not block).
  void submit(OutgoingRequest req, std::function<void(PushResponse)> done);

  std::size_t in_flight() const;

  // Whether `ip` (textual v4 or v6) is one a push may go to when private
  // addresses are not allowed.
  static bool is_public_address(const std::string& ip);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace chat::push

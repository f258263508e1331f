// A tiny HTTP server that records what chatd POSTs to it (SMS webhook, and
// later push webhooks). Plain POSIX sockets on one thread: it answers each
// request with 200 and closes the connection, which is all a webhook needs.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace chat::test {

class WebhookSink {
 public:
  struct Request {
    std::string method;
    std::string target;
    std::string body;
  };

  WebhookSink();  // listens on 127.0.0.1 at a port the kernel picks
  ~WebhookSink();
  WebhookSink(const WebhookSink&) = delete;
  WebhookSink& operator=(const WebhookSink&) = delete;

  std::uint16_t port() const { return port_; }
  // "http://127.0.0.1:<port><path>"
  std::string url(std::string_view path) const;

  // The `index`-th request received (0-based), waiting up to `timeout` for it.
  std::optional<Request> wait_for(std::size_t index, std::chrono::milliseconds timeout);
  std::size_t count() const;

 private:
  void serve();
  void handle(int fd);

  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Request> requests_;
  std::thread thread_;
};

}  // namespace chat::test

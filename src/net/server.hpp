// The network front: N worker threads, each with its own io_context and its
// own acceptor on the same port (SO_REUSEPORT: the kernel spreads incoming
// connections over the workers, and a connection stays on one thread for life).
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "net/server_context.hpp"

namespace chat::net {

class Server {
 public:
  Server(ServerContext& ctx, std::size_t threads);
  ~Server();

  // Binds every worker's acceptor to host:port (port 0: an ephemeral port,
  // shared by all workers) and returns the bound endpoint. Throws on failure.
  boost::asio::ip::tcp::endpoint listen(const std::string& host, unsigned short port);
  void start();  // runs the workers on their own threads
  void stop();   // stops accepting and serving, joins the threads

 private:
  struct Listener;
  void accept_next(std::size_t i);
  void accept_later(std::size_t i);  // after an accept error, or at max_connections
  bool at_connection_limit();

  ServerContext& ctx_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::vector<std::thread> threads_;
  std::atomic<bool> limit_logged_{false};  // one log line per episode at the limit
};

}  // namespace chat::net

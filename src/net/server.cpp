#include "net/server.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdio>

#include <sys/socket.h>

#include "net/http_session.hpp"

namespace chat::net {
using tcp = boost::asio::ip::tcp;

struct Server::Listener {
  explicit Listener(Worker& w) : worker(w), acceptor(w.io), retry(w.io) {}
  Worker& worker;
  tcp::acceptor acceptor;
  boost::asio::steady_timer retry;  // after an accept error (EMFILE): pause, don't spin
};

Server::Server(ServerContext& ctx, std::size_t threads) : ctx_(ctx) {
  if (threads == 0) threads = 1;
  for (std::size_t i = 0; i < threads; ++i)
    workers_.push_back(std::make_unique<Worker>());
}

Server::~Server() {
  stop();
}

tcp::endpoint Server::listen(const std::string& host, unsigned short port) {
  tcp::endpoint endpoint(boost::asio::ip::make_address(host), port);
  if (port != 0) {
    // SO_REUSEPORT would let a second chatd (same user) share the port and
    // silently take half the connections. A plain bind first fails if anyone
    // already listens there, so a mistaken second start exits instead.
    tcp::acceptor probe(workers_.front()->io);
    probe.open(endpoint.protocol());
    probe.set_option(boost::asio::socket_base::reuse_address(true));
    boost::system::error_code ec;
    probe.bind(endpoint, ec);
    if (ec)
      throw std::runtime_error("cannot listen on " + host + ":" + std::to_string(port) + ": " +
                               ec.message());
  }
  for (auto& worker : workers_) {
    auto l = std::make_unique<Listener>(*worker);
    l->acceptor.open(endpoint.protocol());
    l->acceptor.set_option(boost::asio::socket_base::reuse_address(true));
    const int one = 1;
    if (::setsockopt(l->acceptor.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) !=
        0) {
      throw std::runtime_error("setsockopt(SO_REUSEPORT) failed");
    }
    l->acceptor.bind(endpoint);
    l->acceptor.listen(boost::asio::socket_base::max_listen_connections);
    // With port 0 the first bind picks the port; the other workers join it.
    endpoint = l->acceptor.local_endpoint();
    listeners_.push_back(std::move(l));
  }
  return endpoint;
}

void Server::start() {
  for (std::size_t i = 0; i < listeners_.size(); ++i)
    accept_next(i);
  for (auto& worker : workers_) {
    worker->wheel.start();
    threads_.emplace_back([&io = worker->io] { io.run(); });
  }
}

void Server::accept_next(std::size_t i) {
  if (at_connection_limit()) return accept_later(i);
  Listener& l = *listeners_[i];
  l.acceptor.async_accept([this, i](boost::system::error_code ec, tcp::socket socket) {
    Listener& l = *listeners_[i];
    if (ec == boost::asio::error::operation_aborted || !l.acceptor.is_open()) return;
    // EMFILE and friends: retry shortly; the listen backlog holds new clients meanwhile.
    if (ec) return accept_later(i);
    socket.set_option(tcp::no_delay(true), ec);  // small frames must not wait for Nagle
    start_http_session(std::move(socket), ctx_, l.worker);
    accept_next(i);
  });
}

void Server::accept_later(std::size_t i) {
  Listener& l = *listeners_[i];
  l.retry.expires_after(std::chrono::milliseconds(50));
  l.retry.async_wait([this, i](boost::system::error_code e) {
    if (!e) accept_next(i);
  });
}

bool Server::at_connection_limit() {
  const std::size_t cap = ctx_.config.max_connections;
  if (cap == 0) return false;
  const auto open = ctx_.metrics.http_connections.load(std::memory_order_relaxed) +
                    ctx_.metrics.ws_connections.load(std::memory_order_relaxed);
  const bool at_limit = open >= static_cast<std::int64_t>(cap);
  if (at_limit) ctx_.metrics.accept_pauses.fetch_add(1, std::memory_order_relaxed);
  // Say it once per episode: the operator needs to know why clients wait.
  if (at_limit && !limit_logged_.exchange(true)) {
    std::fprintf(stderr,
                 "chatd: at the connection limit (%zu); new clients wait in the listen backlog "
                 "(see docs/operations.md: raise ulimit -n or add a node)\n",
                 cap);
  } else if (!at_limit && open < static_cast<std::int64_t>(cap - cap / 20)) {
    limit_logged_.store(false);
  }
  return at_limit;
}

void Server::stop() {
  for (auto& worker : workers_)
    worker->io.stop();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
  // The threads are gone: closing on this thread is safe now.
  for (auto& l : listeners_) {
    boost::system::error_code ignored;
    l->acceptor.close(ignored);
  }
}

}  // namespace chat::net

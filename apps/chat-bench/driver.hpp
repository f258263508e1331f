// The load engine: T threads, each with its own io_context, its connections
// and its ThreadStats. Scenarios open connections through it and give it an
// open-loop send schedule; it runs the schedule on a 1 ms tick per thread
// (a message due at time t is sent with intended time t even if the tick is
// late, so a slow server shows up as latency, not as a lower offered rate:
// no coordinated omission), heartbeats every connection, flushes acks, and
// prints a progress line every second.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "connection.hpp"
#include "fixtures.hpp"
#include "stats.hpp"

namespace chat::bench {

struct DriverConfig {
  boost::asio::ip::tcp::endpoint server;
  std::size_t threads = 1;
  std::size_t source_ips = 1;  // bind to 127.0.0.2 .. 127.0.0.(1+N); 0: no bind
  std::chrono::milliseconds heartbeat{25'000};
  std::chrono::milliseconds ack_every{250};  // each socket acks what it got at least this often
  std::size_t connect_concurrency = 512;     // connects in flight at once
  bool progress = true;
};

// One scheduled sender: a connection that sends to `chat_id` every `interval_ns`
// (open loop), or as fast as `window` in-flight sends allow when interval is 0.
struct Sender {
  std::shared_ptr<Connection> connection;
  std::string chat_id;
  std::uint64_t interval_ns = 0;
  std::uint64_t next_due_ns = 0;
};

class Driver {
 public:
  explicit Driver(DriverConfig config);
  ~Driver();

  // Opens and authenticates connections for `users` (spread over the threads);
  // returns them in the same order (null where a connection failed).
  std::vector<std::shared_ptr<Connection>> connect(const Fixtures& f,
                                                   const std::vector<std::size_t>& users,
                                                   std::uint64_t measure_from_ns);
  // Runs `senders` (each on its connection's thread) until `until_ns` or stop().
  void run(std::vector<Sender> senders, std::uint64_t until_ns);
  // Runs until `done()` is true (checked every 10 ms) or `timeout` passes.
  bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout);
  void close_all();

  void stop() { stopping_ = true; }
  bool stopping() const { return stopping_; }
  std::vector<std::unique_ptr<ThreadStats>>& stats() { return stats_; }
  std::uint64_t total(std::atomic<std::uint64_t> ThreadStats::*counter) const;

 private:
  struct Worker;
  void progress_line(std::uint64_t started_ns);

  DriverConfig config_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::unique_ptr<ThreadStats>> stats_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};
};

}  // namespace chat::bench

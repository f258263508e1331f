// One benchmark WebSocket: a device of a provisioned user, on an Asio
// io_context shared with thousands of others (one thread, many sockets).
//
// It authenticates with the upgrade's Authorization header (no extra round
// trip), counts and checks every event (per-chat seqs must be gapless:
// a gap or a repeat is counted), records delivery latency from the send time
// carried in each message body, acknowledges its stream in batches, and sends
// `send` frames when the scenario's schedule says so.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "stats.hpp"

namespace chat::bench {

std::uint64_t now_ns();  // CLOCK_MONOTONIC: comparable across processes on one host
// When this process started (first call; main() calls it first thing).
// Messages older than this were not sent by this run.
std::uint64_t process_start_ns();

struct ConnectionConfig {
  boost::asio::ip::tcp::endpoint server;
  boost::asio::ip::address source;  // local address to bind (spreads ports over 127.0.0.x)
  std::string token;
  std::string user_id;
  std::uint64_t measure_from_ns = 0;  // samples with an intended time before this are warm-up
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(boost::asio::io_context& io, ConnectionConfig config, ThreadStats& stats);
  ~Connection();

  // Connects and authenticates; `on_ready(ok)` runs once (on the io thread).
  void start(std::function<void(bool)> on_ready);
  // Sends one message to `chat_id`; the body carries `intended_ns`.
  void send(const std::string& chat_id, std::uint64_t intended_ns);
  // Flushes the pending ack and sends a ping frame (heartbeat).
  void heartbeat();
  void flush_ack();
  void close();

  bool ready() const;
  std::uint64_t highest_seq(const std::string& chat_id) const;
  std::uint64_t message_events() const;

 private:
  struct Impl;
  void read_loop(std::function<void(bool)> on_ready);
  void on_frame(std::string_view frame, std::function<void(bool)>& on_ready);
  void write(std::string frame);
  void write_next();
  std::unique_ptr<Impl> impl_;
};

}  // namespace chat::bench

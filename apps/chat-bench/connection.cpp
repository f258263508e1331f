#include "connection.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>

#include <netinet/in.h>
#include <time.h>

#include <charconv>
#include <deque>
#include <unordered_map>

namespace chat::bench {
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = boost::asio::ip::tcp;

std::uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

std::uint64_t process_start_ns() {
  static const std::uint64_t start = now_ns();
  return start;
}

namespace {

constexpr std::uint64_t kAckEvery = 256;  // events between acks (plus the driver's 250 ms flush)

// Makes client_msg_ids unique per process run: a later run with the same
// users must not be taken for idempotent retries of an earlier one.
const std::string& run_nonce() {
  static const std::string nonce = std::to_string(now_ns() % 1'000'000'000'000ull);
  return nonce;
}

// events between acks (plus one per heartbeat)

// The value of "key": in a frame the server rendered (fixed shapes, no
// whitespace): a number, or a string without escapes. Cheap, and enough here.
std::string_view field(std::string_view frame, std::string_view key, std::size_t from = 0) {
  std::string pattern = "\"" + std::string(key) + "\":";
  const std::size_t at = frame.find(pattern, from);
  if (at == std::string_view::npos) return {};
  std::size_t begin = at + pattern.size();
  if (begin < frame.size() && frame[begin] == '"') {
    const std::size_t end = frame.find('"', begin + 1);
    return end == std::string_view::npos ? std::string_view{}
                                         : frame.substr(begin + 1, end - begin - 1);
  }
  std::size_t end = begin;
  while (end < frame.size() && (std::isdigit(static_cast<unsigned char>(frame[end])) ||
                                frame[end] == 'n' || frame[end] == 'u' || frame[end] == 'l')) {
    ++end;
  }
  return frame.substr(begin, end - begin);
}

std::uint64_t number(std::string_view s) {
  std::uint64_t n = 0;
  std::from_chars(s.data(), s.data() + s.size(), n);
  return n;
}

}  // namespace

struct Connection::Impl {
  Impl(boost::asio::io_context& io, ConnectionConfig c, ThreadStats& s)
      : ws(io), config(std::move(c)), stats(s) {}

  websocket::stream<tcp::socket> ws;
  ConnectionConfig config;
  ThreadStats& stats;
  beast::flat_buffer buffer;
  std::deque<std::string> outbox;
  bool writing = false;
  bool ready = false;
  bool closed = false;
  std::uint64_t next_id = 1;
  std::uint64_t highest_offset = 0;
  std::uint64_t acked_offset = 0;
  std::uint64_t since_ack = 0;
  std::uint64_t message_events = 0;
  std::unordered_map<std::uint64_t, std::uint64_t> pending;  // request id -> intended ns
  std::unordered_map<std::string, std::uint64_t> last_seq;   // chat -> last seq seen
};

Connection::Connection(boost::asio::io_context& io, ConnectionConfig config, ThreadStats& stats)
    : impl_(std::make_unique<Impl>(io, std::move(config), stats)) {}

Connection::~Connection() = default;

bool Connection::ready() const {
  return impl_->ready;
}
std::uint64_t Connection::message_events() const {
  return impl_->message_events;
}
std::uint64_t Connection::highest_seq(const std::string& chat_id) const {
  auto it = impl_->last_seq.find(chat_id);
  return it == impl_->last_seq.end() ? 0 : it->second;
}

void Connection::start(std::function<void(bool)> on_ready) {
  Impl& s = *impl_;
  auto& sock = s.ws.next_layer();
  boost::system::error_code ec;
  sock.open(s.config.server.protocol(), ec);
  if (!ec && !s.config.source.is_unspecified()) {
    // Choose the port at connect time, per destination: with many source
    // addresses this lifts the ~64 k ports-per-address ceiling.
    const int one = 1;
    ::setsockopt(sock.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    sock.bind(tcp::endpoint(s.config.source, 0), ec);
  }
  if (ec) {
    bump(s.stats.errors);
    return on_ready(false);
  }
  auto self = shared_from_this();
  sock.async_connect(s.config.server, [self, on_ready](boost::system::error_code ec) {
    Impl& s = *self->impl_;
    if (ec) {
      bump(s.stats.errors);
      return on_ready(false);
    }
    s.ws.next_layer().set_option(tcp::no_delay(true));
    s.ws.set_option(
        websocket::stream_base::decorator([token = s.config.token](websocket::request_type& req) {
          req.set(beast::http::field::authorization, "Bearer " + token);
        }));
    s.ws.auto_fragment(false);
    s.ws.read_message_max(1 << 20);
    const std::string host = s.config.server.address().to_string();
    s.ws.async_handshake(host, "/v1/ws", [self, on_ready](beast::error_code ec) {
      Impl& s = *self->impl_;
      if (ec) {
        bump(s.stats.errors);
        return on_ready(false);
      }
      self->read_loop(on_ready);
    });
  });
}

void Connection::read_loop(std::function<void(bool)> on_ready) {
  auto self = shared_from_this();
  impl_->ws.async_read(impl_->buffer, [self, on_ready](beast::error_code ec, std::size_t) mutable {
    Impl& s = *self->impl_;
    if (ec) {
      if (!s.closed) bump(s.stats.disconnects);
      if (s.ready) s.stats.connected.fetch_sub(1, std::memory_order_relaxed);
      if (!s.ready && on_ready) on_ready(false);
      s.ready = false;
      s.closed = true;
      return;
    }
    auto data = s.buffer.cdata();
    self->on_frame({static_cast<const char*>(data.data()), data.size()}, on_ready);
    s.buffer.consume(s.buffer.size());
    self->read_loop(std::move(on_ready));
  });
}

void Connection::on_frame(std::string_view f, std::function<void(bool)>& on_ready) {
  Impl& s = *impl_;
  const std::uint64_t now = now_ns();
  if (f.starts_with("{\"offset\":")) {
    bump(s.stats.events);
    const std::uint64_t offset = number(field(f, "offset"));
    s.highest_offset = std::max(s.highest_offset, offset);
    if (field(f, "type") == "message") {
      ++s.message_events;
      const std::string chat(field(f, "chat_id"));
      const std::uint64_t seq = number(field(f, "seq"));
      auto [it, first] = s.last_seq.try_emplace(chat, seq);
      if (!first) {
        if (seq == it->second + 1) {
          it->second = seq;
        } else if (seq <= it->second) {
          bump(s.stats.duplicates);
        } else {
          bump(s.stats.gaps);
          it->second = seq;
        }
      }
      const std::string_view body = field(f, "body");
      const std::string_view sender = field(f, "sender");
      const std::uint64_t intended = body.starts_with("t=") ? number(body.substr(2)) : 0;
      if (sender == "null") {
        // A system message (membership, title): part of the log, not traffic.
      } else if (intended < process_start_ns()) {
        bump(s.stats.stale);  // left unacknowledged by an earlier run: not this run's traffic
      } else if (sender == s.config.user_id) {
        bump(s.stats.echoes);
      } else {
        bump(s.stats.delivered);
        if (intended >= s.config.measure_from_ns && now > intended) {
          s.stats.deliver_us.record((now - intended) / 1000);
        }
      }
    }
    if (++s.since_ack >= kAckEvery) flush_ack();
    return;
  }
  if (f.starts_with("{\"type\":\"ok\"")) {
    const std::string_view id = field(f, "id");
    if (id == "null") {  // the auth answer to our Authorization header
      s.ready = true;
      bump(s.stats.connected);
      if (on_ready) std::exchange(on_ready, nullptr)(true);
      return;
    }
    auto it = s.pending.find(number(id));
    if (it != s.pending.end()) {
      bump(s.stats.acked);
      if (it->second >= s.config.measure_from_ns && now > it->second) {
        s.stats.ack_us.record((now - it->second) / 1000);
      }
      s.pending.erase(it);
    }
    return;
  }
  if (f.starts_with("{\"type\":\"error\"")) bump(s.stats.errors);
}

void Connection::send(const std::string& chat_id, std::uint64_t intended_ns) {
  Impl& s = *impl_;
  if (!s.ready) return;
  const std::uint64_t id = s.next_id++;
  s.pending.emplace(id, intended_ns);
  std::string frame = R"({"type":"send","id":)" + std::to_string(id) + R"(,"chat_id":")" + chat_id +
                      R"(","client_msg_id":"b)" + run_nonce() + '-' + std::to_string(id) +
                      R"(","body":"t=)" + std::to_string(intended_ns) + R"("})";
  bump(s.stats.sent);
  write(std::move(frame));
}

void Connection::flush_ack() {
  Impl& s = *impl_;
  s.since_ack = 0;
  if (!s.ready || s.highest_offset <= s.acked_offset) return;
  s.acked_offset = s.highest_offset;
  write(R"({"type":"ack","offset":)" + std::to_string(s.acked_offset) + "}");
}

void Connection::heartbeat() {
  flush_ack();
  if (impl_->ready) write(R"({"type":"ping"})");
}

void Connection::close() {
  Impl& s = *impl_;
  if (s.closed) return;
  s.closed = true;
  boost::system::error_code ignored;
  s.ws.next_layer().shutdown(tcp::socket::shutdown_both, ignored);
  s.ws.next_layer().close(ignored);
}

void Connection::write(std::string frame) {
  Impl& s = *impl_;
  s.outbox.push_back(std::move(frame));
  if (s.writing) return;
  write_next();
}

void Connection::write_next() {
  Impl& s = *impl_;
  if (s.outbox.empty() || s.closed) {
    s.writing = false;
    return;
  }
  s.writing = true;
  s.ws.text(true);
  auto self = shared_from_this();
  s.ws.async_write(boost::asio::buffer(s.outbox.front()),
                   [self](beast::error_code ec, std::size_t) {
                     Impl& s = *self->impl_;
                     if (ec) {
                       s.writing = false;
                       bump(s.stats.errors);
                       return;
                     }
                     s.outbox.pop_front();
                     self->write_next();
                   });
}

}  // namespace chat::bench

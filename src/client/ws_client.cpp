#include "client/ws_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <deque>

#include "client/io_deadline.hpp"

namespace chat::client {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using detail::SteadyClock;

namespace {

json::object timeout_object() {
  return {{"type", "timeout"}};
}

}  // namespace

struct WsClient::Impl {
  using Stream = websocket::stream<beast::tcp_stream>;

  asio::io_context ioc;
  std::unique_ptr<Stream> ws;  // a new one per connect(): a failed stream is not reusable
  beast::flat_buffer rbuf;
  std::deque<WsFrame> inbox;  // received, not yet handed out, in arrival order
  bool open = false;
  int close_code = 0;
  std::string close_reason;
  std::uint64_t pongs = 0;
  std::int64_t next_id = 1;
  int receive_buffer = 0;

  ~Impl() { drop(); }

  // Closes the TCP socket at once (no close handshake) and lets every pending
  // operation finish with operation_aborted, so none refers to a dead stream.
  void drop() {
    if (!ws) return;
    beast::get_lowest_layer(*ws).close();
    ioc.restart();
    ioc.run();
    ioc.restart();
    mark_closed(asio::error::operation_aborted);
  }

  void mark_closed(beast::error_code ec) {
    if (!open) return;
    open = false;
    // A received close frame wins over the error: Beast may fail the read
    // while answering a close frame whose code it has already recorded.
    if (ec == websocket::error::closed || ws->reason().code != websocket::close_code::none) {
      // A close frame without a status code is 1005 ("no status received", RFC 6455 7.4.1).
      close_code = ws->reason().code == websocket::close_code::none ? 1005 : ws->reason().code;
      close_reason = std::string(ws->reason().reason.c_str());
    } else {
      close_code = kAbnormalClosure;
      close_reason = ec.message();
    }
  }

  // The read that is always pending while the socket is open. It only makes
  // progress while a call runs the io_context.
  void start_read() {
    ws->async_read(rbuf, [this](beast::error_code ec, std::size_t) {
      if (ec) {
        mark_closed(ec);
        return;
      }
      inbox.push_back({WsStatus::frame, beast::buffers_to_string(rbuf.data()), !ws->got_text()});
      rbuf.consume(rbuf.size());
      start_read();
    });
  }

  // Runs the operation `start(handler)` begins until it completes or the
  // deadline passes; on the deadline the socket is dropped. True when it
  // completed in time, with its result in `ec`.
  template <class Start>
  bool run(Start&& start, SteadyClock::time_point deadline, beast::error_code& ec) {
    bool done = false;
    start([&](beast::error_code e, auto&&...) {
      ec = e;
      done = true;
    });
    if (detail::run_until(
            ioc, [&] { return done; }, deadline))
      return true;
    drop();
    return false;
  }

  bool send(std::string_view data, bool binary, Millis timeout) {
    if (!open) return false;
    ws->binary(binary);
    beast::error_code ec;
    const bool in_time = run(
        [&](auto handler) {
          ws->async_write(asio::buffer(data.data(), data.size()), std::move(handler));
        },
        SteadyClock::now() + timeout, ec);
    return in_time && !ec;
  }

  // The next queued frame, running the io_context until one arrives.
  WsFrame read_frame(SteadyClock::time_point deadline) {
    if (inbox.empty() && open) {
      detail::run_until(
          ioc, [&] { return !inbox.empty() || !open; }, deadline);
    }
    if (!inbox.empty()) {
      WsFrame f = std::move(inbox.front());
      inbox.pop_front();
      return f;
    }
    return {open ? WsStatus::timeout : WsStatus::closed, {}, false};
  }

  json::object closed_object() const {
    return {{"type", "closed"}, {"code", close_code}, {"reason", close_reason}};
  }

  // A frame as a JSON object (see next() in the header for the client-made ones).
  static json::object to_object(const WsFrame& f) {
    boost::system::error_code ec;
    json::value v = f.binary ? json::value() : json::parse(f.data, ec);
    if (ec || !v.is_object()) return {{"type", "unparseable"}, {"raw", f.data}};
    return std::move(v.as_object());
  }

  // The next frame as an object; `status` tells server frames from client-made ones.
  json::object next(SteadyClock::time_point deadline, WsStatus& status) {
    WsFrame f = read_frame(deadline);
    status = f.status;
    if (f.status == WsStatus::timeout) return timeout_object();
    if (f.status == WsStatus::closed) return closed_object();
    return to_object(f);
  }
};

WsClient::WsClient() : impl_(std::make_unique<Impl>()) {}
WsClient::~WsClient() = default;
WsClient::WsClient(WsClient&&) noexcept = default;
WsClient& WsClient::operator=(WsClient&&) noexcept = default;

int WsClient::connect(std::string_view host, std::uint16_t port, std::string_view target,
                      std::string_view bearer, Millis timeout) {
  Impl& im = *impl_;
  im.drop();
  im.ws.reset();
  im.inbox.clear();
  im.rbuf.clear();
  im.close_code = 0;
  im.close_reason.clear();
  const auto deadline = SteadyClock::now() + timeout;

  im.ws = std::make_unique<Impl::Stream>(im.ioc);
  auto& ws = *im.ws;
  // Deadlines are ours (see io_deadline.hpp): Beast's own timers stay off.
  ws.set_option(websocket::stream_base::timeout{websocket::stream_base::none(),
                                                websocket::stream_base::none(), false});
  ws.set_option(websocket::stream_base::decorator(
      [token = std::string(bearer)](websocket::request_type& req) {
        req.set(beast::http::field::user_agent, "chat-client");
        if (!token.empty()) req.set(beast::http::field::authorization, "Bearer " + token);
      }));
  ws.auto_fragment(false);         // a frame as big as the test asks for (1009 tests)
  ws.read_message_max(64u << 20);  // never the client's limit that a test runs into
  ws.control_callback([&im](websocket::frame_type kind, beast::string_view) {
    if (kind == websocket::frame_type::pong) ++im.pongs;
  });

  tcp::resolver resolver(im.ioc);
  beast::error_code ec;
  auto endpoints = resolver.resolve(std::string(host), std::to_string(port), ec);
  if (ec) return 0;
  if (im.receive_buffer > 0) {
    // Before connect(), so the window offered in the handshake is already small.
    auto& socket = beast::get_lowest_layer(ws).socket();
    socket.open(endpoints.begin()->endpoint().protocol(), ec);
    if (!ec) socket.set_option(asio::socket_base::receive_buffer_size(im.receive_buffer), ec);
    if (ec) return 0;
  }
  if (!im.run(
          [&](auto handler) {
            beast::get_lowest_layer(ws).socket().async_connect(*endpoints.begin(),
                                                               std::move(handler));
          },
          deadline, ec) ||
      ec) {
    return 0;
  }
  beast::get_lowest_layer(ws).socket().set_option(tcp::no_delay(true), ec);

  websocket::response_type res;
  const std::string host_header = std::string(host) + ":" + std::to_string(port);
  if (!im.run(
          [&](auto handler) { ws.async_handshake(res, host_header, target, std::move(handler)); },
          deadline, ec)) {
    return 0;
  }
  if (ec) {
    beast::get_lowest_layer(ws).close();
    return ec == websocket::error::upgrade_declined ? static_cast<int>(res.result_int()) : 0;
  }
  im.open = true;
  im.start_read();
  return 101;
}

void WsClient::set_receive_buffer(int bytes) {
  impl_->receive_buffer = bytes;
}

bool WsClient::send_text(std::string_view text, Millis timeout) {
  return impl_->send(text, false, timeout);
}
bool WsClient::send_binary(std::string_view bytes, Millis timeout) {
  return impl_->send(bytes, true, timeout);
}
bool WsClient::send_json(const json::value& frame, Millis timeout) {
  return impl_->send(json::serialize(frame), false, timeout);
}

bool WsClient::send_raw(std::string_view bytes, Millis timeout) {
  Impl& im = *impl_;
  if (!im.open) return false;
  bool done = false;
  beast::error_code ec;
  asio::async_write(beast::get_lowest_layer(*im.ws).socket(),
                    asio::buffer(bytes.data(), bytes.size()),
                    [&](beast::error_code e, std::size_t) {
                      ec = e;
                      done = true;
                    });
  if (!detail::run_until(
          im.ioc, [&] { return done; }, SteadyClock::now() + timeout)) {
    im.drop();
    return false;
  }
  return !ec;
}

std::string WsClient::encode_frame(int opcode, std::string_view payload) {
  std::string out;
  out.push_back(static_cast<char>(0x80 | (opcode & 0x0f)));
  const std::uint64_t n = payload.size();
  if (n < 126) {
    out.push_back(static_cast<char>(0x80 | n));
  } else if (n <= 0xffff) {
    out.push_back(static_cast<char>(0x80 | 126));
    out.push_back(static_cast<char>(n >> 8));
    out.push_back(static_cast<char>(n & 0xff));
  } else {
    out.push_back(static_cast<char>(0x80 | 127));
    for (int shift = 56; shift >= 0; shift -= 8)
      out.push_back(static_cast<char>((n >> shift) & 0xff));
  }
  out.append(4, '\0');  // masking key 0: XOR leaves the payload as is
  out.append(payload);
  return out;
}

bool WsClient::ping(Millis timeout) {
  Impl& im = *impl_;
  if (!im.open) return false;
  const auto deadline = SteadyClock::now() + timeout;
  const auto before = im.pongs;
  beast::error_code ec;
  if (!im.run([&](auto handler) { im.ws->async_ping({}, std::move(handler)); }, deadline, ec) ||
      ec) {
    return false;
  }
  return detail::run_until(
             im.ioc, [&] { return im.pongs > before || !im.open; }, deadline) &&
         im.pongs > before;
}

WsFrame WsClient::read_frame(Millis timeout) {
  return impl_->read_frame(SteadyClock::now() + timeout);
}

std::optional<std::string> WsClient::read(Millis timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  for (;;) {
    WsFrame f = impl_->read_frame(deadline);
    if (f.status != WsStatus::frame) return std::nullopt;
    if (!f.binary) return std::move(f.data);
  }
}

json::object WsClient::next(Millis timeout) {
  WsStatus status;
  return impl_->next(SteadyClock::now() + timeout, status);
}

json::object WsClient::next_where(const std::function<bool(const json::object&)>& match,
                                  Millis timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  for (;;) {
    WsStatus status;
    json::object obj = impl_->next(deadline, status);
    if (status != WsStatus::frame || match(obj)) return obj;
  }
}

json::object WsClient::next_of_type(std::string_view type, Millis timeout) {
  return next_where(
      [type](const json::object& o) {
        const auto* t = o.if_contains("type");
        return t != nullptr && t->is_string() && t->as_string() == type;
      },
      timeout);
}

json::object WsClient::call(json::object request, Millis timeout) {
  Impl& im = *impl_;
  if (!request.contains("id")) request["id"] = im.next_id++;
  const json::value id = request["id"];
  const auto deadline = SteadyClock::now() + timeout;
  if (!im.send(json::serialize(request), false, timeout)) return im.closed_object();
  // Scan the queue for the reply; what is scanned and not the reply stays queued.
  std::size_t scanned = 0;
  for (;;) {
    for (; scanned < im.inbox.size(); ++scanned) {
      const WsFrame& f = im.inbox[scanned];
      if (f.binary) continue;
      json::object obj = Impl::to_object(f);
      const auto* reply_id = obj.if_contains("id");
      if (reply_id != nullptr && *reply_id == id) {
        im.inbox.erase(im.inbox.begin() + static_cast<std::ptrdiff_t>(scanned));
        return obj;
      }
    }
    if (!im.open) return im.closed_object();
    if (!detail::run_until(
            im.ioc, [&] { return im.inbox.size() > scanned || !im.open; }, deadline)) {
      if (im.inbox.size() <= scanned && im.open) return timeout_object();
    }
  }
}

void WsClient::close(int code, Millis timeout) {
  Impl& im = *impl_;
  if (!im.open) return;
  const auto deadline = SteadyClock::now() + timeout;
  beast::error_code ec;
  const websocket::close_reason reason(static_cast<std::uint16_t>(code));
  if (!im.run([&](auto handler) { im.ws->async_close(reason, std::move(handler)); }, deadline,
              ec)) {
    return;
  }
  // The pending read sees the server's close frame and ends; give it until the deadline.
  if (!detail::run_until(
          im.ioc, [&] { return !im.open; }, deadline))
    im.drop();
}

bool WsClient::is_open() const {
  return impl_->open;
}
int WsClient::close_code() const {
  return impl_->close_code;
}
const std::string& WsClient::close_reason() const {
  return impl_->close_reason;
}
std::size_t WsClient::queued() const {
  return impl_->inbox.size();
}

}  // namespace chat::client

#include "net/http_session.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <optional>

#include "net/ws_session.hpp"
#include "proto/render.hpp"

namespace chat::net {
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

namespace {

// "Bearer abc" -> "abc"; anything else -> "".
std::string bearer_token(beast::string_view header) {
  constexpr std::string_view kPrefix = "Bearer ";
  if (header.size() <= kPrefix.size() || !header.starts_with(kPrefix)) return {};
  return std::string(header.substr(kPrefix.size()));
}

class HttpSession final : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket socket, ServerContext& ctx, Worker& worker)
      : stream_(std::move(socket)), ctx_(ctx), worker_(worker) {
    ctx_.metrics.http_connections.fetch_add(1, std::memory_order_relaxed);
  }
  ~HttpSession() { ctx_.metrics.http_connections.fetch_sub(1, std::memory_order_relaxed); }

  void read_next() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(ctx_.config.max_header_bytes));
    parser_->body_limit(ctx_.config.max_request_bytes);
    stream_.expires_after(ctx_.config.http_idle_timeout);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

 private:
  void on_read(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      return reply_error(too_large("request body over " +
                                   std::to_string(ctx_.config.max_request_bytes) + " bytes"),
                         false);
    }
    if (ec == http::error::header_limit) {
      return reply_error(too_large("request headers too large"), false);
    }
    if (ec) return close();  // closed, timed out, or not HTTP: nothing to answer
    auto& req = parser_->get();
    if (beast::websocket::is_upgrade(req)) return upgrade();

    HttpRequest request;
    request.method = std::string(req.method_string());
    const beast::string_view target = req.target();
    const std::size_t q = target.find('?');
    request.path = std::string(target.substr(0, q));
    if (q != beast::string_view::npos) request.query = std::string(target.substr(q + 1));
    request.bearer = bearer_token(req[http::field::authorization]);
    request.host = std::string(req[http::field::host]);
    request.body = std::move(req.body());
    keep_alive_ = req.keep_alive();
    version_ = req.version();
    stream_.expires_never();  // a long poll may take a while; the API bounds it

    // The pending answer keeps the session alive (no socket operation does meanwhile).
    ctx_.api.handle(std::move(request), worker_.io,
                    [self = shared_from_this(), &io = worker_.io](HttpResponse response) {
                      boost::asio::post(io, [self, response = std::move(response)]() mutable {
                        self->write(std::move(response));
                      });
                    });
  }

  void upgrade() {
    auto req = parser_->release();
    if (req.target() != "/v1/ws")
      return reply_error(not_found("WebSocket endpoint is /v1/ws"), false);
    std::optional<core::Principal> who;
    if (const auto header = req[http::field::authorization]; !header.empty()) {
      auto principal = ctx_.core.accounts().authenticate(bearer_token(header));
      if (!principal) return reply_error(principal.error(), false);
      who = std::move(*principal);
    }
    stream_.expires_never();
    start_ws_session(stream_.release_socket(), std::move(req), std::move(who), ctx_, worker_);
  }

  void reply_error(const Error& e, bool keep_alive) {
    keep_alive_ = keep_alive;
    version_ = 11;
    write(ctx_.api.error(e));
  }

  void write(HttpResponse r) {
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(r.status), version_);
    res->set(http::field::server, "chatd");
    if (!r.content_type.empty()) res->set(http::field::content_type, r.content_type);
    for (auto& [name, value] : r.headers)
      res->set(name, value);
    res->body() = std::move(r.body);
    res->keep_alive(keep_alive_);
    res->prepare_payload();
    stream_.expires_after(ctx_.config.http_idle_timeout);
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
                        if (ec || !res->keep_alive()) return self->close();
                        self->read_next();
                      });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  ServerContext& ctx_;
  Worker& worker_;
  bool keep_alive_ = true;
  unsigned version_ = 11;
};

}  // namespace

void start_http_session(tcp::socket socket, ServerContext& ctx, Worker& worker) {
  std::make_shared<HttpSession>(std::move(socket), ctx, worker)->read_next();
}

}  // namespace chat::net

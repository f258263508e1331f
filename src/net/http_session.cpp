#include "net/http_session.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <sys/sendfile.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <optional>

#include "net/query.hpp"
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

std::string_view path_of(beast::string_view target) {
  const std::string_view t(target.data(), target.size());
  return t.substr(0, t.find('?'));
}

std::string_view query_of(beast::string_view target) {
  const std::string_view t(target.data(), target.size());
  const std::size_t q = t.find('?');
  return q == std::string_view::npos ? std::string_view{} : t.substr(q + 1);
}

// "/v1/media/f1" -> ("f1", false); "/v1/media/f1/thumbnail" -> ("f1", true);
// anything else (including "/v1/media/f1/url", a JSON route) -> nullopt.
std::optional<std::pair<std::string_view, bool>> media_file_path(std::string_view path) {
  constexpr std::string_view kPrefix = "/v1/media/";
  if (!path.starts_with(kPrefix)) return std::nullopt;
  std::string_view rest = path.substr(kPrefix.size());
  const std::size_t slash = rest.find('/');
  if (slash == 0 || rest.empty()) return std::nullopt;
  if (slash == std::string_view::npos) return std::pair{rest, false};
  if (rest.substr(slash) == "/thumbnail") return std::pair{rest.substr(0, slash), true};
  return std::nullopt;
}

// "image/PNG; charset=x" -> "image/png".
std::string media_type_of(beast::string_view header) {
  std::string t(header.substr(0, header.find(';')));
  while (!t.empty() && t.back() == ' ')
    t.pop_back();
  std::transform(t.begin(), t.end(), t.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return t;
}

// Uploads are read in pieces of this size (allocated per upload, not per
// connection) and written to disk as they arrive: memory does not grow with
// the file.
constexpr std::size_t kUploadChunk = 64 * 1024;
// sendfile(2) is asked for at most this much per call, so one large download
// cannot monopolise its worker thread between waits.
constexpr std::size_t kSendfileChunk = 4 << 20;

class HttpSession final : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket socket, ServerContext& ctx, Worker& worker)
      : stream_(std::move(socket)), ctx_(ctx), worker_(worker) {
    ctx_.metrics.http_connections.fetch_add(1, std::memory_order_relaxed);
  }
  ~HttpSession() { ctx_.metrics.http_connections.fetch_sub(1, std::memory_order_relaxed); }

  // Reads the head first: it decides how the body is read (a REST body into
  // memory up to max_request_bytes, a media upload streamed to disk up to
  // max_media_bytes) and whether it is read at all (a download, an upgrade).
  void read_next() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(ctx_.config.max_header_bytes));
    // Checked per route in on_header; here only the largest body anyone may send.
    parser_->body_limit(
        std::max<std::uint64_t>(ctx_.config.max_request_bytes, ctx_.media.max_bytes()));
    stream_.expires_after(ctx_.config.http_idle_timeout);
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_header(ec); });
  }

 private:
  void on_header(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      return reply_error(
          too_large("request body over " + std::to_string(ctx_.media.max_bytes()) + " bytes"),
          false);
    }
    if (ec == http::error::header_limit) {
      return reply_error(too_large("request headers too large"), false);
    }
    if (ec) return close();
    auto& req = parser_->get();
    if (beast::websocket::is_upgrade(req)) return upgrade();
    keep_alive_ = req.keep_alive();
    version_ = req.version();
    const std::string_view path = path_of(req.target());
    if (path == "/v1/media" && req.method() == http::verb::post) return start_upload();
    if (auto file = media_file_path(path);
        file && (req.method() == http::verb::get || req.method() == http::verb::head)) {
      return start_download(file->first, file->second, req.method() == http::verb::head);
    }
    const auto length = parser_->content_length();
    if (length && *length > ctx_.config.max_request_bytes) {
      return reply_error(too_large("request body over " +
                                   std::to_string(ctx_.config.max_request_bytes) + " bytes"),
                         false);
    }
    parser_->body_limit(ctx_.config.max_request_bytes);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

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

  // ---- Media upload: POST /v1/media ----------------------------------------

  void start_upload() {
    auto& req = parser_->get();
    // The body is not read if the upload is refused: the connection then
    // closes after the answer (keep_alive false), since unread bytes follow.
    auto who = ctx_.core.accounts().authenticate(bearer_token(req[http::field::authorization]));
    if (!who) return reply_error(who.error(), false);
    const std::uint64_t limit = ctx_.media.max_bytes();
    if (auto length = parser_->content_length(); length && *length > limit) {
      return reply_error(too_large("media larger than " + std::to_string(limit) + " bytes"), false);
    }
    auto filename = query_param(query_of(req.target()), "filename");
    if (!filename) return reply_error(filename.error(), false);
    auto sink = ctx_.media.begin_upload();
    if (!sink) return reply_error(sink.error(), false);

    upload_ = std::make_unique<Upload>();
    upload_->who = std::move(*who);
    upload_->claimed_mime = media_type_of(req[http::field::content_type]);
    if (*filename) upload_->filename = clean_filename(**filename);
    upload_->sink = std::move(*sink);
    const bool expect_continue = beast::iequals(req[http::field::expect], "100-continue");
    upload_->parser.emplace(std::move(*parser_));
    upload_->parser->body_limit(limit);  // a chunked body is cut off here
    // Beast sizes each socket read by the read buffer's spare room, which a
    // connection grew only as far as its request heads: 512-byte reads, a
    // syscall pair per 512 bytes of a 100 MiB file. Room for a whole piece
    // makes each read up to 64 KiB; the buffer shrinks again afterwards.
    buffer_.reserve(kUploadChunk);
    if (!expect_continue) return read_upload_piece();
    // curl and others wait for this before sending a large body.
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    boost::asio::async_write(stream_, boost::asio::buffer(kContinue.data(), kContinue.size()),
                             [self = shared_from_this()](beast::error_code ec, std::size_t) {
                               if (ec) return self->close();
                               self->read_upload_piece();
                             });
  }

  void read_upload_piece() {
    auto& body = upload_->parser->get().body();
    body.data = upload_->chunk.get();
    body.size = kUploadChunk;
    stream_.expires_after(ctx_.config.http_idle_timeout);  // idle time, not total time
    http::async_read_some(stream_, buffer_, *upload_->parser,
                          [self = shared_from_this()](beast::error_code ec, std::size_t) {
                            self->on_upload_piece(ec);
                          });
  }

  void on_upload_piece(beast::error_code ec) {
    if (ec == http::error::need_buffer) ec = {};  // the piece is full: write it, read on
    const std::size_t got = kUploadChunk - upload_->parser->get().body().size;
    if (ec == http::error::body_limit) {
      upload_.reset();  // the temp file goes with the sink
      return reply_error(
          too_large("media larger than " + std::to_string(ctx_.media.max_bytes()) + " bytes"),
          false);
    }
    if (ec) {
      upload_.reset();
      return close();  // the client went away or stalled
    }
    if (got > 0) {
      if (auto written = upload_->sink->write(upload_->chunk.get(), got); !written) {
        upload_.reset();
        return reply_error(written.error(), false);
      }
    }
    if (!upload_->parser->is_done()) return read_upload_piece();

    stream_.expires_never();  // the pool answers; the pending answer keeps us alive
    buffer_.shrink_to_fit();
    auto upload = std::move(upload_);
    ctx_.media.finish_upload(
        std::move(upload->sink), std::move(upload->who), std::move(upload->claimed_mime),
        std::move(upload->filename),
        [self = shared_from_this(), &io = worker_.io](Result<std::string> r) {
          boost::asio::post(io, [self, r = std::move(r)]() mutable {
            if (!r) return self->write(self->ctx_.api.error(r.error()));
            self->write(HttpResponse{201, std::move(*r), "application/json", {}});
          });
        });
  }

  // ---- Media download: GET /v1/media/{id}[/thumbnail] ----------------------

  void start_download(std::string_view media_id, bool thumbnail, bool head) {
    auto& req = parser_->get();
    if (parser_->content_length().value_or(0) > 0 || parser_->chunked()) {
      return reply_error(bad_request("a download request has no body"), false);
    }
    auto opened = ctx_.media.open_download({
        .media_id = media_id,
        .thumbnail = thumbnail,
        .query = query_of(req.target()),
        .bearer = bearer_token(req[http::field::authorization]),
        .range = req[http::field::range],
        .if_none_match = req[http::field::if_none_match],
    });
    if (!opened) return reply_error(opened.error(), keep_alive_);
    download_ = std::make_unique<MediaDownload>(std::move(*opened));

    auto res = std::make_shared<http::response<http::empty_body>>(
        static_cast<http::status>(download_->status), version_);
    res->set(http::field::server, "chatd");
    const bool has_body = download_->status == 200 || download_->status == 206;
    if (has_body) res->set(http::field::content_type, download_->content_type);
    for (auto& [name, value] : download_->headers)
      res->set(name, value);
    // The body is sent with sendfile(2) after this head, so the length is set
    // by hand rather than by prepare_payload.
    if (download_->status != 304) res->content_length(has_body ? download_->length : 0);
    res->keep_alive(keep_alive_);
    if (head || !has_body) download_->length = 0;
    stream_.expires_after(ctx_.config.http_idle_timeout);
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
                        if (ec) return self->close();
                        self->send_file_piece();
                      });
  }

  // sendfile(2) straight from the page cache to the socket: no copy through
  // user space, and no buffer per download. When the socket buffer is full,
  // wait for it to drain; a reader that drains nothing for the idle timeout
  // is cut off.
  void send_file_piece() {
    stream_.expires_never();
    auto& d = *download_;
    const int sock = stream_.socket().native_handle();
    beast::error_code ignored;
    stream_.socket().non_blocking(true, ignored);
    while (d.length > 0) {
      auto offset = static_cast<off_t>(d.offset);
      const ssize_t n =
          ::sendfile(sock, d.fd, &offset, std::min<std::uint64_t>(d.length, kSendfileChunk));
      if (n > 0) {
        const auto sent = static_cast<std::uint64_t>(n);
        const bool short_write = sent < std::min<std::uint64_t>(d.length, kSendfileChunk);
        d.offset += sent;
        d.length -= sent;
        ctx_.metrics.media_download_bytes.fetch_add(sent, std::memory_order_relaxed);
        // A short write means the socket buffer is full: wait for room rather
        // than ask again only to be told EAGAIN.
        if (short_write && d.length > 0) return wait_writable();
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return wait_writable();
      download_.reset();  // error, or the file shrank under us
      return close();
    }
    download_.reset();
    send_timer_.reset();
    if (!keep_alive_) return close();
    read_next();
  }

  void wait_writable() {
    if (!send_timer_) send_timer_.emplace(worker_.io);
    send_timer_->expires_after(ctx_.config.http_idle_timeout);
    send_timer_->async_wait([weak = weak_from_this()](beast::error_code ec) {
      if (ec) return;  // re-armed or cancelled
      if (auto self = weak.lock()) self->stream_.socket().cancel();
    });
    stream_.socket().async_wait(tcp::socket::wait_write,
                                [self = shared_from_this()](beast::error_code ec) {
                                  if (ec) {
                                    self->download_.reset();
                                    self->send_timer_.reset();
                                    return self->close();
                                  }
                                  self->send_file_piece();
                                });
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
                        if (ec) return self->close();
                        if (!res->keep_alive()) return self->linger_close();
                        self->read_next();
                      });
  }

  // After refusing a request whose body we did not read (413 on an upload),
  // closing at once would make the kernel answer the client's pending bytes
  // with a reset, which can destroy our answer before the client reads it.
  // So: stop sending, then read and discard for a short while (nginx calls
  // this a lingering close), and close on EOF, error or timeout.
  void linger_close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    if (!linger_buffer_) linger_buffer_ = std::make_unique<char[]>(kLingerChunk);
    stream_.expires_after(std::chrono::seconds(2));
    stream_.async_read_some(boost::asio::buffer(linger_buffer_.get(), kLingerChunk),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->linger_left_ -= std::min(n, self->linger_left_);
                              if (ec || self->linger_left_ == 0) return self->stream_.close();
                              self->linger_close();
                            });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  // An upload in progress: allocated when one starts, so an idle connection
  // does not carry it.
  struct Upload {
    std::optional<http::request_parser<http::buffer_body>> parser;
    std::unique_ptr<char[]> chunk{new char[kUploadChunk]};
    std::unique_ptr<media::UploadSink> sink;
    core::Principal who;
    std::string claimed_mime;
    std::string filename;
  };

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::unique_ptr<Upload> upload_;
  std::unique_ptr<MediaDownload> download_;
  std::optional<boost::asio::steady_timer> send_timer_;
  static constexpr std::size_t kLingerChunk = 16 * 1024;
  std::unique_ptr<char[]> linger_buffer_;
  std::size_t linger_left_ = 4 << 20;  // discard at most this much, then close anyway
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

#include "client/http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <strings.h>

#include "client/io_deadline.hpp"

namespace chat::client {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using detail::SteadyClock;

std::string HttpResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && strncasecmp(k.data(), name.data(), k.size()) == 0) return v;
  }
  return {};
}

json::value HttpResponse::json() const {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) {
    throw ClientError("response body is not JSON (status " + std::to_string(status) + "): " + body);
  }
  return v;
}

std::string HttpResponse::error_code() const {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return {};
  const auto* err = v.as_object().if_contains("error");
  if (err == nullptr || !err->is_object()) return {};
  const auto* code = err->as_object().if_contains("code");
  return code != nullptr && code->is_string() ? std::string(code->as_string()) : std::string();
}

struct HttpClient::Impl {
  std::string host;
  std::uint16_t port;
  std::chrono::milliseconds timeout{10'000};
  asio::io_context ioc;
  tcp::socket socket{ioc};  // the kept-alive connection
  beast::flat_buffer buffer;

  Impl(std::string h, std::uint16_t p) : host(std::move(h)), port(p) {}

  SteadyClock::time_point deadline_for(std::chrono::milliseconds t) const {
    return SteadyClock::now() + (t.count() > 0 ? t : timeout);
  }

  void close() {
    boost::system::error_code ignored;
    socket.close(ignored);
    buffer.clear();
  }

  // Runs the operation that `start(handler)` begins on `s` until it completes
  // or the deadline passes; on the deadline `s` is closed and `timed_out` returned.
  template <class Start>
  beast::error_code run(tcp::socket& s, Start&& start, SteadyClock::time_point deadline) {
    bool done = false;
    beast::error_code result;
    start([&](beast::error_code ec, auto&&...) {
      result = ec;
      done = true;
    });
    if (!detail::run_until(
            ioc, [&] { return done; }, deadline)) {
      boost::system::error_code ignored;
      s.close(ignored);
      detail::drain(ioc, [&] { return done; });
      return asio::error::timed_out;
    }
    return result;
  }

  void connect(tcp::socket& s, SteadyClock::time_point deadline) {
    tcp::resolver resolver(ioc);
    beast::error_code ec;
    auto endpoints = resolver.resolve(host, std::to_string(port), ec);
    if (!ec) {
      ec = run(
          s, [&](auto handler) { asio::async_connect(s, endpoints, std::move(handler)); },
          deadline);
    }
    if (!ec) s.set_option(tcp::no_delay(true), ec);
    if (ec) {
      boost::system::error_code ignored;
      s.close(ignored);
      throw ClientError("connect to " + host + ":" + std::to_string(port) +
                        " failed: " + ec.message());
    }
  }

  // Reads one response into a plain HttpResponse.
  beast::error_code read(tcp::socket& s, beast::flat_buffer& buf, bool head_request,
                         SteadyClock::time_point deadline, HttpResponse& out, bool& keep_alive) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(boost::none);  // tests read whatever the server sends
    parser.skip(head_request);
    auto ec = run(
        s, [&](auto handler) { http::async_read(s, buf, parser, std::move(handler)); }, deadline);
    if (ec) return ec;
    auto& res = parser.get();
    out.status = static_cast<int>(res.result_int());
    out.body = std::move(res.body());
    out.headers.clear();
    for (const auto& field : res) {
      out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    keep_alive = res.keep_alive();
    return {};
  }
};

HttpClient::HttpClient(std::string host, std::uint16_t port)
    : impl_(std::make_unique<Impl>(std::move(host), port)) {}
HttpClient::~HttpClient() = default;
HttpClient::HttpClient(HttpClient&&) noexcept = default;
HttpClient& HttpClient::operator=(HttpClient&&) noexcept = default;

const std::string& HttpClient::host() const {
  return impl_->host;
}
std::uint16_t HttpClient::port() const {
  return impl_->port;
}
void HttpClient::set_timeout(std::chrono::milliseconds timeout) {
  impl_->timeout = timeout;
}
void HttpClient::disconnect() {
  impl_->close();
}

HttpResponse HttpClient::request(std::string_view method, std::string_view target,
                                 std::string_view body, const RequestOptions& options) {
  Impl& im = *impl_;
  const auto verb = http::string_to_verb(method);
  if (verb == http::verb::unknown) throw ClientError("unknown HTTP method " + std::string(method));
  http::request<http::string_body> req{verb, target, 11};
  req.set(http::field::host, im.host + ":" + std::to_string(im.port));
  req.set(http::field::user_agent, "chat-client");
  if (!options.bearer.empty()) req.set(http::field::authorization, "Bearer " + options.bearer);
  if (!body.empty()) req.set(http::field::content_type, options.content_type);
  for (const auto& [k, v] : options.headers)
    req.insert(k, v);
  req.body() = std::string(body);
  req.prepare_payload();

  const auto deadline = im.deadline_for(options.timeout);
  // Two attempts: a kept-alive connection may have been closed by the server
  // while idle, which shows only when we use it. A fresh connection that fails
  // is a real failure.
  for (int attempt = 0;; ++attempt) {
    const bool reused = im.socket.is_open();
    if (!reused) im.connect(im.socket, deadline);
    // A write error does not end the exchange: a server that refuses a large
    // body (413) may answer and close before it has read all of it.
    const auto write_ec = im.run(
        im.socket, [&](auto handler) { http::async_write(im.socket, req, std::move(handler)); },
        deadline);
    HttpResponse out;
    bool keep_alive = false;
    const auto read_ec =
        write_ec == asio::error::timed_out
            ? write_ec
            : im.read(im.socket, im.buffer, verb == http::verb::head, deadline, out, keep_alive);
    if (!read_ec) {
      if (!keep_alive) im.close();
      return out;
    }
    im.close();
    if (reused && attempt == 0 && read_ec != asio::error::timed_out) continue;
    throw ClientError(std::string(method) + " " + std::string(target) +
                      " failed: " + (write_ec ? "write: " + write_ec.message() + ", " : "") +
                      "read: " + read_ec.message());
  }
}

HttpResponse HttpClient::get(std::string_view target, std::string_view token) {
  return request("GET", target, {}, {.bearer = std::string(token)});
}
HttpResponse HttpClient::post(std::string_view target, const json::value& body,
                              std::string_view token) {
  return request("POST", target, json::serialize(body), {.bearer = std::string(token)});
}
HttpResponse HttpClient::patch(std::string_view target, const json::value& body,
                               std::string_view token) {
  return request("PATCH", target, json::serialize(body), {.bearer = std::string(token)});
}
HttpResponse HttpClient::put(std::string_view target, const json::value& body,
                             std::string_view token) {
  return request("PUT", target, json::serialize(body), {.bearer = std::string(token)});
}
HttpResponse HttpClient::del(std::string_view target, std::string_view token) {
  return request("DELETE", target, {}, {.bearer = std::string(token)});
}

HttpResponse HttpClient::raw(std::string_view bytes, std::chrono::milliseconds timeout) {
  Impl& im = *impl_;
  const auto deadline = im.deadline_for(timeout);
  tcp::socket s(im.ioc);
  im.connect(s, deadline);
  const auto write_ec = im.run(
      s,
      [&](auto handler) {
        asio::async_write(s, asio::buffer(bytes.data(), bytes.size()), std::move(handler));
      },
      deadline);
  HttpResponse out;
  if (write_ec == asio::error::timed_out) return out;
  // As in request(): read even after a failed write, the answer may be there.
  beast::flat_buffer buf;
  bool keep_alive = false;
  if (im.read(s, buf, false, deadline, out, keep_alive)) return HttpResponse{};
  return out;
}

}  // namespace chat::client

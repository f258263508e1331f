#include "net/webhook_sms_gateway.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include <chrono>
#include <cstdio>
#include <stdexcept>

namespace chat::net {
namespace beast = boost::beast;
namespace http = beast::http;

namespace {
constexpr std::size_t kMaxQueued = 10'000;  // beyond this, codes are dropped (and logged)
constexpr int kAttempts = 3;
}  // namespace

void LogSmsGateway::send_code(const std::string& phone, const std::string& code) {
  std::fprintf(stderr, "chatd: code for %s: %s\n", phone.c_str(), code.c_str());
}

WebhookSmsGateway::WebhookSmsGateway(const std::string& url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed || parsed->scheme() != "http" || !parsed->has_authority()) {
    throw std::invalid_argument("--sms-webhook-url must be an http:// URL, got '" + url + "'");
  }
  host_ = parsed->host();
  port_ = parsed->has_port() ? std::string(parsed->port()) : "80";
  target_ = parsed->encoded_path().empty() ? "/" : std::string(parsed->encoded_path());
  if (parsed->has_query()) target_ += "?" + std::string(parsed->encoded_query());
  thread_ = std::thread([this] { run(); });
}

WebhookSmsGateway::~WebhookSmsGateway() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void WebhookSmsGateway::send_code(const std::string& phone, const std::string& code) {
  {
    std::lock_guard lock(mutex_);
    if (queue_.size() >= kMaxQueued) {
      std::fprintf(stderr, "chatd: sms webhook queue full, dropping code for %s\n", phone.c_str());
      return;
    }
    queue_.push_back({phone, code});
  }
  wake_.notify_one();
}

void WebhookSmsGateway::run() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything sent
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    for (int attempt = 1; attempt <= kAttempts; ++attempt) {
      if (post(job)) break;
      if (attempt == kAttempts) {
        std::fprintf(stderr, "chatd: sms webhook failed %d times for %s\n", kAttempts,
                     job.phone.c_str());
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200 * attempt));
    }
  }
}

// One POST with a 5 s deadline over the whole exchange (async operations on a
// private io_context: Beast's stream timeouts only apply to async calls).
bool WebhookSmsGateway::post(const Job& job) {
  boost::asio::io_context io;
  beast::tcp_stream stream(io);
  boost::asio::ip::tcp::resolver resolver(io);
  http::request<http::string_body> req(http::verb::post, target_, 11);
  req.set(http::field::host, host_);
  req.set(http::field::content_type, "application/json");
  req.body() =
      boost::json::serialize(boost::json::object{{"phone", job.phone}, {"code", job.code}});
  req.prepare_payload();
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  beast::error_code failure;
  bool answered = false;

  stream.expires_after(std::chrono::seconds(5));
  resolver.async_resolve(host_, port_, [&](beast::error_code ec, auto endpoints) {
    if (ec) return void(failure = ec);
    stream.async_connect(endpoints, [&](beast::error_code ec, auto) {
      if (ec) return void(failure = ec);
      http::async_write(stream, req, [&](beast::error_code ec, std::size_t) {
        if (ec) return void(failure = ec);
        http::async_read(stream, buffer, res, [&](beast::error_code ec, std::size_t) {
          if (ec) return void(failure = ec);
          answered = true;
        });
      });
    });
  });
  io.run_for(std::chrono::seconds(6));  // resolve is not covered by the stream's deadline
  if (!answered) {
    std::fprintf(stderr, "chatd: sms webhook error: %s\n",
                 failure ? failure.message().c_str() : "timed out");
    return false;
  }
  if (res.result_int() < 200 || res.result_int() >= 300) {
    std::fprintf(stderr, "chatd: sms webhook answered %u\n", res.result_int());
    return false;
  }
  return true;
}

}  // namespace chat::net

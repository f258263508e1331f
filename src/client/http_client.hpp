// A blocking HTTP/1.1 client for tests and tools: one keep-alive connection,
// reopened when the server closed it, and a timeout on every call so a test
// can fail but never hang.
//
// Beast lives in http_client.cpp only (pimpl): including this header costs a
// test translation unit Boost.JSON's declarations, not a minute of Beast.
#pragma once

#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chat::client {

// A transport failure (refused, reset, timed out): the call could not get any
// HTTP answer. Protocol errors are ordinary responses, never exceptions.
class ClientError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpResponse {
  int status = 0;  // 0 only from HttpClient::raw when the server answered nothing
  std::string body;
  Headers headers;

  // The first header of that name (case-insensitive), or "" when absent.
  std::string header(std::string_view name) const;
  // The body parsed as JSON; throws ClientError (quoting the body) when it is not.
  boost::json::value json() const;
  // `error.code` of a protocol error body, or "" when the body has none.
  std::string error_code() const;
};

struct RequestOptions {
  std::string bearer;  // sent as `Authorization: Bearer <bearer>` when not empty
  Headers headers;     // extra headers, sent as given
  std::string content_type = "application/json";  // only sent with a non-empty body
  std::chrono::milliseconds timeout{0};           // 0: the client's default
};

class HttpClient {
 public:
  HttpClient(std::string host, std::uint16_t port);
  ~HttpClient();
  HttpClient(HttpClient&&) noexcept;
  HttpClient& operator=(HttpClient&&) noexcept;

  const std::string& host() const;
  std::uint16_t port() const;

  // Default per-call timeout (10 s). Long polls pass a longer one per request.
  void set_timeout(std::chrono::milliseconds timeout);

  // One request on the kept-alive connection. A request that fails because the
  // server had closed an idle kept-alive connection is retried once on a new
  // one. Throws ClientError when no response arrives in time.
  HttpResponse request(std::string_view method, std::string_view target, std::string_view body = {},
                       const RequestOptions& options = {});

  // JSON shorthands: `token` is the bearer token ("" for none). Raw or malformed
  // bodies go through request().
  HttpResponse get(std::string_view target, std::string_view token = {});
  HttpResponse post(std::string_view target, const boost::json::value& body,
                    std::string_view token = {});
  HttpResponse patch(std::string_view target, const boost::json::value& body,
                     std::string_view token = {});
  HttpResponse put(std::string_view target, const boost::json::value& body,
                   std::string_view token = {});
  HttpResponse del(std::string_view target, std::string_view token = {});

  // Sends `bytes` verbatim on a fresh connection (for malformed HTTP and other
  // bad input) and reads one response. Returns status 0 when the server closed
  // the connection, or sent nothing before the timeout, without a parseable answer.
  HttpResponse raw(std::string_view bytes, std::chrono::milliseconds timeout = {});

  // Drops the kept-alive connection; the next request opens a new one.
  void disconnect();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace chat::client

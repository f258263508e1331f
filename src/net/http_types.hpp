// HTTP requests and responses as the REST API sees them: plain strings, no
// Beast types, so the route handlers compile fast and read like the protocol.
// http_session.cpp converts between these and Beast's messages.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace chat::net {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // "/v1/chats/c1/messages" (no query)
  std::string query;   // "before=10&limit=50" (still percent-encoded)
  std::string bearer;  // the token from "Authorization: Bearer <token>", if any
  std::string host;    // the Host header (for /v1/discover)
  std::string body;
};

struct HttpResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

// Completes a request exactly once, from any thread.
using Respond = std::function<void(HttpResponse)>;

}  // namespace chat::net

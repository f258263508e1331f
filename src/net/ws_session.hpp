// A WebSocket connection at /v1/ws: one device's live view of its user's
// event stream (PROTOCOL.md, "The WebSocket").
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <optional>

#include "core/principal.hpp"
#include "net/server_context.hpp"

namespace chat::net {

// Takes over `socket` after the HTTP layer read an upgrade request. A
// principal from an `Authorization` header on the upgrade authenticates the
// session at once; otherwise the first frame must be `auth`.
void start_ws_session(boost::asio::ip::tcp::socket socket,
                      boost::beast::http::request<boost::beast::http::string_body> upgrade,
                      std::optional<core::Principal> who, ServerContext& ctx, Worker& worker);

}  // namespace chat::net

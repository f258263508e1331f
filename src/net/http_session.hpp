// An HTTP/1.1 connection: reads requests (with size limits), hands REST calls
// to the RestApi and WebSocket upgrades at /v1/ws to a WsSession.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include "net/server_context.hpp"

namespace chat::net {

void start_http_session(boost::asio::ip::tcp::socket socket, ServerContext& ctx, Worker& worker);

}  // namespace chat::net

// GET /v1/events: the long-poll fallback for clients without WebSockets.
//
// Answers at once when the stream holds events after `after`; otherwise
// listens on the LiveHub until one arrives (then reads it from the store, the
// same way a WebSocket catches up) or the timeout passes (empty answer).
#pragma once

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdint>

#include "core/chat_core.hpp"
#include "net/http_types.hpp"

namespace chat::net {

void start_long_poll(core::ChatCore& core, boost::asio::io_context& io, const core::Principal& who,
                     std::uint64_t after, std::chrono::milliseconds timeout, Respond respond);

}  // namespace chat::net

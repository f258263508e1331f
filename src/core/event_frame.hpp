// One event of a user's stream, ready to send: the per-recipient offset and the
// shared, already-serialised tail (see proto/render.hpp). Copying an
// EventFrame copies a pointer, never the message.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace chat::core {

struct EventFrame {
  std::uint64_t offset = 0;
  std::shared_ptr<const std::string> tail;
  std::int64_t sequenced_ms = 0;  // when the server ordered it (0 for replays): latency metric
};

}  // namespace chat::core

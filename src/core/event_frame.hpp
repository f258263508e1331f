// One event of a user's stream, ready to send: the per-recipient offset and the
// shared, already-serialised tail (see proto/render.hpp). Copying an
// EventFrame copies a pointer, never the message.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace chat::core {

// What a message event is about, shared by all its recipients like the tail:
// a session that wrote the event can later say which messages (and whose) a
// device's ack delivered without reading them back from the store.
struct MessageRef {
  std::string chat_id;
  std::uint64_t seq = 0;
  std::string sender;
};

struct EventFrame {
  std::uint64_t offset = 0;
  std::shared_ptr<const std::string> tail;
  std::int64_t sequenced_ms = 0;  // when the server ordered it (0 for replays): latency metric
  std::shared_ptr<const MessageRef> message;  // set for message events only
};

}  // namespace chat::core

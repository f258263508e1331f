// Reading a user's event stream and moving a device's cursor.
//
// The stream is the truth behind delivery ("pull-backed push"): a WebSocket
// session or a long poll that starts, reconnects or falls behind reads the
// stored events after its position, rendered here into the same EventFrames the
// live path publishes. Only *committed* events are ever read, so a client never
// sees an event a crash could still take back.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "base/result.hpp"
#include "core/event_frame.hpp"
#include "core/principal.hpp"
#include "core/receipts.hpp"
#include "core/sequencer.hpp"

namespace chat::core {

struct StreamPosition {
  std::uint64_t cursor = 0;  // the device's acknowledged offset
  std::uint64_t head = 0;    // the user's last committed offset
};

// The message events a session wrote to a device: it wrote every event in
// (from, upto], and `messages` are the message events among them that the
// device has not acknowledged yet (offset, reference), oldest first.
struct WrittenMessages {
  std::uint64_t from = 0;
  std::uint64_t upto = 0;
  std::vector<std::pair<std::uint64_t, std::shared_ptr<const MessageRef>>> messages;
};

// A page of the stream: the frames, and the last offset the read covered
// (past any event that could not be rendered and was skipped).
struct EventPage {
  std::vector<EventFrame> frames;
  std::uint64_t last_offset = 0;
};

class EventStream {
 public:
  EventStream(Sequencer& seq, Receipts& receipts) : seq_(seq), receipts_(receipts) {}

  StreamPosition position(const Principal& who) const;
  std::uint64_t head(const std::string& user_id) const;

  // Committed events of `user_id` after `after`, oldest first, at most `limit`.
  EventPage read(const std::string& user_id, std::uint64_t after, std::size_t limit) const;

  // Moves the device's cursor to `offset` (never backwards). An offset beyond
  // the committed head is bad_request. The messages the acked events point at
  // count as delivered to the user (receipts.hpp). `done` runs once the cursor
  // is stored. `written` (optional) is what the acking session wrote: when it
  // covers everything from the device's cursor to `offset`, the delivered
  // messages are taken from it instead of being read back from the store.
  void ack(const Principal& who, std::uint64_t offset, std::function<void(Status)> done,
           const WrittenMessages* written = nullptr);

 private:
  // Per chat: the highest message seq among the user's events in (from, to],
  // read from the store.
  std::vector<Receipts::Target> delivered_in(const std::string& user_id, std::uint64_t from,
                                             std::uint64_t to) const;

  Sequencer& seq_;
  Receipts& receipts_;
};

}  // namespace chat::core

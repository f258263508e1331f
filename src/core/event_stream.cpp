#include "core/event_stream.hpp"

#include <map>

#include "proto/render.hpp"

namespace chat::core {
namespace {

std::string cursor_key(const Principal& who) {
  return who.user_id + '\0' + who.device_id;
}

// Renders a stored event into the tail a live event would have carried.
// Returns an empty tail for an event whose target is gone (it is skipped).
std::string render_tail(const store::Store& store, const store::EventRecord& e) {
  switch (e.kind) {
    case store::EventKind::message: {
      auto m = store.get_message(e.chat_id, e.seq);
      return m ? proto::message_event_tail(proto::message_json(*m)) : std::string{};
    }
    case store::EventKind::chat: {
      auto v = store.get_chat_version(e.chat_id, e.seq);
      return v ? proto::chat_event_tail(*v) : std::string{};
    }
    case store::EventKind::deleted:
      return proto::deleted_event_tail(e.chat_id, e.seq);
    case store::EventKind::receipt:
      return proto::receipt_event_tail(e.chat_id, e.actor, e.status, e.seq, e.ts);
  }
  return {};
}

}  // namespace

StreamPosition EventStream::position(const Principal& who) const {
  auto [cached, head] = seq_.read([&](Directory& dir) {
    auto it = dir.cursors.find(cursor_key(who));
    auto stream = dir.streams.find(who.user_id);
    return std::pair{it == dir.cursors.end() ? std::optional<std::uint64_t>{} : it->second,
                     stream == dir.streams.end() ? 0 : stream->second.committed};
  });
  const std::uint64_t cursor =
      cached ? *cached : seq_.store().get_cursor(who.user_id, who.device_id);
  return {std::min(cursor, head), head};
}

std::uint64_t EventStream::head(const std::string& user_id) const {
  return seq_.read([&](Directory& dir) -> std::uint64_t {
    auto it = dir.streams.find(user_id);
    return it == dir.streams.end() ? 0 : it->second.committed;
  });
}

EventPage EventStream::read(const std::string& user_id, std::uint64_t after,
                            std::size_t limit) const {
  const std::uint64_t committed = head(user_id);
  EventPage page;
  page.last_offset = after;
  if (after >= committed) return page;
  const auto& store = seq_.store();
  auto records = store.events_after(user_id, after, limit);
  page.frames.reserve(records.size());
  for (const auto& e : records) {
    if (e.offset > committed) break;  // written by the writer, not yet acknowledged as durable
    page.last_offset = e.offset;
    std::string tail = render_tail(store, e);
    if (tail.empty()) continue;
    page.frames.push_back({e.offset, std::make_shared<const std::string>(std::move(tail)), 0});
  }
  return page;
}

std::vector<std::pair<std::string, std::uint64_t>> EventStream::delivered_in(
    const std::string& user_id, std::uint64_t from, std::uint64_t to) const {
  std::map<std::string, std::uint64_t> highest;
  while (from < to) {
    auto events = seq_.store().events_after(user_id, from, 1000);
    if (events.empty()) break;
    for (const auto& e : events) {
      if (e.offset > to) break;
      if (e.kind == store::EventKind::message) {
        auto& h = highest[e.chat_id];
        h = std::max(h, e.seq);
      }
    }
    from = events.back().offset;
  }
  return {highest.begin(), highest.end()};
}

void EventStream::ack(const Principal& who, std::uint64_t offset,
                      std::function<void(Status)> done) {
  const auto position = this->position(who);
  if (offset > position.head) return done(bad_request("offset is beyond the stream head"));
  if (offset <= position.cursor) return done(ok_status());  // cursors never move backwards

  // Store reads outside the lock: the acked events are committed, immutable.
  auto plans = receipts_.plan(who.user_id, ReceiptStatus::delivered,
                              delivered_in(who.user_id, position.cursor, offset));
  const std::int64_t now = seq_.clock().now_ms();
  seq_.transact([&](Transaction& tx) {
    auto [it, inserted] = tx.directory().cursors.try_emplace(cursor_key(who), 0);
    if (inserted) it->second = seq_.store().get_cursor(who.user_id, who.device_id);
    if (offset > it->second) {
      it->second = offset;
      tx.put(store::PutCursor{{who.user_id, who.device_id, offset}});
    }
    for (const auto& p : plans)
      receipts_.apply(tx, who.user_id, ReceiptStatus::delivered, p, now);
    tx.on_committed([done] { done(ok_status()); });
  });
}

}  // namespace chat::core

#include "core/event_stream.hpp"

#include "proto/render.hpp"

namespace chat::core {
namespace {

std::string cursor_key(const Principal& who) { return who.user_id + '\0' + who.device_id; }

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
  const std::uint64_t cursor = cached ? *cached : seq_.store().get_cursor(who.user_id, who.device_id);
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

void EventStream::ack(const Principal& who, std::uint64_t offset,
                      std::function<void(Status)> done) {
  std::optional<Error> error;
  bool already = false;
  seq_.transact([&](Transaction& tx) {
    Directory& dir = tx.directory();
    auto stream = dir.streams.find(who.user_id);
    const std::uint64_t head = stream == dir.streams.end() ? 0 : stream->second.committed;
    if (offset > head) {
      error = bad_request("offset is beyond the stream head");
      return;
    }
    auto [it, inserted] = dir.cursors.try_emplace(cursor_key(who), 0);
    if (inserted) it->second = seq_.store().get_cursor(who.user_id, who.device_id);
    if (offset <= it->second) {
      already = true;  // cursors never move backwards; nothing to store
      return;
    }
    it->second = offset;
    tx.put(store::PutCursor{{who.user_id, who.device_id, offset}});
    tx.on_committed([done] { done(ok_status()); });
  });
  if (error) return done(std::move(*error));
  if (already) done(ok_status());
}

}  // namespace chat::core

#include "core/event_stream.hpp"

#include <algorithm>
#include <map>

#include "proto/render.hpp"

namespace chat::core {
namespace {

std::string cursor_key(const Principal& who) {
  return who.user_id + '\0' + who.device_id;
}

// Renders a stored event into the frame a live event would have been (no
// offset yet). Returns a frame without a tail for an event whose target is
// gone (it is skipped).
EventFrame render(const store::Store& store, const store::EventRecord& e) {
  auto frame = [](std::string tail) {
    return EventFrame{0, std::make_shared<const std::string>(std::move(tail)), 0};
  };
  switch (e.kind) {
    case store::EventKind::message: {
      auto m = store.get_message(e.chat_id, e.seq);
      if (!m) return {};
      EventFrame f = frame(proto::message_event_tail(proto::message_json(*m)));
      f.message = std::make_shared<const MessageRef>(MessageRef{m->chat_id, m->seq, m->sender});
      return f;
    }
    case store::EventKind::chat: {
      auto v = store.get_chat_version(e.chat_id, e.seq);
      return v ? frame(proto::chat_event_tail(*v)) : EventFrame{};
    }
    case store::EventKind::deleted:
      return frame(proto::deleted_event_tail(e.chat_id, e.seq));
    case store::EventKind::receipt:
      return frame(proto::receipt_event_tail(e.chat_id, e.actor, e.status, e.seq, e.ts));
  }
  return {};
}

// Per chat: the highest seq and every (seq, sender) among the messages
// `written` holds in (from, to].
std::vector<Receipts::Target> delivered_from(const WrittenMessages& written, std::uint64_t from,
                                             std::uint64_t to) {
  std::vector<Receipts::Target> targets;
  for (const auto& [offset, m] : written.messages) {
    if (offset <= from || offset > to) continue;
    auto it = std::find_if(targets.begin(), targets.end(),
                           [&](const Receipts::Target& t) { return t.chat_id == m->chat_id; });
    if (it == targets.end()) {
      it = targets.insert(targets.end(), Receipts::Target{m->chat_id, 0, {}});
      it->known.emplace();
    }
    it->up_to = std::max(it->up_to, m->seq);
    it->known->emplace_back(m->seq, m->sender);
  }
  return targets;
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
    EventFrame frame = render(store, e);
    if (!frame.tail) continue;
    frame.offset = e.offset;
    page.frames.push_back(std::move(frame));
  }
  return page;
}

std::vector<Receipts::Target> EventStream::delivered_in(const std::string& user_id,
                                                        std::uint64_t from,
                                                        std::uint64_t to) const {
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
  std::vector<Receipts::Target> targets;
  for (auto& [chat_id, seq] : highest)
    targets.push_back({chat_id, seq, std::nullopt});
  return targets;
}

void EventStream::ack(const Principal& who, std::uint64_t offset, std::function<void(Status)> done,
                      const WrittenMessages* written) {
  const auto position = this->position(who);
  if (offset > position.head) return done(bad_request("offset is beyond the stream head"));
  if (offset <= position.cursor) return done(ok_status());  // cursors never move backwards

  // What the ack delivered: from the session when it wrote all of it (no
  // store read), else read back from the store -- outside the lock, the acked
  // events are committed and immutable.
  const bool session_knows = written && written->from <= position.cursor && offset <= written->upto;
  auto plans = receipts_.plan(who.user_id, ReceiptStatus::delivered,
                              session_knows ? delivered_from(*written, position.cursor, offset)
                                            : delivered_in(who.user_id, position.cursor, offset));
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

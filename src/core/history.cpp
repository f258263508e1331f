#include "core/history.hpp"

#include <algorithm>

namespace chat::core {

Result<std::vector<store::MessageRecord>> History::page(const Principal& who,
                                                        const std::string& chat_id,
                                                        const HistoryQuery& q) const {
  const int cursors = q.before.has_value() + q.after.has_value() + q.since_ts.has_value();
  if (cursors > 1) return bad_request("use one of before, after, since_ts");
  const std::size_t limit = std::clamp<std::size_t>(
      q.limit.value_or(config_.limits.default_history_page), 1, config_.limits.max_history_page);
  auto last = seq_.read([&](Directory& dir) -> std::optional<std::uint64_t> {
    const ChatState* chat = dir.chat_for_member(chat_id, who.user_id);
    if (!chat || !chat->committed) return std::nullopt;
    return chat->committed_seq;
  });
  if (!last) return not_found("chat not found");
  const store::Store& store = seq_.store();
  if (q.after) return store.messages_ascending(chat_id, *q.after + 1, *last, limit);
  if (q.since_ts) {
    return store.messages_ascending(chat_id, first_seq_at(chat_id, *q.since_ts, *last), *last,
                                    limit);
  }
  if (q.before) {
    if (*q.before <= 1) return std::vector<store::MessageRecord>{};
    return store.messages_descending(chat_id, 1, std::min(*q.before - 1, *last), limit);
  }
  return store.messages_descending(chat_id, 1, *last, limit);
}

std::uint64_t History::first_seq_at(const std::string& chat_id, std::int64_t since_ts,
                                    std::uint64_t last) const {
  std::uint64_t lo = 1, hi = last + 1;  // answer in [lo, hi]; hi = none
  while (lo < hi) {
    const std::uint64_t mid = lo + (hi - lo) / 2;
    auto m = seq_.store().get_message(chat_id, mid);
    if (m && m->ts >= since_ts) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return lo;
}

}  // namespace chat::core

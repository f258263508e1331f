#include "core/unread.hpp"

namespace chat::core {

std::uint64_t UnreadCounter::count(const std::string& chat_id, const std::string& user_id,
                                   std::uint64_t read_seq, std::uint64_t last_seq) {
  if (last_seq <= read_seq) return 0;
  const std::string key = chat_id + '\0' + user_id;
  Entry entry;
  {
    std::lock_guard lock(mutex_);
    if (auto it = cache_.find(key); it != cache_.end()) entry = it->second;
  }
  std::uint64_t n;
  if (entry.read_seq == read_seq && entry.last_seq != 0 && entry.last_seq <= last_seq) {
    n = entry.count + scan(chat_id, user_id, entry.last_seq + 1, last_seq);
  } else {
    n = scan(chat_id, user_id, read_seq + 1, last_seq);
  }
  std::lock_guard lock(mutex_);
  cache_[key] = Entry{read_seq, last_seq, n};
  return n;
}

std::uint64_t UnreadCounter::scan(const std::string& chat_id, const std::string& user_id,
                                  std::uint64_t from, std::uint64_t to) const {
  constexpr std::size_t kPage = 1000;
  std::uint64_t n = 0;
  while (from <= to) {
    auto page = store_.messages_ascending(chat_id, from, to, kPage);
    if (page.empty()) break;
    for (const auto& m : page) {
      if (m.kind != "system" && m.sender != user_id) ++n;
    }
    from = page.back().seq + 1;
  }
  return n;
}

}  // namespace chat::core

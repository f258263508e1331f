// Reading a chat's log (GET /v1/chats/{id}/messages): pages by seq or by time.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "core/config.hpp"
#include "core/principal.hpp"
#include "core/sequencer.hpp"

namespace chat::core {

struct HistoryQuery {
  std::optional<std::uint64_t> before;   // exclusive, newest first
  std::optional<std::uint64_t> after;    // exclusive, oldest first
  std::optional<std::int64_t> since_ts;  // inclusive, oldest first
  std::optional<std::size_t> limit;
};

class History {
 public:
  History(Sequencer& seq, const CoreConfig& config) : seq_(seq), config_(config) {}

  Result<std::vector<store::MessageRecord>> page(const Principal& who, const std::string& chat_id,
                                                 const HistoryQuery& q) const;

 private:
  // The first seq whose ts >= since_ts (binary search: ts is monotonic in seq).
  std::uint64_t first_seq_at(const std::string& chat_id, std::int64_t since_ts,
                             std::uint64_t last) const;

  Sequencer& seq_;
  const CoreConfig& config_;
};

}  // namespace chat::core

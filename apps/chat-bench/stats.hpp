// What one bench thread measures. Each thread owns one ThreadStats (no
// sharing on the hot path); the report merges them at the end and the
// progress line reads the relaxed atomic counters while running.
#pragma once

#include <atomic>
#include <cstdint>

#include "histogram.hpp"

namespace chat::bench {

struct ThreadStats {
  Histogram deliver_us;  // intended send time -> message event received by a recipient
  Histogram ack_us;      // intended send time -> the sender's `ok` (durably stored)
  std::atomic<std::uint64_t> sent{0};
  std::atomic<std::uint64_t> acked{0};
  std::atomic<std::uint64_t> delivered{0};    // message events from others
  std::atomic<std::uint64_t> echoes{0};       // own messages, seen as events
  std::atomic<std::uint64_t> stale{0};        // messages of an earlier run, replayed
  std::atomic<std::uint64_t> events{0};       // every event frame
  std::atomic<std::uint64_t> errors{0};       // error frames and failed sockets
  std::atomic<std::uint64_t> gaps{0};         // a chat's seq jumped (a lost message)
  std::atomic<std::uint64_t> duplicates{0};   // a chat's seq repeated
  std::atomic<std::uint64_t> connected{0};    // authenticated sockets now
  std::atomic<std::uint64_t> disconnects{0};  // sockets the server closed
  std::atomic<std::uint64_t> history_pages{0};
};

inline std::uint64_t load(const std::atomic<std::uint64_t>& a) {
  return a.load(std::memory_order_relaxed);
}
inline void bump(std::atomic<std::uint64_t>& a, std::uint64_t n = 1) {
  a.fetch_add(n, std::memory_order_relaxed);
}

}  // namespace chat::bench

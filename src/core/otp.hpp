// One-time codes for phone sign-in, held in memory (a restart voids pending
// codes; users simply ask for a new one). In cluster mode they move to Redis.
//
// Lifecycle of a phone's code:
//
//   issue() --> live --verify(right)--> used (any further try: 401)
//                |  \--verify(wrong) x5--> dead (any try: 429 until a new issue())
//                \--ttl passes--> expired (401)
//
// issue() replaces any previous code. At most `max_codes_per_window` codes
// per phone per window (an SMS-pumping guard): beyond that, 429.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/result.hpp"
#include "core/config.hpp"

namespace chat::core {

class OtpBook {
 public:
  explicit OtpBook(const CoreConfig& config) : config_(config) {}

  // A fresh code for `phone`, or rate_limited.
  Result<std::string> issue(const std::string& phone, std::int64_t now_ms);
  // Ok when `code` is the live code for `phone` (and consumes it).
  Status verify(const std::string& phone, const std::string& code, std::int64_t now_ms);

 private:
  struct Entry {
    std::string code_hash;
    std::int64_t expires_ms = 0;
    int wrong_tries = 0;
    bool used = false;
    std::vector<std::int64_t> issued_ms;  // within the rate window
  };
  void sweep(std::int64_t now_ms);

  const CoreConfig& config_;
  std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
  std::int64_t last_sweep_ms_ = 0;
};

}  // namespace chat::core

#include "core/otp.hpp"

#include <algorithm>

#include "base/random.hpp"
#include "base/sha256.hpp"

namespace chat::core {

Result<std::string> OtpBook::issue(const std::string& phone, std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  sweep(now_ms);
  Entry& e = entries_[phone];
  std::erase_if(e.issued_ms, [&](std::int64_t t) { return t <= now_ms - config_.otp_window_ms; });
  if (static_cast<int>(e.issued_ms.size()) >= config_.otp_max_codes_per_window) {
    Error err{ErrorCode::rate_limited, "too many codes requested for this phone"};
    err.retry_after_ms = e.issued_ms.front() + config_.otp_window_ms - now_ms;
    return err;
  }
  std::string code = random_digits(6);
  e.code_hash = sha256_hex(code);
  e.expires_ms = now_ms + config_.otp_ttl_ms;
  e.wrong_tries = 0;
  e.used = false;
  e.issued_ms.push_back(now_ms);
  return code;
}

Status OtpBook::verify(const std::string& phone, const std::string& code, std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(phone);
  if (it == entries_.end() || it->second.code_hash.empty()) {
    return unauthorized("no code was requested for this phone");
  }
  Entry& e = it->second;
  if (e.wrong_tries >= config_.otp_max_wrong_tries) {
    Error err{ErrorCode::rate_limited, "too many wrong codes; request a new code"};
    err.retry_after_ms = 0;
    return err;
  }
  if (e.used) return unauthorized("code already used");
  if (now_ms >= e.expires_ms) return unauthorized("code expired");
  if (!constant_time_equal(sha256_hex(code), e.code_hash)) {
    ++e.wrong_tries;
    return unauthorized("wrong code");
  }
  e.used = true;
  return ok_status();
}

// Forgets phones with no live code and no recent issues, at most once a minute.
void OtpBook::sweep(std::int64_t now_ms) {
  if (now_ms - last_sweep_ms_ < 60'000) return;
  last_sweep_ms_ = now_ms;
  std::erase_if(entries_, [&](const auto& kv) {
    const Entry& e = kv.second;
    const bool recent = !e.issued_ms.empty() && e.issued_ms.back() > now_ms - config_.otp_window_ms;
    return !recent && now_ms >= e.expires_ms;
  });
}

}  // namespace chat::core

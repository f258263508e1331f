// Time as the protocol sees it: integer milliseconds since the Unix epoch.
// The domain takes a Clock so tests can move time (OTP expiry) without sleeping.
#pragma once

#include <chrono>
#include <cstdint>

namespace chat {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::int64_t now_ms() const = 0;
};

class SystemClock final : public Clock {
 public:
  std::int64_t now_ms() const override {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  }
};

}  // namespace chat

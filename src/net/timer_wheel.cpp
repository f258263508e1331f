#include "net/timer_wheel.hpp"

namespace chat::net {

TimerWheel::TimerWheel(boost::asio::io_context& io, std::chrono::milliseconds tick,
                       std::size_t slots)
    : timer_(io), tick_(tick), epoch_(Clock::now()), slots_(slots) {}

void TimerWheel::start() {
  running_ = true;
  current_tick_ = tick_of(Clock::now());
  arm();
}

void TimerWheel::stop() {
  running_ = false;
  timer_.cancel();
}

std::uint64_t TimerWheel::tick_of(Clock::time_point t) const {
  if (t <= epoch_) return 0;
  return static_cast<std::uint64_t>((t - epoch_) / tick_);
}

void TimerWheel::schedule(std::weak_ptr<WheelTarget> target, Clock::time_point deadline) {
  // Round up, so a target is never woken before its deadline.
  const std::uint64_t due = std::max(tick_of(deadline) + 1, current_tick_ + 1);
  slots_[due % slots_.size()].push_back({std::move(target), due});
  ++size_;
}

void TimerWheel::arm() {
  timer_.expires_at(epoch_ + tick_ * static_cast<std::int64_t>(current_tick_ + 1));
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || !running_) return;
    advance();
    arm();
  });
}

void TimerWheel::advance() {
  const std::uint64_t now_tick = tick_of(Clock::now());
  while (current_tick_ < now_tick) {
    ++current_tick_;
    auto& slot = slots_[current_tick_ % slots_.size()];
    if (slot.empty()) continue;
    // Take the due entries out first: on_deadline() may schedule into this slot.
    std::vector<std::shared_ptr<WheelTarget>> due;
    std::size_t kept = 0;
    for (auto& e : slot) {
      if (e.due_tick <= current_tick_) {
        if (auto t = e.target.lock()) due.push_back(std::move(t));
      } else {
        if (&slot[kept] != &e) slot[kept] = std::move(e);  // due in a later revolution
        ++kept;
      }
    }
    size_ -= slot.size() - kept;
    slot.resize(kept);
    for (auto& t : due)
      t->on_deadline();
  }
}

}  // namespace chat::net

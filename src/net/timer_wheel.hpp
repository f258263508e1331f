// A hashed timer wheel: one Asio timer per worker thread instead of one per
// connection (ARCHITECTURE.md, principle 5).
//
// Sessions schedule a deadline (auth timeout, idle timeout, forced close).
// Every tick the wheel looks at one slot and calls `on_deadline()` on each
// target whose deadline has passed; the target decides whether to act (close)
// or to schedule again (it saw traffic since). So a busy connection costs the
// wheel one visit per idle period, never one timer operation per frame.
// Targets are held weakly: a closed session simply drops out.
//
// Not thread-safe: one wheel per io_context, used only from its thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

namespace chat::net {

class WheelTarget {
 public:
  virtual ~WheelTarget() = default;
  virtual void on_deadline() = 0;
};

class TimerWheel {
 public:
  using Clock = std::chrono::steady_clock;

  explicit TimerWheel(boost::asio::io_context& io,
                      std::chrono::milliseconds tick = std::chrono::milliseconds(250),
                      std::size_t slots = 512);

  void start();
  void stop();
  // Calls target->on_deadline() within one tick after `deadline`.
  void schedule(std::weak_ptr<WheelTarget> target, Clock::time_point deadline);
  std::size_t size() const { return size_; }

 private:
  struct Entry {
    std::weak_ptr<WheelTarget> target;
    std::uint64_t due_tick;
  };
  void arm();
  void advance();
  std::uint64_t tick_of(Clock::time_point t) const;

  boost::asio::steady_timer timer_;
  const std::chrono::milliseconds tick_;
  const Clock::time_point epoch_;
  std::vector<std::vector<Entry>> slots_;
  std::uint64_t current_tick_ = 0;
  std::size_t size_ = 0;
  bool running_ = false;
};

}  // namespace chat::net

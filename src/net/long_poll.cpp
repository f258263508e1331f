#include "net/long_poll.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <memory>

#include "proto/render.hpp"

namespace chat::net {
namespace {

constexpr std::size_t kMaxEventsPerPoll = 500;

class LongPoll;

// What the LiveHub holds: a weak link to the poll (which owns an Asio timer
// and must not outlive its io_context through the hub).
class Waker final : public core::EventListener {
 public:
  Waker(std::weak_ptr<LongPoll> poll, boost::asio::io_context& io, std::string device_id)
      : poll_(std::move(poll)), io_(io), device_id_(std::move(device_id)) {}
  void on_event(const core::EventFrame&) override;
  void on_revoked() override { on_event({}); }
  const std::string& device_id() const override { return device_id_; }

 private:
  std::weak_ptr<LongPoll> poll_;
  boost::asio::io_context& io_;
  std::string device_id_;
  std::atomic<bool> posted_{false};  // one post per burst of events
  friend class LongPoll;
};

class LongPoll final : public std::enable_shared_from_this<LongPoll> {
 public:
  LongPoll(core::ChatCore& core, boost::asio::io_context& io, core::Principal who,
           std::uint64_t after, Respond respond)
      : core_(core),
        io_(io),
        timer_(io),
        who_(std::move(who)),
        after_(after),
        respond_(std::move(respond)) {}

  void start(std::chrono::milliseconds timeout) {
    if (try_answer(false)) return;
    waker_ = std::make_shared<Waker>(weak_from_this(), io_, who_.device_id);
    core_.hub().subscribe(who_.user_id, waker_);
    // An event committed between the read above and the subscription would
    // never be published to us: read once more now that we listen.
    if (try_answer(false)) return;
    timer_.expires_after(timeout);
    timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec) self->try_answer(true);
    });
  }

  void on_woken() {
    waker_->posted_ = false;
    try_answer(false);
  }

 private:
  // Answers if there are events (or `even_if_empty`); false if still waiting.
  bool try_answer(bool even_if_empty) {
    if (done_) return true;
    auto frames = core_.events().read(who_.user_id, after_, kMaxEventsPerPoll).frames;
    if (frames.empty() && !even_if_empty) return false;
    done_ = true;
    timer_.cancel();
    if (waker_) core_.hub().unsubscribe(who_.user_id, waker_.get());
    std::string body = "{\"events\":[";
    for (std::size_t i = 0; i < frames.size(); ++i) {
      if (i) body += ',';
      body += proto::event_frame(frames[i].offset, *frames[i].tail);
    }
    body += "],\"head\":" + std::to_string(core_.events().head(who_.user_id)) + "}";
    respond_(HttpResponse{200, std::move(body), "application/json", {}});
    return true;
  }

  core::ChatCore& core_;
  boost::asio::io_context& io_;
  boost::asio::steady_timer timer_;
  core::Principal who_;
  std::uint64_t after_;
  Respond respond_;
  std::shared_ptr<Waker> waker_;
  bool done_ = false;
};

// Called on the writer thread: hop to the connection's thread.
void Waker::on_event(const core::EventFrame&) {
  if (posted_.exchange(true)) return;
  boost::asio::post(io_, [poll = poll_] {
    if (auto p = poll.lock()) p->on_woken();
  });
}

}  // namespace

void start_long_poll(core::ChatCore& core, boost::asio::io_context& io, const core::Principal& who,
                     std::uint64_t after, std::chrono::milliseconds timeout, Respond respond) {
  std::make_shared<LongPoll>(core, io, who, after, std::move(respond))->start(timeout);
}

}  // namespace chat::net

// The WebSocket session.
//
// Life of a session:
//
//   accept --> unauthenticated --auth ok--> streaming --close/error--> closed
//                  |  (other frames: error unauthorized;               ^
//                  |   no auth in time: close 1008)                    |
//                  \------------------------------ closing (handshake, forced after a grace)
//
// Streaming is "pull-backed push". `sent_upto_` is the last offset queued to
// this socket. While `behind_`, the session reads pages of committed events
// from the store after `sent_upto_` (catch-up after auth, or after a gap);
// once caught up, live events from the LiveHub are queued directly as long as
// each is exactly `sent_upto_ + 1`. Anything else (a gap, because a push was
// missed) just sets `behind_` again, and the store fills it. The send queue is
// bounded: a live event that would overflow it closes the socket (1013) -- the
// client resumes from its cursor and loses nothing. Catch-up only reads while
// the queue is below half the bound, so catching up never overflows it.
//
// Everything here runs on the session's worker thread; the LiveHub's callbacks
// (on the storage writer thread) only append to a locked inbox and post.
#include "net/ws_session.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <deque>
#include <mutex>

#include "core/event_stream.hpp"
#include "core/presence.hpp"
#include "proto/render.hpp"
#include "proto/requests.hpp"

namespace chat::net {
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace json = boost::json;
using tcp = boost::asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr std::size_t kCatchUpPage = 256;
constexpr std::size_t kIdleReadBytes = 64;  // buffer held by a socket waiting for its next message
constexpr std::size_t kMaxUnackedMessages = 4096;  // remembered per socket for its acks
constexpr int kMaxBadFrames = 100;  // then the client is treated as broken (close 1008)

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// One queued frame: a small per-connection head plus, for events, the tail
// shared by every recipient. `offset` is 0 for replies.
struct OutFrame {
  std::string head;
  std::shared_ptr<const std::string> tail;
  std::int64_t sequenced_ms = 0;
  bool is_event = false;
  std::size_t size() const { return head.size() + (tail ? tail->size() : 0); }
};

class WsSession;

// The session's mailbox on the LiveHub. Lives as long as the hub holds it;
// forwards to the session only while the session exists.
class Inbox final : public core::EventListener, public core::PresenceWatcher {
 public:
  Inbox(std::weak_ptr<WsSession> session, boost::asio::io_context& io, std::string user_id,
        std::string device_id)
      : session_(std::move(session)),
        io_(io),
        user_id_(std::move(user_id)),
        device_id_(std::move(device_id)) {}

  void on_event(const core::EventFrame& frame) override;
  void on_ephemeral(const std::shared_ptr<const std::string>& frame) override;
  void on_revoked() override;
  const std::string& device_id() const override { return device_id_; }
  void on_presence(std::shared_ptr<const std::string> frame) override { on_ephemeral(frame); }
  const std::string& viewer() const override { return user_id_; }

  struct Mail {
    std::vector<core::EventFrame> events;
    std::vector<std::shared_ptr<const std::string>> ephemeral;
  };
  Mail take() {
    std::lock_guard lock(mutex_);
    posted_ = false;
    return std::exchange(mail_, {});
  }

 private:
  void post_drain();  // with mutex_ held

  std::weak_ptr<WsSession> session_;
  boost::asio::io_context& io_;
  std::string user_id_;
  std::string device_id_;
  std::mutex mutex_;
  Mail mail_;
  bool posted_ = false;  // a drain is already on its way: one post per burst
};

class WsSession final : public WheelTarget, public std::enable_shared_from_this<WsSession> {
 public:
  WsSession(tcp::socket socket, ServerContext& ctx, Worker& worker)
      : ws_(std::move(socket)), ctx_(ctx), worker_(worker) {
    ctx_.metrics.ws_connections.fetch_add(1, std::memory_order_relaxed);
  }
  ~WsSession() override { ctx_.metrics.ws_connections.fetch_sub(1, std::memory_order_relaxed); }

  void start(beast::http::request<beast::http::string_body> upgrade,
             std::optional<core::Principal> who) {
    ws_.read_message_max(ctx_.config.max_frame_bytes);
    ws_.auto_fragment(false);
    // Timeouts are the wheel's job (one timer per thread, not per socket).
    ws_.set_option(websocket::stream_base::timeout{websocket::stream_base::none(),
                                                   websocket::stream_base::none(), false});
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(beast::http::field::server, "chatd"); }));
    // WebSocket-level pings count as activity (PROTOCOL.md: "ping frames work too").
    ws_.control_callback([this](websocket::frame_type, beast::string_view) { touch(); });
    opened_ = SteadyClock::now();
    touch();
    wake_at(opened_ + ctx_.config.ws_auth_timeout);
    ws_.async_accept(
        upgrade, [self = shared_from_this(), who = std::move(who)](beast::error_code ec) mutable {
          if (ec) return self->finish();
          self->state_ = State::open;
          if (who) self->on_authenticated(std::move(*who), std::nullopt, json::value(nullptr));
          self->read_next();
        });
  }

  // Called (on our thread) when the Inbox has live events.
  void drain_inbox() {
    if (!inbox_ || state_ != State::open) return;
    auto mail = inbox_->take();
    for (auto& frame : mail.events)
      on_live_event(frame);
    for (auto& frame : mail.ephemeral) {
      // Ephemeral frames are worth nothing late: under pressure they are dropped.
      if (queued_bytes_ + frame->size() <= ctx_.config.ws_max_queued_bytes) {
        enqueue({std::string{}, std::move(frame), 0, false});
      }
    }
  }

  void revoke() { close_with(websocket::close_code::policy_error, "token revoked"); }

  void on_deadline() override {
    const auto now = SteadyClock::now();
    // A superseded wake-up (the deadline moved): the one for wake_at_ is still pending.
    if (now < wake_at_) return;
    switch (state_) {
      case State::closed:
        return;
      case State::accepting:  // the handshake never completed
      case State::closing:    // the peer never finished the close handshake
        return finish();
      case State::open:
        break;
    }
    if (!who_) {
      const auto deadline = opened_ + ctx_.config.ws_auth_timeout;
      if (now >= deadline) return close_with(websocket::close_code::policy_error, "auth timeout");
      return wake_at(deadline);
    }
    const auto deadline = last_activity_ + ctx_.config.ws_idle_timeout;
    if (now >= deadline) return close_with(websocket::close_code::going_away, "idle timeout");
    wake_at(deadline);
  }

 private:
  enum class State { accepting, open, closing, closed };

  void touch() { last_activity_ = SteadyClock::now(); }

  // The session's next deadline; replaces any earlier one (see on_deadline).
  void wake_at(SteadyClock::time_point t) {
    wake_at_ = t;
    worker_.wheel.schedule(weak_from_this(), t);
  }

  // ---- Reading -------------------------------------------------------------

  // Reads a message piece by piece. Beast's whole-message read prepares
  // ~1.5 KiB of buffer before the first byte arrives, and an idle socket would
  // hold that for its whole life; here the first piece of a message asks for
  // at most kIdleReadBytes, the rest follows in one more read (served from
  // what Beast already received when the message arrived whole, as small
  // frames do), and the buffer is freed once the message is handled. Size and UTF-8 limits still
  // apply per message.
  void read_next() {
    const std::size_t limit = buffer_.size() == 0 ? kIdleReadBytes : ctx_.config.max_frame_bytes;
    ws_.async_read_some(buffer_, limit,
                        [self = shared_from_this()](beast::error_code ec, std::size_t) {
                          if (ec) return self->finish();  // closed, reset, 1009, bad UTF-8
                          if (!self->ws_.is_message_done()) return self->read_next();
                          self->on_message();
                          self->read_next();
                        });
  }

  void on_message() {
    touch();
    if (state_ == State::open) {
      if (!ws_.got_text()) {
        on_bad_frame(json::value(nullptr), bad_request("frames must be JSON text"));
      } else {
        auto data = buffer_.cdata();
        on_text({static_cast<const char*>(data.data()), data.size()});
      }
    }
    buffer_.consume(buffer_.size());
    buffer_.shrink_to_fit();
  }

  void on_text(std::string_view text) {
    json::value id;
    auto frame = proto::parse_frame(text, id);
    if (!frame) return on_bad_frame(id, frame.error());
    if (!who_) {
      if (frame->type != proto::FrameType::auth) {
        return reply_error(frame->id, unauthorized("authenticate first: send an auth frame"));
      }
      return on_auth(*frame);
    }
    switch (frame->type) {
      case proto::FrameType::auth:
        return reply_error(frame->id, bad_request("already authenticated"));
      case proto::FrameType::ack:
        return on_ack(*frame);
      case proto::FrameType::send:
        return on_send(*frame);
      case proto::FrameType::ping:
        return enqueue({proto::pong_frame(frame->id), nullptr, 0, false});
      case proto::FrameType::read:
        return on_read(*frame);
      case proto::FrameType::delete_message:
        return on_delete(*frame);
      case proto::FrameType::typing:
        return on_typing(*frame);
      case proto::FrameType::presence_subscribe:
        return on_presence_subscribe(*frame);
    }
  }

  void on_read(const proto::Frame& frame) {
    const auto r = proto::chat_seq_frame(frame);
    ctx_.core.receipts().mark(*who_, r.chat_id, core::ReceiptStatus::read, r.seq,
                              reply_later<Status>(frame.id, no_fields));
  }

  void on_delete(const proto::Frame& frame) {
    const auto r = proto::chat_seq_frame(frame);
    ctx_.core.deletion().delete_message(*who_, r.chat_id, r.seq,
                                        reply_later<Status>(frame.id, no_fields));
  }

  void on_typing(const proto::Frame& frame) {
    const auto t = proto::typing_frame(frame);
    auto s = ctx_.core.presence().typing(*who_, t.chat_id, t.typing);
    if (!s) return reply_error(frame.id, s.error());
    if (!frame.id.is_null()) enqueue({proto::ok_frame(frame.id), nullptr, 0, false});
  }

  void on_presence_subscribe(const proto::Frame& frame) {
    auto frames = ctx_.core.presence().subscribe(inbox_, proto::presence_subscribe_frame(frame));
    if (!frames) return reply_error(frame.id, frames.error());
    if (!frame.id.is_null()) enqueue({proto::ok_frame(frame.id), nullptr, 0, false});
    for (auto& f : *frames)
      enqueue({std::move(f), nullptr, 0, false});
  }

  static std::string no_fields(const Status&) { return {}; }

  void on_bad_frame(const json::value& id, const Error& e) {
    reply_error(id, e);
    if (++bad_frames_ > kMaxBadFrames) {
      close_with(websocket::close_code::policy_error, "too many malformed frames");
    }
  }

  void on_auth(const proto::Frame& frame) {
    auto auth = proto::auth_frame(frame);
    auto who = ctx_.core.accounts().authenticate(auth.token);
    if (!who) return reply_error(frame.id, who.error());
    on_authenticated(std::move(*who), auth.from_offset, frame.id);
  }

  void on_authenticated(core::Principal who, std::optional<std::uint64_t> from_offset,
                        const json::value& id) {
    who_ = std::move(who);
    // Listen before reading the stream position, so nothing committed in
    // between can be missed: it is either read from the store or pushed.
    inbox_ = std::make_shared<Inbox>(weak_from_this(), worker_.io, who_->user_id, who_->device_id);
    ctx_.core.hub().subscribe(who_->user_id, inbox_);
    ctx_.core.presence().connected(who_->user_id);
    const auto position = ctx_.core.events().position(*who_);
    sent_upto_ = from_offset ? std::min(*from_offset, position.head) : position.cursor;
    written_.from = written_.upto = sent_upto_;
    std::string fields = "\"user_id\":" + proto::quote(who_->user_id) +
                         ",\"device_id\":" + proto::quote(who_->device_id) +
                         ",\"cursor\":" + std::to_string(position.cursor) +
                         ",\"head\":" + std::to_string(position.head);
    enqueue({proto::ok_frame(id, fields), nullptr, 0, false});
    ctx_.core.accounts().touch_device(*who_);
    // From now on the idle timeout applies (it may be shorter than the auth timeout).
    wake_at(last_activity_ + ctx_.config.ws_idle_timeout);
    behind_ = true;
    catch_up();
  }

  void on_ack(const proto::Frame& frame) {
    const auto ack = proto::ack_frame(frame);
    if (!frame.id.is_null()) {
      const auto written = take_written(ack.offset);
      return ctx_.core.events().ack(*who_, ack.offset, reply_later<Status>(frame.id, no_fields),
                                    &written);
    }
    // Nobody waits for an id-less ack, and acks are cumulative: while one is
    // being stored, later ones merge into the next. A device that acks after
    // every event costs one store round per commit, not one per event.
    acks_wanted_ = std::max(acks_wanted_, ack.offset);
    if (!ack_in_flight_) store_ack();
  }

  void store_ack() {
    ack_in_flight_ = true;
    const std::uint64_t offset = std::exchange(acks_wanted_, 0);
    const auto written = take_written(offset);
    ctx_.core.events().ack(
        *who_, offset,
        [weak = weak_from_this(), &io = worker_.io](Status s) {
          boost::asio::post(io, [weak, s = std::move(s)] {
            auto self = weak.lock();
            if (!self || self->state_ != State::open) return;
            self->ack_in_flight_ = false;
            if (!s) self->reply_error(json::value(nullptr), s.error());
            if (self->acks_wanted_ > 0) self->store_ack();
          });
        },
        &written);
  }

  // Hands an ack what this session wrote up to `offset` (see written_). Once
  // handed over, the knowledge starts after `offset`: if that ack fails, the
  // device's cursor stays behind it and the next ack reads the store instead.
  core::WrittenMessages take_written(std::uint64_t offset) {
    core::WrittenMessages taken{written_.from, written_.upto, {}};
    auto& mine = written_.messages;
    auto end =
        std::find_if(mine.begin(), mine.end(), [&](const auto& m) { return m.first > offset; });
    taken.messages.assign(std::make_move_iterator(mine.begin()), std::make_move_iterator(end));
    mine.erase(mine.begin(), end);
    written_.from = std::max(written_.from, std::min(offset, written_.upto));
    return taken;
  }

  // Remembers an event queued to this socket, for the acks to come.
  void note_written(const core::EventFrame& frame) {
    if (frame.message) {
      if (written_.messages.size() >= kMaxUnackedMessages) {
        // A device that does not ack: forget; its next ack reads the store.
        written_.messages.clear();
        written_.from = written_.upto;
      }
      written_.messages.emplace_back(frame.offset, frame.message);
    }
    written_.upto = frame.offset;
  }

  void on_send(const proto::Frame& frame) {
    ctx_.core.send_message(
        *who_, proto::send_frame(frame),
        reply_later<Result<core::SendOutcome>>(frame.id, [](const Result<core::SendOutcome>& r) {
          return "\"chat_id\":" + proto::quote(r->chat_id) + ",\"seq\":" + std::to_string(r->seq) +
                 ",\"message_id\":" + proto::quote(r->message_id) +
                 ",\"ts\":" + std::to_string(r->ts);
        }));
  }

  // A completion for the domain (which may run on the writer thread) that
  // hops back to this session and replies `ok` (rendered by `fields`) or `error`.
  template <class R, class Fields>
  std::function<void(R)> reply_later(json::value id, Fields fields) {
    return [weak = weak_from_this(), &io = worker_.io, id = std::move(id), fields](R result) {
      boost::asio::post(io, [weak, id, fields, result = std::move(result)] {
        auto self = weak.lock();
        if (!self || self->state_ != State::open) return;
        if (!result) return self->reply_error(id, result.error());
        if (!id.is_null()) self->enqueue({proto::ok_frame(id, fields(result)), nullptr, 0, false});
      });
    };
  }

  void reply_error(const json::value& id, const Error& e) {
    ctx_.metrics.count_error(e.code);
    enqueue({proto::error_frame(id, e), nullptr, 0, false});
  }

  // ---- The event stream ----------------------------------------------------

  void on_live_event(const core::EventFrame& frame) {
    if (frame.offset <= sent_upto_ || behind_) return;  // a duplicate, or the store will supply it
    if (frame.offset != sent_upto_ + 1) {               // a push went missing: heal from the store
      behind_ = true;
      return catch_up();
    }
    if (queued_bytes_ + proto::event_head(frame.offset).size() + frame.tail->size() >
        ctx_.config.ws_max_queued_bytes) {
      ctx_.metrics.slow_consumer_disconnects.fetch_add(1, std::memory_order_relaxed);
      return close_with(websocket::close_code::try_again_later, "slow consumer");
    }
    sent_upto_ = frame.offset;
    note_written(frame);
    enqueue({proto::event_head(frame.offset), frame.tail, frame.sequenced_ms, true});
  }

  void catch_up() {
    while (behind_ && state_ == State::open &&
           queued_bytes_ < ctx_.config.ws_max_queued_bytes / 2) {
      auto page = ctx_.core.events().read(who_->user_id, sent_upto_, kCatchUpPage);
      for (auto& f : page.frames) {
        note_written(f);
        enqueue({proto::event_head(f.offset), std::move(f.tail), 0, true});
      }
      if (page.last_offset == sent_upto_) behind_ = false;  // nothing more is committed
      sent_upto_ = page.last_offset;
    }
  }

  // ---- Writing -------------------------------------------------------------

  void enqueue(OutFrame frame) {
    if (state_ != State::open) return;
    queued_bytes_ += frame.size();
    // Created on demand and dropped when drained: libstdc++'s deque allocates
    // ~600 bytes up front, and most sockets are idle most of the time.
    if (!queue_) queue_ = std::make_unique<std::deque<OutFrame>>();
    queue_->push_back(std::move(frame));
    if (!writing_) write_next();
  }

  void write_next() {
    writing_ = true;
    const OutFrame& f = queue_->front();
    std::array<boost::asio::const_buffer, 2> buffers{
        boost::asio::buffer(f.head),
        f.tail ? boost::asio::buffer(*f.tail) : boost::asio::const_buffer{}};
    ws_.text(true);
    ws_.async_write(buffers, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->on_written(ec);
    });
  }

  void on_written(beast::error_code ec) {
    if (ec) {
      writing_ = false;
      return finish();
    }
    const OutFrame& f = queue_->front();
    if (f.is_event) {
      ctx_.metrics.events_delivered.fetch_add(1, std::memory_order_relaxed);
      if (f.sequenced_ms) ctx_.metrics.observe_delivery_ms(now_ms() - f.sequenced_ms);
    }
    queued_bytes_ -= f.size();
    queue_->pop_front();
    if (behind_) catch_up();
    if (queue_->empty() || state_ != State::open) {
      if (queue_->empty()) queue_.reset();
      writing_ = false;
      return;
    }
    write_next();
  }

  // ---- Closing -------------------------------------------------------------

  void close_with(websocket::close_code code, const char* reason) {
    if (state_ != State::open) return;
    state_ = State::closing;
    unsubscribe();
    wake_at(SteadyClock::now() + ctx_.config.close_grace);
    ws_.async_close(websocket::close_reason(code, reason),
                    [self = shared_from_this()](beast::error_code) { self->finish(); });
  }

  // The socket is done: stop listening and release it.
  void finish() {
    if (state_ == State::closed) return;
    state_ = State::closed;
    unsubscribe();
    beast::error_code ignored;
    ws_.next_layer().shutdown(tcp::socket::shutdown_both, ignored);
    ws_.next_layer().close(ignored);
  }

  // Leaves the hub and presence (once: called on closing and on finish).
  void unsubscribe() {
    if (!inbox_ || !who_) return;
    ctx_.core.hub().unsubscribe(who_->user_id, inbox_.get());
    ctx_.core.presence().unsubscribe(inbox_.get());
    ctx_.core.presence().disconnected(who_->user_id);
    inbox_.reset();
  }

  websocket::stream<tcp::socket> ws_;
  beast::flat_buffer buffer_;
  ServerContext& ctx_;
  Worker& worker_;
  State state_ = State::accepting;
  std::optional<core::Principal> who_;
  std::shared_ptr<Inbox> inbox_;
  std::unique_ptr<std::deque<OutFrame>> queue_;  // null when empty
  std::size_t queued_bytes_ = 0;
  bool writing_ = false;
  std::uint64_t sent_upto_ = 0;
  bool behind_ = false;
  bool ack_in_flight_ = false;
  std::uint64_t acks_wanted_ = 0;  // highest id-less ack waiting for the one in flight
  // The message events queued to this device and not acknowledged yet, and the
  // range of offsets this session queued every event of: an ack inside that
  // range tells the receipts what it delivered without reading the store.
  core::WrittenMessages written_;
  int bad_frames_ = 0;
  SteadyClock::time_point opened_;
  SteadyClock::time_point last_activity_;
  SteadyClock::time_point wake_at_;
};

void Inbox::on_event(const core::EventFrame& frame) {
  std::lock_guard lock(mutex_);
  mail_.events.push_back(frame);
  post_drain();
}

void Inbox::on_ephemeral(const std::shared_ptr<const std::string>& frame) {
  std::lock_guard lock(mutex_);
  mail_.ephemeral.push_back(frame);
  post_drain();
}

void Inbox::post_drain() {
  if (posted_) return;
  posted_ = true;
  boost::asio::post(io_, [weak = session_] {
    if (auto s = weak.lock()) s->drain_inbox();
  });
}

void Inbox::on_revoked() {
  boost::asio::post(io_, [weak = session_] {
    if (auto s = weak.lock()) s->revoke();
  });
}

}  // namespace

void start_ws_session(tcp::socket socket, beast::http::request<beast::http::string_body> upgrade,
                      std::optional<core::Principal> who, ServerContext& ctx, Worker& worker) {
  std::make_shared<WsSession>(std::move(socket), ctx, worker)
      ->start(std::move(upgrade), std::move(who));
}

}  // namespace chat::net

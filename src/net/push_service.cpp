#include "net/push_service.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace chat::net {
namespace {

// The VAPID key lives in <data>/push/; make the folder before the key.
const std::filesystem::path& ensure_parent(const std::filesystem::path& p) {
  std::filesystem::create_directories(p.parent_path());
  return p;
}

push::PushPayload payload_of(const core::DuePush& d) {
  push::PushPayload p;
  p.type = d.clear ? push::PushPayload::Type::clear : push::PushPayload::Type::message;
  p.user_id = d.user_id;
  p.device_id = d.device_id;
  p.chat_id = d.chat_id;
  p.seq = d.seq;
  p.message_id = d.message_id;
  p.sender = d.sender;
  p.sender_name = d.sender_name;
  p.chat_title = d.chat_title;
  p.preview = d.preview;
  p.unread = d.unread;
  p.ts = d.ts;
  return p;
}

core::PushResult result_of(push::Outcome o) {
  switch (o) {
    case push::Outcome::sent:
      return core::PushResult::sent;
    case push::Outcome::retry:
      return core::PushResult::retry;
    case push::Outcome::gone:
      return core::PushResult::gone;
    case push::Outcome::failed:
      return core::PushResult::failed;
  }
  return core::PushResult::failed;
}

}  // namespace

PushService::PushService(core::ChatCore& core, Metrics& metrics, PushServiceConfig config)
    : core_(core),
      metrics_(metrics),
      config_(std::move(config)),
      vapid_(push::VapidKey::load_or_create(ensure_parent(config_.vapid_key_path))) {
  if (!config_.fcm_credentials.empty()) {
    auto sa = push::ServiceAccount::load(config_.fcm_credentials);
    if (!sa) throw std::runtime_error("--fcm-credentials: " + sa.error().message);
    fcm_account_ = std::move(*sa);
  }
  if (!config_.apns_key.empty()) {
    auto key = push::ApnsKey::load(config_.apns_key, config_.apns_key_id, config_.apns_team_id);
    if (!key) throw std::runtime_error("--apns-key: " + key.error().message);
    apns_tokens_ = std::make_unique<push::ApnsTokenCache>(std::move(*key));
  }
  sender_ = std::make_unique<push::HttpSender>(config_.http);
  core_.push().on_wake([this] { wake(); });
  thread_ = std::thread([this] { loop(); });
}

PushService::~PushService() {
  core_.push().on_wake(nullptr);
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  // Completes what is in flight with "shutdown" (status 0): those rows are
  // rescheduled as retries, so nothing is lost.
  sender_.reset();
  flush_completions();
}

void PushService::flush_completions() {
  std::vector<core::PushOutbox::Completion> batch;
  {
    std::lock_guard lock(completions_mutex_);
    batch.swap(completions_);
  }
  core_.push().complete_all(batch, core_.sequencer().clock().now_ms());
}

Result<std::pair<std::string, std::string>> PushService::parse_target(std::string_view body) const {
  auto t = push::parse_target(body, config_.http.allow_private);
  if (!t) return t.take_error();
  if (t->kind == push::TargetKind::fcm && !fcm_account_) {
    return bad_request("this server has no FCM credentials (--fcm-credentials)");
  }
  if (t->kind == push::TargetKind::apns && !apns_tokens_) {
    return bad_request("this server has no APNs key (--apns-key)");
  }
  return std::pair{push::target_to_json(*t), std::string(push::kind_name(t->kind))};
}

void PushService::wake() {
  {
    std::lock_guard lock(mutex_);
    woken_ = true;
  }
  wake_.notify_all();
}

void PushService::loop() {
  // Below the socket threads' priority (nice 10), like the media pool: a
  // burst of a thousand pushes must not take the cores from chat traffic.
  setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 10);
  auto& outbox = core_.push();
  const Clock& clock = core_.sequencer().clock();
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    woken_ = false;
    lock.unlock();
    try {
      flush_completions();
      for (auto& due : outbox.take_due(clock.now_ms(), 512))
        dispatch(std::move(due));
    } catch (const std::exception& e) {
      // A store read failed; the rows stay due and the next pass tries again.
      std::fprintf(stderr, "chatd: push outbox: %s\n", e.what());
    }
    const std::int64_t now = clock.now_ms();
    // Wake for the next due row, a commit that made one due sooner, or a
    // second at most (a safety net that costs nothing).
    std::int64_t wait_ms = 1000;
    if (auto next = outbox.next_due_ms()) wait_ms = std::clamp<std::int64_t>(*next - now, 0, 1000);
    lock.lock();
    if (wait_ms > 0) {
      wake_.wait_for(lock, std::chrono::milliseconds(wait_ms),
                     [this] { return stopping_ || woken_; });
    }
  }
}

void PushService::dispatch(core::DuePush due) {
  auto target = push::target_from_json(due.target_json);
  if (!target) {
    return core_.push().complete(due, core::PushResult::failed, std::nullopt,
                                 core_.sequencer().clock().now_ms());
  }
  const push::PushPayload payload = payload_of(due);
  const std::int64_t now_s = core_.sequencer().clock().now_ms() / 1000;
  switch (target->kind) {
    case push::TargetKind::webhook:
      return send(std::move(due), target->kind, push::webhook_request(*target, payload));
    case push::TargetKind::webpush: {
      auto req = push::webpush_request(*target, payload, vapid_, config_.contact, now_s);
      if (!req) {
        metrics_.count_push(push::TargetKind::webpush, "invalid");
        return core_.push().complete(due, core::PushResult::failed, std::nullopt,
                                     core_.sequencer().clock().now_ms());
      }
      return send(std::move(due), target->kind, std::move(*req));
    }
    case push::TargetKind::apns: {
      if (!apns_tokens_) break;
      auto token = apns_tokens_->token(now_s);
      if (!token) break;
      return send(std::move(due), target->kind,
                  push::apns_request(config_.apns_base_url, *token, config_.apns_topic, *target,
                                     payload, now_s));
    }
    case push::TargetKind::fcm: {
      if (!fcm_account_) break;
      // The send waits for an access token (cached for its lifetime).
      with_fcm_token(
          [this, due = std::move(due), t = *target, payload](Result<std::string> token) mutable {
            if (!token) {
              // The token endpoint failed: the push is retried like any other.
              metrics_.count_push(push::TargetKind::fcm, "token");
              return core_.push().complete(due, core::PushResult::retry, std::nullopt,
                                           core_.sequencer().clock().now_ms());
            }
            send(std::move(due), push::TargetKind::fcm,
                 push::fcm_send_request(config_.fcm_base_url, *fcm_account_, *token, t, payload));
          });
      return;
    }
  }
  // A kind this server is not configured for (credentials removed since).
  metrics_.count_push(target->kind, "unconfigured");
  core_.push().complete(due, core::PushResult::failed, std::nullopt,
                        core_.sequencer().clock().now_ms());
}

void PushService::send(core::DuePush due, push::TargetKind kind, push::OutgoingRequest req) {
  sender_->submit(std::move(req), [this, due = std::move(due), kind](push::PushResponse r) {
    finish(due, kind, r);
  });
}

void PushService::finish(const core::DuePush& due, push::TargetKind kind,
                         const push::PushResponse& r) {
  const push::Outcome outcome = push::classify(kind, r);
  switch (outcome) {
    case push::Outcome::sent:
      metrics_.count_push(kind, "sent");
      break;
    case push::Outcome::retry:
      metrics_.count_push(kind,
                          r.status == 0 ? "retry_transport" : "retry_" + std::to_string(r.status));
      break;
    case push::Outcome::gone:
      metrics_.count_push(kind, "gone");
      break;
    case push::Outcome::failed:
      metrics_.count_push(kind, r.status == 0
                                    ? (r.error == "blocked address" ? "blocked" : "transport")
                                    : "http_" + std::to_string(r.status));
      break;
  }
  bool first = false;
  {
    std::lock_guard lock(completions_mutex_);
    first = completions_.empty();
    completions_.push_back({due, result_of(outcome), r.retry_after_ms});
  }
  // The first of a batch wakes the loop; the rest ride along with it.
  if (first) wake();
}

void PushService::with_fcm_token(std::function<void(Result<std::string>)> then) {
  const std::int64_t now_s = core_.sequencer().clock().now_ms() / 1000;
  std::string cached;
  {
    std::lock_guard lock(fcm_mutex_);
    if (!fcm_token_.empty() && now_s + 60 < fcm_token_expiry_s_) {
      cached = fcm_token_;
    } else {
      fcm_waiting_.push_back(std::move(then));
      if (fcm_token_pending_) return;  // the request in flight will answer it
      fcm_token_pending_ = true;
    }
  }
  if (!cached.empty()) return then(std::move(cached));
  auto req = push::fcm_token_request(*fcm_account_, now_s);
  auto deliver = [this](Result<std::string> token) {
    std::deque<std::function<void(Result<std::string>)>> waiting;
    {
      std::lock_guard lock(fcm_mutex_);
      waiting.swap(fcm_waiting_);
      fcm_token_pending_ = false;
    }
    for (auto& w : waiting)
      w(token);
  };
  if (!req) return deliver(req.take_error());
  sender_->submit(std::move(*req), [this, deliver, now_s](push::PushResponse r) {
    if (r.status != 200) {
      return deliver(unavailable("FCM token endpoint answered " + std::to_string(r.status) +
                                 (r.error.empty() ? "" : ": " + r.error)));
    }
    auto parsed = push::parse_token_response(r.body, now_s);
    if (!parsed) return deliver(parsed.take_error());
    {
      std::lock_guard lock(fcm_mutex_);
      fcm_token_ = parsed->first;
      fcm_token_expiry_s_ = parsed->second;
    }
    deliver(parsed->first);
  });
}

}  // namespace chat::net

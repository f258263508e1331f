// Push delivery (PROTOCOL.md, "Push notifications"): the thread that takes
// due rows from the domain's outbox (core/push_outbox), turns each into the
// provider's request (push/: webhook, Web Push, FCM, APNs) and hands it to the
// libcurl sender, then reports the outcome back to the outbox (sent, retry
// with backoff, target gone, failed) and to /metrics.
//
// Threads: this class's loop thread (waits for the next due time or a wake-up
// from a commit), and the sender's thread (completions). Neither is a socket
// thread, and the sender runs every request concurrently, so one slow or dead
// endpoint never holds up the others. FCM access tokens are fetched
// asynchronously; pushes that need one wait for it in a small queue.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "base/result.hpp"
#include "core/chat_core.hpp"
#include "net/metrics.hpp"
#include "push/http_sender.hpp"
#include "push/providers.hpp"
#include "push/webpush.hpp"

namespace chat::net {

struct PushServiceConfig {
  std::filesystem::path vapid_key_path;                 // <data>/push/vapid.pem
  std::string contact = "mailto:postmaster@localhost";  // VAPID `sub`
  std::string fcm_credentials;  // service-account JSON; empty: FCM targets are refused
  std::string fcm_base_url = "https://fcm.googleapis.com";
  std::string apns_key, apns_key_id, apns_team_id, apns_topic;  // empty key: no APNs
  std::string apns_base_url = "https://api.push.apple.com";
  push::HttpSenderConfig http;  // allow_private, ca_file, timeouts
};

class PushService {
 public:
  PushService(core::ChatCore& core, Metrics& metrics, PushServiceConfig config);
  ~PushService();  // stops the loop, then the sender (in-flight pushes stay due)

  const std::string& vapid_public_key() const { return vapid_.public_key_b64(); }
  // Validates a PUT /v1/devices/{id}/push body: (storage JSON, kind name).
  Result<std::pair<std::string, std::string>> parse_target(std::string_view body) const;

 private:
  void loop();
  void dispatch(core::DuePush due);
  void send(core::DuePush due, push::TargetKind kind, push::OutgoingRequest req);
  void finish(const core::DuePush& due, push::TargetKind kind, const push::PushResponse& r);
  void with_fcm_token(std::function<void(Result<std::string>)> then);
  void wake();
  // Hands the completions gathered since the last call to the outbox in one
  // transaction (the loop thread, once per pass; the destructor, last).
  void flush_completions();

  core::ChatCore& core_;
  Metrics& metrics_;
  PushServiceConfig config_;
  push::VapidKey vapid_;
  std::optional<push::ServiceAccount> fcm_account_;
  std::unique_ptr<push::ApnsTokenCache> apns_tokens_;

  std::mutex fcm_mutex_;
  std::string fcm_token_;
  std::int64_t fcm_token_expiry_s_ = 0;
  bool fcm_token_pending_ = false;
  std::deque<std::function<void(Result<std::string>)>> fcm_waiting_;

  // Outcomes reported by the sender thread, committed by the loop in batches.
  std::mutex completions_mutex_;
  std::vector<core::PushOutbox::Completion> completions_;

  std::mutex mutex_;
  std::condition_variable wake_;
  bool woken_ = false;
  bool stopping_ = false;
  std::unique_ptr<push::HttpSender> sender_;  // destroyed before the loop's state
  std::thread thread_;
};

}  // namespace chat::net

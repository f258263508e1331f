// SMS gateways for one-time codes.
//
//   LogSmsGateway      writes "chatd: code for <phone>: <code>" to stderr
//                      (development; `--sms log`, the default).
//   WebhookSmsGateway  POSTs {"phone","code"} as JSON to an operator's URL
//                      (`--sms webhook --sms-webhook-url http://...`), which
//                      forwards it to a real SMS provider. Runs on its own
//                      thread with a bounded queue, so a slow webhook never
//                      blocks a request; retries 3 times with backoff.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "core/sms_gateway.hpp"

namespace chat::net {

class LogSmsGateway final : public core::SmsGateway {
 public:
  void send_code(const std::string& phone, const std::string& code) override;
};

class WebhookSmsGateway final : public core::SmsGateway {
 public:
  // `url`: http://host[:port]/path (plain HTTP: run the relay on the host or
  // a trusted network; see docs/operations.md). Throws on a malformed URL.
  explicit WebhookSmsGateway(const std::string& url);
  ~WebhookSmsGateway() override;

  void send_code(const std::string& phone, const std::string& code) override;

 private:
  struct Job {
    std::string phone, code;
  };
  void run();
  bool post(const Job& job);

  std::string host_, port_, target_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace chat::net

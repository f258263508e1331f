// Where OTP codes go. `log` writes them to the server log (development);
// the webhook gateway (net/webhook_sms_gateway) POSTs {"phone","code"} to an
// operator-provided URL that forwards to a real SMS provider.
#pragma once

#include <string>

namespace chat::core {

class SmsGateway {
 public:
  virtual ~SmsGateway() = default;
  // Must not block: implementations queue and send on their own thread.
  virtual void send_code(const std::string& phone, const std::string& code) = 0;
};

}  // namespace chat::core

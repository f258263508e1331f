// Accounts and devices: phone + one-time code sign-in, bearer tokens, profile.
//
// Device lifecycle:
//
//   verify() --> active (token valid; cursor = user's head at creation)
//   active --logout()--> gone (device, token and cursor deleted; its live
//                              sockets are closed through the LiveHub)
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "core/config.hpp"
#include "core/otp.hpp"
#include "core/principal.hpp"
#include "core/sequencer.hpp"
#include "core/sms_gateway.hpp"
#include "proto/requests.hpp"
#include "store/records.hpp"

namespace chat::core {

struct OtpIssued {
  std::int64_t expires_in_s = 0;
  std::optional<std::string> dev_code;  // dev mode only
};

struct SignedIn {
  std::string user_id;
  std::string device_id;
  std::string token;
  bool new_user = false;
};

struct Profile {
  store::UserRecord user;
  std::vector<store::DeviceRecord> devices;
};

class Accounts {
 public:
  Accounts(Sequencer& seq, const CoreConfig& config, SmsGateway& sms);

  Result<OtpIssued> request_otp(const std::string& phone);
  void verify(const proto::VerifyRequest& req, std::function<void(Result<SignedIn>)> done);
  // Maintenance (chatd --provision-users, on a stopped data dir): signs in
  // without a code. Never reachable from the network.
  void provision(const std::string& phone, const std::string& device_name,
                 std::function<void(Result<SignedIn>)> done);
  // The device behind a bearer token, or unauthorized.
  Result<Principal> authenticate(std::string_view token) const;
  void logout(const Principal& who, std::function<void()> done);
  // Records that the device was just seen (WebSocket auth).
  void touch_device(const Principal& who);

  Result<Profile> profile(const Principal& who) const;
  void update_profile(const Principal& who, const proto::PatchMeRequest& req,
                      std::function<void(Result<Profile>)> done);
  Result<store::UserRecord> user(const std::string& user_id) const;
  Result<store::UserRecord> user_by_phone(const std::string& phone) const;

 private:
  // Creates the user (first time) and a new device with its token.
  void sign_in(const std::string& phone, const std::string& device_name,
               std::function<void(Result<SignedIn>)> done);

  Sequencer& seq_;
  const CoreConfig& config_;
  SmsGateway& sms_;
  OtpBook otp_;
};

}  // namespace chat::core

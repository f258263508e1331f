#include "core/accounts.hpp"

#include <cstdio>

#include "base/random.hpp"
#include "base/sha256.hpp"
#include "core/validation.hpp"

namespace chat::core {

Accounts::Accounts(Sequencer& seq, const CoreConfig& config, SmsGateway& sms)
    : seq_(seq), config_(config), sms_(sms), otp_(config) {}

Result<OtpIssued> Accounts::request_otp(const std::string& phone) {
  if (!valid_phone(phone)) return bad_request("phone must be E.164: '+' and 8-15 digits");
  auto code = otp_.issue(phone, seq_.clock().now_ms());
  if (!code) return code.take_error();
  sms_.send_code(phone, *code);
  OtpIssued out;
  out.expires_in_s = config_.otp_ttl_ms / 1000;
  if (config_.dev_mode) out.dev_code = *code;
  return out;
}

void Accounts::verify(const proto::VerifyRequest& req, std::function<void(Result<SignedIn>)> done) {
  if (!valid_phone(req.phone)) return done(bad_request("phone must be E.164: '+' and 8-15 digits"));
  if (auto s = check_label(req.device_name, config_.limits.max_title_chars, "device_name"); !s) {
    return done(s.take_error());
  }
  const std::int64_t now = seq_.clock().now_ms();
  if (auto s = otp_.verify(req.phone, req.code, now); !s) return done(s.take_error());
  sign_in(req.phone, req.device_name, std::move(done));
}

void Accounts::provision(const std::string& phone, const std::string& device_name,
                         std::function<void(Result<SignedIn>)> done) {
  if (!valid_phone(phone)) return done(bad_request("phone must be E.164: '+' and 8-15 digits"));
  sign_in(phone, device_name, std::move(done));
}

void Accounts::sign_in(const std::string& phone, const std::string& device_name,
                       std::function<void(Result<SignedIn>)> done) {
  const std::int64_t now = seq_.clock().now_ms();
  auto out = std::make_shared<SignedIn>();
  out->device_id = new_id('d');
  out->token = random_hex_secret(32);
  store::DeviceRecord device{.user_id = {},
                             .device_id = out->device_id,
                             .name = device_name,
                             .token_hash = sha256_hex(out->token),
                             .created_ts = now,
                             .last_active_ts = now};
  seq_.transact([&](Transaction& tx) {
    Directory& dir = tx.directory();
    std::string user_id;
    if (auto existing = seq_.store().find_user_by_phone(phone)) {
      user_id = *existing;
    } else if (auto pending = dir.pending_phones.find(phone); pending != dir.pending_phones.end()) {
      user_id = pending->second;
    } else {
      user_id = new_id('u');
      out->new_user = true;
      dir.pending_phones[phone] = user_id;
      tx.put(store::PutUser{{.user_id = user_id,
                             .phone = phone,
                             .name = {},
                             .last_seen_privacy = "everyone",
                             .created_ts = now}});
      tx.put(store::PutPhone{phone, user_id});
    }
    out->user_id = user_id;
    device.user_id = user_id;
    // A new device starts at the user's head: it loads older history by REST.
    const std::uint64_t head = dir.streams[user_id].assigned;
    dir.cursors[user_id + '\0' + device.device_id] = head;
    tx.put(store::PutDevice{device});
    tx.put(store::PutCursor{{user_id, device.device_id, head}});
    tx.on_committed([this, out, phone, done = std::move(done)] {
      seq_.read([&](Directory& d) { return d.pending_phones.erase(phone); });
      done(std::move(*out));
    });
  });
}

Result<Principal> Accounts::authenticate(std::string_view token) const {
  if (token.empty() || token.size() > 256) return unauthorized("missing or malformed token");
  std::string hash = sha256_hex(token);
  auto found = seq_.store().find_token(hash);
  if (!found) return unauthorized("invalid or revoked token");
  return Principal{found->user_id, found->device_id, std::move(hash)};
}

void Accounts::logout(const Principal& who, std::function<void()> done) {
  seq_.transact([&](Transaction& tx) {
    tx.directory().cursors.erase(who.user_id + '\0' + who.device_id);
    tx.put(store::DeleteDevice{who.user_id, who.device_id, who.token_hash});
    tx.on_committed([this, who, done = std::move(done)] {
      seq_.hub().revoke_device(who.user_id, who.device_id);
      done();
    });
  });
}

void Accounts::touch_device(const Principal& who) {
  auto device = seq_.store().get_device(who.user_id, who.device_id);
  if (!device) return;
  device->last_active_ts = seq_.clock().now_ms();
  seq_.transact([&](Transaction& tx) { tx.put(store::PutDevice{std::move(*device)}); });
}

Result<Profile> Accounts::profile(const Principal& who) const {
  auto user = seq_.store().get_user(who.user_id);
  if (!user) return not_found("user not found");
  return Profile{std::move(*user), seq_.store().list_devices(who.user_id)};
}

void Accounts::update_profile(const Principal& who, const proto::PatchMeRequest& req,
                              std::function<void(Result<Profile>)> done) {
  if (req.name) {
    if (auto s = check_label(*req.name, config_.limits.max_title_chars, "name"); !s)
      return done(s.take_error());
  }
  if (req.last_seen_privacy && *req.last_seen_privacy != "everyone" &&
      *req.last_seen_privacy != "contacts" && *req.last_seen_privacy != "nobody") {
    return done(bad_request("last_seen_privacy must be everyone, contacts or nobody"));
  }
  std::optional<Error> error;
  seq_.transact([&](Transaction& tx) {
    // Read-modify-write under the lock, on top of any uncommitted PATCH, so
    // two concurrent PATCHes both apply.
    auto& pending = tx.directory().pending_users;
    std::optional<store::UserRecord> user;
    if (auto it = pending.find(who.user_id); it != pending.end()) {
      user = it->second;
    } else {
      user = seq_.store().get_user(who.user_id);
    }
    if (!user) {
      error = not_found("user not found");
      return;
    }
    if (req.name) user->name = *req.name;
    if (req.last_seen_privacy) user->last_seen_privacy = *req.last_seen_privacy;
    pending[who.user_id] = *user;
    tx.put(store::PutUser{*user});
    tx.on_committed([this, who, written = *user, done = std::move(done)] {
      seq_.read([&](Directory& d) {
        auto it = d.pending_users.find(who.user_id);
        if (it != d.pending_users.end() && it->second.name == written.name &&
            it->second.last_seen_privacy == written.last_seen_privacy) {
          d.pending_users.erase(it);
        }
        return 0;
      });
      done(profile(who));
    });
  });
  if (error) done(std::move(*error));
}

Result<store::UserRecord> Accounts::user(const std::string& user_id) const {
  if (!plausible_id(user_id, 'u')) return not_found("user not found");
  auto user = seq_.store().get_user(user_id);
  if (!user) return not_found("user not found");
  return std::move(*user);
}

Result<store::UserRecord> Accounts::user_by_phone(const std::string& phone) const {
  if (!valid_phone(phone)) return bad_request("phone must be E.164: '+' and 8-15 digits");
  auto id = seq_.store().find_user_by_phone(phone);
  if (!id) return not_found("no user with that phone");
  return user(*id);
}

}  // namespace chat::core

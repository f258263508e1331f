// PresenceRegistry: who is online, since when, who was last seen when, and who
// is typing where. State that is hot and may be lost (a restart rebuilds it
// from reconnecting sockets; last_seen is also persisted by core/presence).
//
// One interface, two homes: LocalPresenceRegistry keeps it in this process; a
// Redis registry will share it across a cluster.
//
// Online lifecycle of a user (across all of its devices):
//
//   offline --connected()--> pending --2 s still connected--> online (announced)
//      ^                        |                                  |
//      |                        | last socket closes: no broadcast |
//      +------------------------+----------------------------------+
//                                 last socket closes: announced offline at once
//
// Typing: set_typing(true) starts or refreshes a 6 s expiry; expiry (or
// set_typing(false)) ends it. The registry calls its listeners for
// announcements and expiries from its own ticker thread.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace chat::core {

class PresenceRegistry {
 public:
  struct Change {
    std::string user_id;
    bool online = false;
    std::int64_t last_seen = 0;  // when going offline: now
  };
  using OnChange = std::function<void(const Change&)>;
  using OnTypingExpired =
      std::function<void(const std::string& chat_id, const std::string& user_id)>;

  static constexpr std::int64_t kOnlineDebounceMs = 2'000;
  static constexpr std::int64_t kTypingExpiryMs = 6'000;

  virtual ~PresenceRegistry() = default;

  // Set once, before any other call.
  virtual void set_listeners(OnChange on_change, OnTypingExpired on_typing_expired) = 0;

  // A live socket of `user_id` opened / closed.
  virtual void connected(const std::string& user_id, std::int64_t now_ms) = 0;
  virtual void disconnected(const std::string& user_id, std::int64_t now_ms) = 0;

  virtual bool is_online(const std::string& user_id) const = 0;
  // Online as subscribers are told it: online and past the debounce (announced).
  virtual bool is_announced(const std::string& user_id) const = 0;
  // When the user's last socket closed, if this registry knows.
  virtual std::optional<std::int64_t> last_seen(const std::string& user_id) const = 0;
  // Users online now (for a clean shutdown to record their last_seen).
  virtual std::vector<std::string> online_users() const = 0;

  // Returns true if the user's typing state in the chat changed.
  virtual bool set_typing(const std::string& chat_id, const std::string& user_id, bool typing,
                          std::int64_t now_ms) = 0;
};

}  // namespace chat::core

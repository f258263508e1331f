// The in-process PresenceRegistry (single node). A ticker thread wakes every
// 250 ms to announce users who stayed online for the debounce period and to
// expire typing states; everything else is a map lookup under one mutex.
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "base/clock.hpp"
#include "core/presence_registry.hpp"

namespace chat::core {

class LocalPresenceRegistry final : public PresenceRegistry {
 public:
  explicit LocalPresenceRegistry(const Clock& clock);
  ~LocalPresenceRegistry() override;
  // Ends the ticker thread: no listener is called afterwards.
  void stop();

  void set_listeners(OnChange on_change, OnTypingExpired on_typing_expired) override;
  void connected(const std::string& user_id, std::int64_t now_ms) override;
  void disconnected(const std::string& user_id, std::int64_t now_ms) override;
  bool is_online(const std::string& user_id) const override;
  bool is_announced(const std::string& user_id) const override;
  std::optional<std::int64_t> last_seen(const std::string& user_id) const override;
  std::vector<std::string> online_users() const override;
  bool set_typing(const std::string& chat_id, const std::string& user_id, bool typing,
                  std::int64_t now_ms) override;

 private:
  struct UserState {
    int sockets = 0;
    std::int64_t online_since = 0;
    bool announced = false;
    std::int64_t last_seen = 0;  // 0: not known here
  };
  void run();
  void tick(std::int64_t now_ms);

  const Clock& clock_;
  // Order of the two: notify_mutex_, then mutex_. notify_mutex_ is held while
  // listeners run, so announcements reach them in the order they were decided.
  std::mutex notify_mutex_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, UserState> users_;
  std::unordered_map<std::string, std::int64_t> pending_;  // user -> online_since, not announced
  std::map<std::pair<std::string, std::string>, std::int64_t> typing_;  // (chat, user) -> expiry
  OnChange on_change_;
  OnTypingExpired on_typing_expired_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace chat::core

#include "core/local_presence_registry.hpp"

#include <chrono>
#include <vector>

namespace chat::core {

LocalPresenceRegistry::LocalPresenceRegistry(const Clock& clock)
    : clock_(clock), thread_([this] { run(); }) {}

LocalPresenceRegistry::~LocalPresenceRegistry() {
  stop();
}

void LocalPresenceRegistry::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void LocalPresenceRegistry::set_listeners(OnChange on_change, OnTypingExpired on_typing_expired) {
  std::lock_guard lock(mutex_);
  on_change_ = std::move(on_change);
  on_typing_expired_ = std::move(on_typing_expired);
}

void LocalPresenceRegistry::connected(const std::string& user_id, std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  UserState& u = users_[user_id];
  if (u.sockets++ == 0) {
    u.online_since = now_ms;
    u.announced = false;
    pending_[user_id] = now_ms;
  }
}

void LocalPresenceRegistry::disconnected(const std::string& user_id, std::int64_t now_ms) {
  // Held across deciding and notifying, as tick() does: an "online" the ticker
  // is announcing reaches the listener before this "offline", never after.
  std::lock_guard notifying(notify_mutex_);
  Change change;
  OnChange notify;
  {
    std::lock_guard lock(mutex_);
    auto it = users_.find(user_id);
    if (it == users_.end() || it->second.sockets == 0) return;
    UserState& u = it->second;
    if (--u.sockets > 0) return;
    u.last_seen = now_ms;
    pending_.erase(user_id);
    if (!u.announced) return;  // a flap shorter than the debounce: nobody was told
    u.announced = false;
    change = {user_id, false, now_ms};
    notify = on_change_;
  }
  if (notify) notify(change);
}

bool LocalPresenceRegistry::is_online(const std::string& user_id) const {
  std::lock_guard lock(mutex_);
  auto it = users_.find(user_id);
  return it != users_.end() && it->second.sockets > 0;
}

bool LocalPresenceRegistry::is_announced(const std::string& user_id) const {
  std::lock_guard lock(mutex_);
  auto it = users_.find(user_id);
  return it != users_.end() && it->second.sockets > 0 && it->second.announced;
}

std::optional<std::int64_t> LocalPresenceRegistry::last_seen(const std::string& user_id) const {
  std::lock_guard lock(mutex_);
  auto it = users_.find(user_id);
  if (it == users_.end() || it->second.last_seen == 0) return std::nullopt;
  return it->second.last_seen;
}

std::vector<std::string> LocalPresenceRegistry::online_users() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  for (const auto& [id, u] : users_) {
    if (u.sockets > 0) out.push_back(id);
  }
  return out;
}

bool LocalPresenceRegistry::set_typing(const std::string& chat_id, const std::string& user_id,
                                       bool typing, std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  const auto key = std::make_pair(chat_id, user_id);
  if (typing) {
    auto [it, inserted] = typing_.insert_or_assign(key, now_ms + kTypingExpiryMs);
    (void)it;
    return inserted;
  }
  return typing_.erase(key) > 0;
}

void LocalPresenceRegistry::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, std::chrono::milliseconds(250));
    if (stopping_) break;
    lock.unlock();
    tick(clock_.now_ms());
    lock.lock();
  }
}

void LocalPresenceRegistry::tick(std::int64_t now_ms) {
  std::lock_guard notifying(notify_mutex_);  // see disconnected()
  std::vector<Change> announce;
  std::vector<std::pair<std::string, std::string>> expired;
  OnChange on_change;
  OnTypingExpired on_expired;
  {
    std::lock_guard lock(mutex_);
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (now_ms - it->second < kOnlineDebounceMs) {
        ++it;
        continue;
      }
      users_[it->first].announced = true;
      announce.push_back({it->first, true, 0});
      it = pending_.erase(it);
    }
    for (auto it = typing_.begin(); it != typing_.end();) {
      if (it->second > now_ms) {
        ++it;
        continue;
      }
      expired.push_back(it->first);
      it = typing_.erase(it);
    }
    on_change = on_change_;
    on_expired = on_typing_expired_;
  }
  if (on_change) {
    for (const auto& c : announce)
      on_change(c);
  }
  if (on_expired) {
    for (const auto& [chat, user] : expired)
      on_expired(chat, user);
  }
}

}  // namespace chat::core

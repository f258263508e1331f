#include "core/live_hub.hpp"

#include <algorithm>
#include <functional>

namespace chat::core {

LiveHub::Shard& LiveHub::shard_for(const std::string& user_id) {
  return shards_[std::hash<std::string>{}(user_id) % shards_.size()];
}

void LiveHub::subscribe(const std::string& user_id, std::shared_ptr<EventListener> listener) {
  Shard& s = shard_for(user_id);
  std::lock_guard lock(s.mutex);
  List& list = s.by_user[user_id];
  if (list.empty()) users_.fetch_add(1, std::memory_order_relaxed);
  list.push_back(std::move(listener));
  listeners_.fetch_add(1, std::memory_order_relaxed);
}

void LiveHub::unsubscribe(const std::string& user_id, const EventListener* listener) {
  Shard& s = shard_for(user_id);
  std::lock_guard lock(s.mutex);
  auto it = s.by_user.find(user_id);
  if (it == s.by_user.end()) return;
  List& list = it->second;
  auto pos =
      std::find_if(list.begin(), list.end(), [&](const auto& l) { return l.get() == listener; });
  if (pos == list.end()) return;
  list.erase(pos);
  listeners_.fetch_sub(1, std::memory_order_relaxed);
  if (list.empty()) {
    s.by_user.erase(it);
    users_.fetch_sub(1, std::memory_order_relaxed);
  }
}

void LiveHub::publish(const std::string& user_id, const EventFrame& frame) {
  Shard& s = shard_for(user_id);
  std::lock_guard lock(s.mutex);
  auto it = s.by_user.find(user_id);
  if (it == s.by_user.end()) return;
  for (const auto& l : it->second)
    l->on_event(frame);
}

void LiveHub::publish_ephemeral(const std::string& user_id,
                                const std::shared_ptr<const std::string>& frame) {
  Shard& s = shard_for(user_id);
  std::lock_guard lock(s.mutex);
  auto it = s.by_user.find(user_id);
  if (it == s.by_user.end()) return;
  for (const auto& l : it->second)
    l->on_ephemeral(frame);
}

bool LiveHub::has_listeners(const std::string& user_id) {
  Shard& s = shard_for(user_id);
  std::lock_guard lock(s.mutex);
  return s.by_user.count(user_id) > 0;
}

bool LiveHub::device_live(const std::string& user_id, const std::string& device_id) {
  Shard& s = shard_for(user_id);
  std::lock_guard lock(s.mutex);
  auto it = s.by_user.find(user_id);
  if (it == s.by_user.end()) return false;
  return std::any_of(it->second.begin(), it->second.end(),
                     [&](const auto& l) { return l->device_id() == device_id; });
}

void LiveHub::revoke_device(const std::string& user_id, const std::string& device_id) {
  List revoked;
  {
    Shard& s = shard_for(user_id);
    std::lock_guard lock(s.mutex);
    auto it = s.by_user.find(user_id);
    if (it == s.by_user.end()) return;
    for (const auto& l : it->second) {
      if (l->device_id() == device_id) revoked.push_back(l);
    }
  }
  // Outside the lock: on_revoked may unsubscribe.
  for (const auto& l : revoked)
    l->on_revoked();
}

}  // namespace chat::core

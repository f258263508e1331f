#include "core/presence.hpp"

#include <algorithm>

#include "proto/render.hpp"

namespace chat::core {

Presence::Presence(Sequencer& seq, PresenceRegistry& registry) : seq_(seq), registry_(registry) {
  registry_.set_listeners([this](const PresenceRegistry::Change& c) { on_change(c); },
                          [this](const std::string& chat_id, const std::string& user_id) {
                            relay_typing(chat_id, user_id, false);
                          });
}

void Presence::connected(const std::string& user_id) {
  const std::int64_t now = seq_.clock().now_ms();
  registry_.connected(user_id, now);
  // Stored on connect too, so that after a crash last_seen is at least the
  // time the user last came online.
  record_last_seen(user_id, now);
}

void Presence::disconnected(const std::string& user_id) {
  const std::int64_t now = seq_.clock().now_ms();
  registry_.disconnected(user_id, now);
  if (!registry_.is_online(user_id)) record_last_seen(user_id, now);
}

void Presence::shutdown() {
  const std::int64_t now = seq_.clock().now_ms();
  for (const auto& user : registry_.online_users())
    record_last_seen(user, now);
}

void Presence::record_last_seen(const std::string& user_id, std::int64_t ts) {
  seq_.transact([&](Transaction& tx) { tx.put(store::PutLastSeen{user_id, ts}); });
}

const std::string& Presence::privacy_of(const std::string& user_id) {
  // Called with mutex_ held.
  auto it = privacy_.find(user_id);
  if (it != privacy_.end()) return it->second;
  auto user = seq_.store().get_user(user_id);
  return privacy_.emplace(user_id, user ? user->last_seen_privacy : "nobody").first->second;
}

bool Presence::allows(const std::string& owner, const std::string& other) {
  std::string setting;
  {
    std::lock_guard lock(mutex_);
    setting = privacy_of(owner);
  }
  if (setting == "everyone") return true;
  if (setting == "nobody") return false;
  const auto pair = owner < other ? std::pair{owner, other} : std::pair{other, owner};
  return seq_.read([&](Directory& dir) { return dir.direct.count(pair) > 0; });
}

bool Presence::visible(const std::string& viewer, const std::string& user_id) {
  if (viewer == user_id) return true;
  return allows(user_id, viewer) && allows(viewer, user_id);
}

PresenceView Presence::view(const std::string& viewer, const std::string& user_id, bool debounced) {
  PresenceView v{user_id, std::nullopt, std::nullopt};
  if (!visible(viewer, user_id)) return v;
  v.online = debounced ? registry_.is_announced(user_id) : registry_.is_online(user_id);
  if (*v.online) {
    v.last_seen = seq_.clock().now_ms();  // online now: seen now
  } else if (auto seen = registry_.last_seen(user_id)) {
    v.last_seen = *seen;
  } else {
    v.last_seen = seq_.store().get_last_seen(user_id);
  }
  return v;
}

std::string Presence::frame(const PresenceView& v) {
  std::string f = R"({"type":"presence","user_id":)" + proto::quote(v.user_id) + R"(,"online":)";
  f += v.online ? (*v.online ? "true" : "false") : "null";
  f += R"(,"last_seen":)";
  f += v.last_seen ? std::to_string(*v.last_seen) : "null";
  f += '}';
  return f;
}

Result<std::vector<std::string>> Presence::subscribe(
    const std::shared_ptr<PresenceWatcher>& watcher, const std::vector<std::string>& user_ids) {
  if (user_ids.size() > kMaxSubscriptions) {
    return bad_request("at most " + std::to_string(kMaxSubscriptions) + " user_ids");
  }
  std::vector<std::string> unique = user_ids;
  std::sort(unique.begin(), unique.end());
  unique.erase(std::unique(unique.begin(), unique.end()), unique.end());
  unsubscribe(watcher.get());
  {
    std::lock_guard lock(mutex_);
    for (const auto& id : unique)
      watchers_[id].push_back(watcher);
    watching_[watcher.get()] = unique;
  }
  std::vector<std::string> frames;
  frames.reserve(unique.size());
  for (const auto& id : unique)
    frames.push_back(frame(view(watcher->viewer(), id, true)));
  return frames;
}

void Presence::unsubscribe(const PresenceWatcher* watcher) {
  std::lock_guard lock(mutex_);
  auto it = watching_.find(watcher);
  if (it == watching_.end()) return;
  for (const auto& id : it->second) {
    auto w = watchers_.find(id);
    if (w == watchers_.end()) continue;
    std::erase_if(w->second, [&](const auto& weak) {
      auto p = weak.lock();
      return !p || p.get() == watcher;
    });
    if (w->second.empty()) watchers_.erase(w);
  }
  watching_.erase(it);
}

void Presence::on_change(const PresenceRegistry::Change& change) {
  std::vector<std::shared_ptr<PresenceWatcher>> targets;
  {
    std::lock_guard lock(mutex_);
    auto it = watchers_.find(change.user_id);
    if (it == watchers_.end()) return;
    for (const auto& weak : it->second) {
      if (auto w = weak.lock()) targets.push_back(std::move(w));
    }
  }
  for (const auto& w : targets) {
    // A viewer the user is hidden from already holds the all-null view (from
    // its subscription or the privacy change): a frame now would only tell it
    // *when* the user came or went, which is what hiding last seen hides.
    if (!visible(w->viewer(), change.user_id)) continue;
    PresenceView v{change.user_id, change.online,
                   change.online ? seq_.clock().now_ms() : change.last_seen};
    w->on_presence(std::make_shared<const std::string>(frame(v)));
  }
}

Status Presence::typing(const Principal& who, const std::string& chat_id, bool typing) {
  const bool member = seq_.read([&](Directory& dir) {
    const ChatState* c = dir.chat_for_member(chat_id, who.user_id);
    return c && c->committed;
  });
  if (!member) return not_found("chat not found");
  if (registry_.set_typing(chat_id, who.user_id, typing, seq_.clock().now_ms()) || typing) {
    // Repeated `typing: true` refreshes the expiry and is relayed again, so a
    // member who came online meanwhile learns of it.
    relay_typing(chat_id, who.user_id, typing);
  }
  return ok_status();
}

void Presence::message_sent(const std::string& chat_id, const std::string& user_id) {
  if (registry_.set_typing(chat_id, user_id, false, seq_.clock().now_ms())) {
    relay_typing(chat_id, user_id, false);
  }
}

void Presence::relay_typing(const std::string& chat_id, const std::string& user_id, bool typing) {
  auto members = seq_.read([&](Directory& dir) {
    std::vector<std::string> out;
    if (const ChatState* c = dir.chat(chat_id)) {
      for (const auto& m : c->members) {
        if (m.user_id != user_id) out.push_back(m.user_id);
      }
    }
    return out;
  });
  auto f = std::make_shared<const std::string>(
      R"({"type":"typing","chat_id":)" + proto::quote(chat_id) + R"(,"user_id":)" +
      proto::quote(user_id) + R"(,"typing":)" + (typing ? "true" : "false") + "}");
  for (const auto& m : members)
    seq_.hub().publish_ephemeral(m, f);  // online = has listeners
}

void Presence::privacy_changed(const std::string& user_id, const std::string& privacy) {
  // Who may now see differently: the user's watchers (they see the user), and
  // the user's own subscriptions (reciprocity: they see others).
  std::vector<std::pair<std::shared_ptr<PresenceWatcher>, std::string>> affected;
  {
    std::lock_guard lock(mutex_);
    privacy_[user_id] = privacy;
    for (const auto& [target, list] : watchers_) {
      for (const auto& weak : list) {
        auto w = weak.lock();
        if (w && (target == user_id || w->viewer() == user_id)) affected.emplace_back(w, target);
      }
    }
  }
  for (const auto& [w, target] : affected) {
    w->on_presence(std::make_shared<const std::string>(frame(view(w->viewer(), target, true))));
  }
}

}  // namespace chat::core

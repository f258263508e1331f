// Presence, last seen and typing, as the protocol presents them: privacy per
// viewer, subscriptions, and the relaying of ephemeral frames.
//
// Visibility. A viewer sees a user's `online` and `last_seen` when the user's
// `last_seen_privacy` allows the viewer (everyone; contacts = the two share a
// direct chat; nobody) AND the viewer's own setting allows the user -- hiding
// your own last seen hides others' from you (reciprocity, as WhatsApp does).
// Everyone sees themselves. Hidden means both fields are null.
//
// Subscriptions (`presence_subscribe`) belong to a session (a PresenceWatcher);
// a new subscription replaces the session's previous one. Changes reach every
// watcher of the user, rendered per viewer.
//
// Typing is relayed to the chat's other members that are online (all their
// devices), never stored; it ends on `typing: false`, on a sent message, or
// after 6 s without a repeat (the registry's expiry).
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/result.hpp"
#include "core/presence_registry.hpp"
#include "core/principal.hpp"
#include "core/sequencer.hpp"

namespace chat::core {

class PresenceWatcher {
 public:
  virtual ~PresenceWatcher() = default;
  virtual const std::string& viewer() const = 0;
  // Any thread; must not block.
  virtual void on_presence(std::shared_ptr<const std::string> frame) = 0;
};

struct PresenceView {
  std::string user_id;
  std::optional<bool> online;             // nullopt: hidden from this viewer
  std::optional<std::int64_t> last_seen;  // nullopt: hidden, or never seen
};

class Presence {
 public:
  static constexpr std::size_t kMaxSubscriptions = 500;

  Presence(Sequencer& seq, PresenceRegistry& registry);

  // A session of `user_id` became live / ended.
  void connected(const std::string& user_id);
  void disconnected(const std::string& user_id);
  // Clean shutdown: record last_seen for everyone still online.
  void shutdown();

  // What `viewer` may see of `user_id` now (REST): online as soon as a socket is live.
  PresenceView view(const std::string& viewer, const std::string& user_id) {
    return view(viewer, user_id, false);
  }
  // Replaces the watcher's subscription; returns the current state as frames.
  Result<std::vector<std::string>> subscribe(const std::shared_ptr<PresenceWatcher>& watcher,
                                             const std::vector<std::string>& user_ids);
  void unsubscribe(const PresenceWatcher* watcher);

  Status typing(const Principal& who, const std::string& chat_id, bool typing);
  // The user sent a message in the chat: its typing indicator ends.
  void message_sent(const std::string& chat_id, const std::string& user_id);
  // The user's last_seen_privacy changed.
  void privacy_changed(const std::string& user_id, const std::string& privacy);

  static std::string frame(const PresenceView& v);

 private:
  // `debounced`: online only once announced, as a subscriber's first frame
  // must say, so that the changes that follow it (announced online, offline
  // only after that) keep the subscriber's picture true.
  PresenceView view(const std::string& viewer, const std::string& user_id, bool debounced);
  void on_change(const PresenceRegistry::Change& change);
  void relay_typing(const std::string& chat_id, const std::string& user_id, bool typing);
  bool allows(const std::string& owner, const std::string& other);
  bool visible(const std::string& viewer, const std::string& user_id);
  const std::string& privacy_of(const std::string& user_id);
  void record_last_seen(const std::string& user_id, std::int64_t ts);

  Sequencer& seq_;
  PresenceRegistry& registry_;

  std::mutex mutex_;                                      // guards the maps below
  std::unordered_map<std::string, std::string> privacy_;  // cache of last_seen_privacy
  std::unordered_map<std::string, std::vector<std::weak_ptr<PresenceWatcher>>> watchers_;
  std::unordered_map<const PresenceWatcher*, std::vector<std::string>> watching_;
};

}  // namespace chat::core

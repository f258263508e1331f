// LiveHub: who is listening to which user's event stream, on this node.
//
// WebSocket sessions and long polls register an EventListener for their user.
// After each commit the sequencer publishes the new events here, in commit
// order, and the hub hands each one to every listener of that user. This is
// the push half of "pull-backed push": a listener that misses an event (it was
// slow, it reconnected) heals itself by reading the stored stream from its
// cursor, so the hub may be lossy and is never the source of truth.
//
// Listeners are called on the publishing (writer) thread: they must not block;
// the net layer's listeners just `post` to their own socket thread.
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/event_frame.hpp"

namespace chat::core {

class EventListener {
 public:
  virtual ~EventListener() = default;
  virtual void on_event(const EventFrame& frame) = 0;
  // The device's token was revoked (logout): close.
  virtual void on_revoked() = 0;
  // An ephemeral frame (typing, presence): no offset, never stored, never
  // replayed. Listeners that cannot show it (long polls) ignore it.
  virtual void on_ephemeral(const std::shared_ptr<const std::string>& /*frame*/) {}
  virtual const std::string& device_id() const = 0;
};

class LiveHub {
 public:
  void subscribe(const std::string& user_id, std::shared_ptr<EventListener> listener);
  void unsubscribe(const std::string& user_id, const EventListener* listener);
  void publish(const std::string& user_id, const EventFrame& frame);
  void publish_ephemeral(const std::string& user_id,
                         const std::shared_ptr<const std::string>& frame);
  bool has_listeners(const std::string& user_id);
  // A listener of this device exists (a WebSocket session or a waiting long poll).
  bool device_live(const std::string& user_id, const std::string& device_id);
  void revoke_device(const std::string& user_id, const std::string& device_id);

  std::size_t listeners() const { return listeners_.load(std::memory_order_relaxed); }
  // Users with at least one listener (what "online" will be built on).
  std::size_t users() const { return users_.load(std::memory_order_relaxed); }

 private:
  using List = std::vector<std::shared_ptr<EventListener>>;
  struct Shard {
    std::mutex mutex;
    std::unordered_map<std::string, List> by_user;
  };
  Shard& shard_for(const std::string& user_id);

  // Sharded so that publishing to different users rarely contends.
  std::array<Shard, 16> shards_;
  std::atomic<std::size_t> listeners_{0};
  std::atomic<std::size_t> users_{0};
};

}  // namespace chat::core

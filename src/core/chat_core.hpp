// The domain, assembled: one object that apps/chatd builds and net/ serves.
//
// Construction order is dependency order; destruction is the reverse, so the
// writer drains its queue (completing every waiter) before the store closes.
#pragma once

#include <memory>

#include "base/clock.hpp"
#include "core/accounts.hpp"
#include "core/chats.hpp"
#include "core/config.hpp"
#include "core/deletion.hpp"
#include "core/event_stream.hpp"
#include "core/history.hpp"
#include "core/live_hub.hpp"
#include "core/local_presence_registry.hpp"
#include "core/media_library.hpp"
#include "core/presence.hpp"
#include "core/push_outbox.hpp"
#include "core/receipts.hpp"
#include "core/send_pipeline.hpp"
#include "core/sequencer.hpp"
#include "core/sms_gateway.hpp"
#include "core/unread.hpp"
#include "store/group_commit_writer.hpp"
#include "store/store.hpp"

namespace chat::core {

class ChatCore {
 public:
  ChatCore(std::unique_ptr<store::Store> store, store::Durability durability, CoreConfig config,
           SmsGateway& sms, const Clock& clock)
      : config_(std::move(config)),
        store_(std::move(store)),
        writer_(*store_, durability),
        sequencer_(*store_, writer_, hub_, clock),
        media_(sequencer_, config_.media),
        unread_(*store_),
        push_(sequencer_, unread_, config_.push),
        accounts_(sequencer_, config_, sms),
        chats_(sequencer_, config_),
        send_(sequencer_, config_, media_, push_),
        history_(sequencer_, config_),
        receipts_(sequencer_, push_),
        events_(sequencer_, receipts_),
        deletion_(sequencer_, media_, push_),
        presence_registry_(clock),
        presence_(sequencer_, presence_registry_) {
    sequencer_.load();
    push_.load();
  }

  // Shutdown: commits and completes every pending write. Call after the
  // network has stopped (nothing submits any more), before destruction.
  void stop() {
    presence_registry_.stop();
    presence_.shutdown();
    writer_.stop();
  }
  // The registry's thread calls into presence_, which is destroyed first; the
  // writer's completions call into the sequencer and the services, which are
  // destroyed before the writer: drain and join both while everything is alive.
  ~ChatCore() {
    presence_registry_.stop();
    writer_.stop();
  }

  const CoreConfig& config() const { return config_; }
  Accounts& accounts() { return accounts_; }
  Chats& chats() { return chats_; }
  SendPipeline& send() { return send_; }
  History& history() { return history_; }
  EventStream& events() { return events_; }
  Receipts& receipts() { return receipts_; }
  Deletion& deletion() { return deletion_; }
  Presence& presence() { return presence_; }
  MediaLibrary& media() { return media_; }
  PushOutbox& push() { return push_; }

  // A send from any transport: the typist's indicator ends, then the pipeline.
  void send_message(const Principal& who, const proto::SendRequest& req, SendPipeline::Done done) {
    presence_.message_sent(req.chat_id, who.user_id);
    send_.send(who, req, std::move(done));
  }
  LiveHub& hub() { return hub_; }
  Sequencer& sequencer() { return sequencer_; }
  const store::GroupCommitWriter& writer() const { return writer_; }

 private:
  CoreConfig config_;
  std::unique_ptr<store::Store> store_;
  LiveHub hub_;
  store::GroupCommitWriter writer_;
  Sequencer sequencer_;
  MediaLibrary media_;
  UnreadCounter unread_;  // the push outbox's (badge counts); Chats keeps its own
  PushOutbox push_;
  Accounts accounts_;
  Chats chats_;
  SendPipeline send_;
  History history_;
  Receipts receipts_;
  EventStream events_;
  Deletion deletion_;
  LocalPresenceRegistry presence_registry_;
  Presence presence_;
};

}  // namespace chat::core

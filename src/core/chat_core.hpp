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
#include "core/event_stream.hpp"
#include "core/history.hpp"
#include "core/live_hub.hpp"
#include "core/send_pipeline.hpp"
#include "core/sequencer.hpp"
#include "core/sms_gateway.hpp"
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
        accounts_(sequencer_, config_, sms),
        chats_(sequencer_, config_),
        send_(sequencer_, config_),
        history_(sequencer_, config_),
        events_(sequencer_) {
    sequencer_.load();
  }

  // Shutdown: commits and completes every pending write. Call after the
  // network has stopped (nothing submits any more), before destruction.
  void stop() { writer_.stop(); }

  const CoreConfig& config() const { return config_; }
  Accounts& accounts() { return accounts_; }
  Chats& chats() { return chats_; }
  SendPipeline& send() { return send_; }
  History& history() { return history_; }
  EventStream& events() { return events_; }
  LiveHub& hub() { return hub_; }
  Sequencer& sequencer() { return sequencer_; }
  const store::GroupCommitWriter& writer() const { return writer_; }

 private:
  CoreConfig config_;
  std::unique_ptr<store::Store> store_;
  LiveHub hub_;
  store::GroupCommitWriter writer_;
  Sequencer sequencer_;
  Accounts accounts_;
  Chats chats_;
  SendPipeline send_;
  History history_;
  EventStream events_;
};

}  // namespace chat::core

// The sequencer: the one place where order is decided.
//
// Every change to the domain runs as a Transaction under one lock: the
// function checks the request against the in-memory Directory, assigns the
// chat seqs and user offsets it needs, and records the mutations to store and
// the events to publish. Still under the lock, the transaction is handed to the
// group-commit writer, so the writer sees transactions in exactly the order
// their numbers were assigned. After the batch is durable, on the writer
// thread, `finish_batch` marks the numbers of all its transactions committed
// (one lock per batch: under load a batch holds hundreds), publishes the
// events to the LiveHub (commit order == delivery order), and runs the
// transactions' completions (which send the acks).
//
// The lock covers only in-memory work plus, where a request needs it, a point
// read from the store (bloom-filtered; see docs/architecture.md); it is never
// held across network I/O or an fsync.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "base/clock.hpp"
#include "core/directory.hpp"
#include "core/event_frame.hpp"
#include "core/live_hub.hpp"
#include "store/group_commit_writer.hpp"
#include "store/store.hpp"

namespace chat::core {

class Transaction {
 public:
  explicit Transaction(Directory& dir) : dir_(dir) {}

  void put(store::Mutation m) { mutations_.push_back(std::move(m)); }

  // Appends an event to `user_id`'s stream with the next offset; it is stored
  // and, after commit, published with `tail` (and `message`, for a message event).
  std::uint64_t add_event(const std::string& user_id, store::EventRecord record,
                          std::shared_ptr<const std::string> tail, std::int64_t now_ms,
                          std::shared_ptr<const MessageRef> message = nullptr);

  // Marks `seq` of `chat_id` as committed once this transaction is.
  void commit_seq(const std::string& chat_id, std::uint64_t seq) {
    chat_seqs_.emplace_back(chat_id, seq);
  }

  // Runs on the writer thread after the commit and the publication.
  void on_committed(std::function<void()> fn) { completions_.push_back(std::move(fn)); }

  Directory& directory() { return dir_; }

 private:
  friend class Sequencer;
  struct Published {
    std::string user_id;
    EventFrame frame;
  };
  Directory& dir_;
  std::vector<store::Mutation> mutations_;
  std::vector<Published> events_;
  std::vector<std::pair<std::string, std::uint64_t>> chat_seqs_;
  std::vector<std::function<void()>> completions_;
};

class Sequencer {
 public:
  Sequencer(store::Store& store, store::GroupCommitWriter& writer, LiveHub& hub,
            const Clock& clock);

  // Loads the Directory from the store (start-up).
  void load();

  // Runs `fn(tx)` under the lock and submits whatever it recorded. A
  // transaction with no mutations still goes through the writer: its
  // completions then run after every earlier commit, which is how a reply that
  // merely *mentions* pending state (an existing direct chat, an in-flight
  // idempotent send) is held back until that state is durable.
  void transact(const std::function<void(Transaction&)>& fn);

  // Runs `fn(directory)` under the lock, for reads.
  template <class F>
  auto read(F&& fn) {
    std::lock_guard lock(mutex_);
    return fn(dir_);
  }

  store::Store& store() { return store_; }
  LiveHub& hub() { return hub_; }
  const Clock& clock() const { return clock_; }
  std::uint64_t messages_committed() const;

 private:
  void finish_batch();

  store::Store& store_;
  store::GroupCommitWriter& writer_;
  LiveHub& hub_;
  const Clock& clock_;
  std::mutex mutex_;
  Directory dir_;
  // Transactions of the batch being committed, in order (writer thread only).
  std::vector<std::shared_ptr<Transaction>> committed_;
  std::atomic<std::uint64_t> messages_committed_{0};
};

}  // namespace chat::core

// The group-commit writer: the only thread that writes to the Store.
//
// Why one writer: order. The domain assigns a chat's seqs and a user's offsets
// under its lock and submits the resulting mutations here *in that same order*
// (submit is called while the domain lock is held). This thread takes everything
// queued so far, applies it as one atomic batch with one fsync, and only then
// runs the completions, in submission order. So:
//
//   * nothing is acknowledged before it is durable (the ack is sent from a
//     completion, which runs after the fsync returned);
//   * storage order == assignment order, and delivery (started from the
//     completions) == commit order;
//   * one fsync is shared by every request that arrived while the previous one
//     was in flight: the busier the server, the bigger the batch.
//
// If a batch fails (disk full, I/O error) the in-memory counters have already
// moved past what is stored, so the writer stops the process (fail-stop, like
// PostgreSQL's PANIC on fsync failure) rather than serve a state that disagrees
// with the disk. Clients resume from their cursors after the restart.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "store/store.hpp"

namespace chat::store {

class GroupCommitWriter {
 public:
  using Completion = std::function<void()>;

  GroupCommitWriter(Store& store, Durability durability);
  ~GroupCommitWriter();  // stop()
  // Commits everything queued so far, runs its completions, and ends the
  // thread. Call only once nothing submits any more (shutdown).
  void stop();
  GroupCommitWriter(const GroupCommitWriter&) = delete;
  GroupCommitWriter& operator=(const GroupCommitWriter&) = delete;

  // Queues `mutations`; `done` runs on the writer thread once they are committed
  // (durably, per the durability mode). Thread-safe; keeps submission order.
  void submit(std::vector<Mutation> mutations, Completion done);

  // `fn` runs on the writer thread after the completions of every batch, so a
  // caller can do per-batch work once (one lock, not one per request). Set it
  // before the first submit.
  void set_after_batch(std::function<void()> fn);

  // Statistics for /metrics.
  std::uint64_t batches_committed() const;
  std::uint64_t mutations_committed() const;

 private:
  struct Request {
    std::vector<Mutation> mutations;
    Completion done;
  };

  void run();
  void commit(std::vector<Request>& requests);

  Store& store_;
  const Durability durability_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::function<void()> after_batch_;
  std::vector<Request> queue_;
  bool stopping_ = false;
  std::uint64_t batches_ = 0;
  std::uint64_t mutations_ = 0;
  std::int64_t last_sync_ms_ = 0;
  std::thread thread_;
};

}  // namespace chat::store

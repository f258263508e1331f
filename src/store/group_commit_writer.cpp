#include "store/group_commit_writer.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace chat::store {
namespace {

std::int64_t monotonic_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

constexpr std::int64_t kBatchSyncIntervalMs = 100;

}  // namespace

GroupCommitWriter::GroupCommitWriter(Store& store, Durability durability)
    : store_(store), durability_(durability), thread_([this] { run(); }) {}

GroupCommitWriter::~GroupCommitWriter() {
  stop();
}

void GroupCommitWriter::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void GroupCommitWriter::submit(std::vector<Mutation> mutations, Completion done) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back({std::move(mutations), std::move(done)});
  }
  wake_.notify_one();
}

void GroupCommitWriter::set_after_batch(std::function<void()> fn) {
  std::lock_guard lock(mutex_);
  after_batch_ = std::move(fn);
}

std::uint64_t GroupCommitWriter::batches_committed() const {
  std::lock_guard lock(mutex_);
  return batches_;
}

std::uint64_t GroupCommitWriter::mutations_committed() const {
  std::lock_guard lock(mutex_);
  return mutations_;
}

void GroupCommitWriter::run() {
  std::vector<Request> taken;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      if (durability_ == Durability::batch) {
        wake_.wait_for(lock, std::chrono::milliseconds(kBatchSyncIntervalMs),
                       [this] { return stopping_ || !queue_.empty(); });
      } else {
        wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      }
      if (queue_.empty() && stopping_) break;
      taken.swap(queue_);
    }
    if (!taken.empty()) commit(taken);
    if (durability_ == Durability::batch &&
        monotonic_ms() - last_sync_ms_ >= kBatchSyncIntervalMs) {
      if (!store_.sync_wal().ok()) {
        std::fprintf(
            stderr,
            "chatd: FATAL: WAL sync failed; stopping to keep disk and memory in agreement\n");
        std::abort();
      }
      last_sync_ms_ = monotonic_ms();
    }
    taken.clear();
  }
  if (durability_ != Durability::none) (void)store_.sync_wal();
}

void GroupCommitWriter::commit(std::vector<Request>& requests) {
  std::vector<Mutation> batch;
  std::size_t total = 0;
  for (const auto& r : requests)
    total += r.mutations.size();
  batch.reserve(total);
  for (auto& r : requests) {
    for (auto& m : r.mutations)
      batch.push_back(std::move(m));
  }
  const Status status = store_.apply(batch, durability_ == Durability::sync);
  if (!status.ok()) {
    std::fprintf(stderr, "chatd: FATAL: storage write failed (%s); stopping\n",
                 status.error().message.c_str());
    std::abort();
  }
  {
    std::lock_guard lock(mutex_);
    ++batches_;
    mutations_ += total;
  }
  for (auto& r : requests) {
    if (r.done) r.done();
  }
  if (after_batch_) after_batch_();
}

}  // namespace chat::store

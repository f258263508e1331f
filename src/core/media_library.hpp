// Media as the domain sees it (PROTOCOL.md, "Media"): who may read an upload,
// what a message that carries media stores, and which uploads are garbage.
// The bytes themselves are media/'s business (blob store, pool); net/ wires
// the two together. Nothing here touches a file.
//
// Access rule: an upload that was never sent is readable by its uploader only.
// Once a message carrying it commits, it is readable by the members (current
// ones) of every chat where a live (not deleted) message carries it -- and by
// no one else, the uploader included. Every refusal is `not_found`, so media
// ids are not an oracle. An upload unsent for longer than the TTL counts as
// gone (not_found) even before a sweep removes it.
//
// Races with the sweep are settled under the sequencer lock: a send holds its
// media from before its seq is assigned until it commits (a sweep skips held
// media; a send whose media a queued sweep is removing fails with not_found),
// and a delete's dropped refs are skipped by a sweep until they commit.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "base/result.hpp"
#include "core/config.hpp"
#include "core/principal.hpp"
#include "core/sequencer.hpp"
#include "store/records.hpp"

namespace chat::core {

class MediaLibrary {
 public:
  MediaLibrary(Sequencer& seq, MediaConfig config) : seq_(seq), config_(config) {}

  // Stores a new upload's record (media_id, created_ts and sent are filled in
  // here). `done` runs after the commit, with the record as stored.
  void register_upload(const Principal& who, store::MediaRecord record,
                       std::function<void(Result<store::MediaRecord>)> done);

  // The record, if `who` may read it now; `not_found` otherwise.
  Result<store::MediaRecord> readable(const Principal& who, const std::string& media_id) const;

  // For a send: the items of `media_ids`, each readable by `who` (own unsent
  // upload, or forwardable from a chat where `who` is a member). Checked
  // outside the sequencer lock; the records never change once written.
  Result<std::vector<store::MediaItem>> resolve_for_send(
      const Principal& who, const std::vector<std::string>& media_ids) const;

  // Inside the send's transaction, before the message is appended (no seq is
  // assigned yet, so a refusal leaves no trace): `not_found` if one of the
  // media was removed (or is being removed) since resolve_for_send; otherwise
  // keeps them from garbage collection until the transaction commits.
  Status hold_for_send(Transaction& tx, const std::vector<store::MediaItem>& items);
  // Inside the send's transaction, after append_message assigned the seq:
  // refs for the new message, and marks unsent uploads as sent.
  void record_send(Transaction& tx, const store::MessageRecord& m) const;
  // Inside a delete-for-everyone transaction: drops the message's refs (they
  // become GC candidates). Call before clearing the message's media.
  void record_delete(Transaction& tx, const store::MessageRecord& m);

  // One garbage-collection pass: removes media no live message carries any
  // more and uploads unsent for longer than the TTL. Returns the sha256 of each
  // blob that no media record names any more once that has committed (the
  // caller unlinks them via BlobStore::remove_if_unreferenced, which checks
  // again). Blocks until its transaction commits; run it off socket threads.
  std::vector<std::string> collect_garbage();

  // Called after a delete commits that dropped refs (net/ wires it to a sweep
  // on the media pool), so erased media leaves the disk promptly. It runs on
  // the writer thread: it must only post the sweep, never run it (the sweep
  // waits for a commit). Set it before serving.
  // Setting it (null to unset) waits for a call in progress to return.
  void on_refs_dropped(std::function<void()> fn) {
    std::lock_guard lock(hook_mutex_);
    refs_dropped_ = std::move(fn);
  }
  void notify_refs_dropped() const {
    std::lock_guard lock(hook_mutex_);
    if (refs_dropped_) refs_dropped_();
  }

  const MediaConfig& config() const { return config_; }

 private:
  Sequencer& seq_;
  MediaConfig config_;
  // The unsent TTL has passed for `m` at `now_ms`.
  bool expired(const store::MediaRecord& m, std::int64_t now_ms) const {
    return !m.sent && m.created_ts <= now_ms - config_.unsent_ttl_ms;
  }

  mutable std::mutex hook_mutex_;
  std::function<void()> refs_dropped_;
  // In-flight state, touched only under the sequencer lock (in a transaction
  // or a Sequencer::read). media_id -> number of uncommitted transactions.
  std::unordered_map<std::string, int> sending_;   // sends carrying it
  std::unordered_map<std::string, int> dropping_;  // deletes dropping a ref of it
  std::unordered_set<std::string> removing_;       // a sweep's DeleteMedia is queued
};

}  // namespace chat::core

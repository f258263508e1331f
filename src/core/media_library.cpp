#include "core/media_library.hpp"

#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <unordered_set>

#include "base/random.hpp"
#include "core/validation.hpp"

namespace chat::core {
namespace {

// How many refs readable() looks at, and how much one GC pass takes on.
constexpr std::size_t kMaxRefsChecked = 1000;
constexpr std::size_t kGcPass = 1000;
// collect_garbage gives up waiting for its commit after this (the writer has
// stopped: shutdown); it then reports no blobs, which is always safe.
constexpr auto kGcCommitTimeout = std::chrono::seconds(60);

Error media_not_found() {
  return not_found("media not found");
}

bool valid_sha256(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// Adds one to each id's count in `counts` (under the sequencer lock) and,
// once the transaction commits, takes it away again.
void hold_until_commit(Sequencer& seq, Transaction& tx,
                       std::unordered_map<std::string, int>& counts, std::vector<std::string> ids) {
  for (const auto& id : ids)
    ++counts[id];
  tx.on_committed([&seq, &counts, ids = std::move(ids)] {
    seq.read([&](Directory&) {
      for (const auto& id : ids) {
        auto it = counts.find(id);
        if (it != counts.end() && --it->second <= 0) counts.erase(it);
      }
      return 0;
    });
  });
}

}  // namespace

void MediaLibrary::register_upload(const Principal& who, store::MediaRecord record,
                                   std::function<void(Result<store::MediaRecord>)> done) {
  if (!valid_sha256(record.item.sha256)) {
    return done(bad_request("sha256 must be 64 lowercase hex digits"));
  }
  if (record.item.mime.empty()) return done(bad_request("a media needs a type"));
  record.item.media_id = new_id('f');
  record.uploader = who.user_id;
  record.created_ts = seq_.clock().now_ms();
  record.sent = false;
  seq_.transact([&](Transaction& tx) {
    tx.put(store::PutMedia{record});
    tx.on_committed([record, done = std::move(done)]() mutable { done(std::move(record)); });
  });
}

Result<store::MediaRecord> MediaLibrary::readable(const Principal& who,
                                                  const std::string& media_id) const {
  if (!plausible_id(media_id, 'f')) return media_not_found();
  auto m = seq_.store().get_media(media_id);
  if (!m) return media_not_found();
  const std::int64_t now = seq_.clock().now_ms();
  if (!m->sent) {
    if (m->uploader != who.user_id || expired(*m, now)) return media_not_found();
    const bool removing = seq_.read([&](Directory&) { return removing_.count(media_id) > 0; });
    if (removing) return media_not_found();
    return std::move(*m);
  }
  const auto refs = seq_.store().media_refs(media_id, kMaxRefsChecked);
  if (refs.empty()) return media_not_found();
  const bool allowed = seq_.read([&](Directory& dir) {
    if (removing_.count(media_id)) return false;
    for (const auto& ref : refs) {
      const ChatState* chat = dir.chat_for_member(ref.chat_id, who.user_id);
      if (chat && chat->committed) return true;
    }
    return false;
  });
  if (!allowed) return media_not_found();
  return std::move(*m);
}

Result<std::vector<store::MediaItem>> MediaLibrary::resolve_for_send(
    const Principal& who, const std::vector<std::string>& media_ids) const {
  std::vector<store::MediaItem> items;
  items.reserve(media_ids.size());
  std::unordered_set<std::string> seen;
  for (const auto& id : media_ids) {
    if (!seen.insert(id).second) return bad_request("media ids must be distinct");
  }
  for (const auto& id : media_ids) {
    auto m = readable(who, id);
    if (!m) return m.take_error();
    items.push_back(std::move(m->item));
  }
  return items;
}

Status MediaLibrary::hold_for_send(Transaction& tx, const std::vector<store::MediaItem>& items) {
  const std::int64_t now = seq_.clock().now_ms();
  std::vector<std::string> ids;
  ids.reserve(items.size());
  for (const auto& item : items) {
    // Point reads under the lock: a sweep committed since resolve_for_send
    // removed the record; a queued one is in removing_.
    if (removing_.count(item.media_id)) return media_not_found();
    auto m = seq_.store().get_media(item.media_id);
    if (!m || expired(*m, now)) return media_not_found();
    ids.push_back(item.media_id);
  }
  hold_until_commit(seq_, tx, sending_, std::move(ids));
  return ok_status();
}

void MediaLibrary::record_send(Transaction& tx, const store::MessageRecord& m) const {
  for (const auto& item : m.media) {
    tx.put(store::PutMediaRef{{item.media_id, m.chat_id, m.seq}});
    auto record = seq_.store().get_media(item.media_id);
    if (record && !record->sent) {
      record->sent = true;
      tx.put(store::PutMedia{std::move(*record)});
    }
  }
}

void MediaLibrary::record_delete(Transaction& tx, const store::MessageRecord& m) {
  if (m.media.empty()) return;
  std::vector<std::string> ids;
  ids.reserve(m.media.size());
  for (const auto& item : m.media) {
    tx.put(store::DeleteMediaRef{{item.media_id, m.chat_id, m.seq}});
    ids.push_back(item.media_id);
  }
  hold_until_commit(seq_, tx, dropping_, std::move(ids));
}

std::vector<std::string> MediaLibrary::collect_garbage() {
  store::Store& store = seq_.store();
  // Unsent uploads created before `cutoff` have expired (see expired()).
  const std::int64_t cutoff = seq_.clock().now_ms() - config_.unsent_ttl_ms + 1;
  const std::vector<std::string> candidates = store.media_candidates(kGcPass);
  const std::vector<store::MediaRecord> unsent = store.unsent_media_before(cutoff, kGcPass);
  if (candidates.empty() && unsent.empty()) return {};

  // Decided under the lock, against the committed store plus what is in
  // flight (sending_, dropping_, removing_): see the header.
  std::vector<std::string> removed_shas;
  auto committed = std::make_shared<std::promise<void>>();
  auto future = committed->get_future();
  seq_.transact([&](Transaction& tx) {
    std::vector<std::string> removed;
    auto remove = [&](const store::MediaRecord& m) {
      tx.put(store::DeleteMedia{m.item.media_id, m.item.sha256, m.created_ts});
      removing_.insert(m.item.media_id);
      removed.push_back(m.item.media_id);
      removed_shas.push_back(m.item.sha256);
    };
    for (const auto& id : candidates) {
      // A delete dropping a ref of it has not committed: it will be a
      // candidate again then (the same key), so leave it for the next pass.
      if (dropping_.count(id)) continue;
      // A send carrying it is committing a ref: it stays.
      if (!sending_.count(id) && !removing_.count(id)) {
        auto m = store.get_media(id);
        if (m && store.media_refs(id, 1).empty()) remove(*m);
      }
      tx.put(store::DeleteMediaCandidate{id});
    }
    for (const auto& old : unsent) {
      const std::string& id = old.item.media_id;
      if (sending_.count(id) || removing_.count(id)) continue;
      auto m = store.get_media(id);  // again: a send may have committed since
      if (m && !m->sent && m->created_ts < cutoff) remove(*m);
    }
    tx.on_committed([this, committed, removed = std::move(removed)] {
      seq_.read([&](Directory&) {
        for (const auto& id : removed)
          removing_.erase(id);
        return 0;
      });
      committed->set_value();
    });
  });
  if (future.wait_for(kGcCommitTimeout) != std::future_status::ready) return {};

  std::vector<std::string> unreferenced;
  std::unordered_set<std::string> seen;
  for (const auto& sha : removed_shas) {
    if (seen.insert(sha).second && !store.blob_referenced(sha)) unreferenced.push_back(sha);
  }
  return unreferenced;
}

}  // namespace chat::core

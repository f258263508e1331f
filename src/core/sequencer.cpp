#include "core/sequencer.hpp"

namespace chat::core {

std::uint64_t Transaction::add_event(const std::string& user_id, store::EventRecord record,
                                     std::shared_ptr<const std::string> tail, std::int64_t now_ms,
                                     std::shared_ptr<const MessageRef> message) {
  const std::uint64_t offset = ++dir_.streams[user_id].assigned;
  record.user_id = user_id;
  record.offset = offset;
  mutations_.push_back(store::PutEvent{std::move(record)});
  events_.push_back({user_id, EventFrame{offset, std::move(tail), now_ms, std::move(message)}});
  return offset;
}

Sequencer::Sequencer(store::Store& store, store::GroupCommitWriter& writer, LiveHub& hub,
                     const Clock& clock)
    : store_(store), writer_(writer), hub_(hub), clock_(clock) {
  writer_.set_after_batch([this] { finish_batch(); });
}

void Sequencer::load() {
  std::lock_guard lock(mutex_);
  store_.for_each_chat([&](store::ChatSnapshot&& snap) {
    ChatState state;
    state.record = std::move(snap.chat);
    state.members = std::move(snap.members);
    state.assigned_seq = state.committed_seq = snap.last_seq;
    state.last_ts = snap.last_ts;
    state.activity_ts = std::max(snap.last_ts, state.record.created_ts);
    state.committed = true;
    for (const auto& m : state.members)
      dir_.user_chats[m.user_id].insert(state.record.chat_id);
    std::string id = state.record.chat_id;
    dir_.chats.emplace(std::move(id), std::move(state));
  });
  store_.for_each_user_head([&](const std::string& user, std::uint64_t head) {
    dir_.streams[user] = StreamState{head, head};
  });
  store_.for_each_direct(
      [&](const std::string& lo, const std::string& hi, const std::string& chat) {
        dir_.direct[{lo, hi}] = chat;
      });
}

void Sequencer::transact(const std::function<void(Transaction&)>& fn) {
  std::lock_guard lock(mutex_);
  auto tx = std::make_shared<Transaction>(dir_);
  fn(*tx);
  if (tx->mutations_.empty() && tx->completions_.empty()) return;
  std::vector<store::Mutation> mutations = std::move(tx->mutations_);
  writer_.submit(std::move(mutations),
                 [this, tx = std::move(tx)]() mutable { committed_.push_back(std::move(tx)); });
}

void Sequencer::finish_batch() {
  if (committed_.empty()) return;
  std::uint64_t messages = 0;
  {
    std::lock_guard lock(mutex_);
    for (const auto& tx : committed_) {
      for (const auto& e : tx->events_) {
        auto& stream = dir_.streams[e.user_id];
        if (e.frame.offset > stream.committed) stream.committed = e.frame.offset;
      }
      for (const auto& [chat_id, seq] : tx->chat_seqs_) {
        if (ChatState* c = dir_.chat(chat_id)) {
          c->committed = true;
          if (seq > c->committed_seq) {
            messages += seq - c->committed_seq;
            c->committed_seq = seq;
          }
        }
      }
    }
  }
  messages_committed_.fetch_add(messages, std::memory_order_relaxed);
  for (const auto& tx : committed_) {
    for (const auto& e : tx->events_)
      hub_.publish(e.user_id, e.frame);
    for (auto& fn : tx->completions_)
      fn();
  }
  committed_.clear();
}

std::uint64_t Sequencer::messages_committed() const {
  return messages_committed_.load(std::memory_order_relaxed);
}

}  // namespace chat::core

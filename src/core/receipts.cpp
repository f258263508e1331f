#include "core/receipts.hpp"

#include <algorithm>
#include <map>

#include "core/validation.hpp"
#include "proto/render.hpp"

namespace chat::core {
namespace {

// Past this many messages, finding the exact senders of a range costs more
// than it saves: every other member gets the receipt (harmless: a receipt
// only ever confirms messages up to a seq).
constexpr std::uint64_t kMaxScan = 2000;

std::string_view status_name(ReceiptStatus s) {
  return s == ReceiptStatus::read ? "read" : "delivered";
}

std::uint64_t& mark_of(store::MemberRecord& m, ReceiptStatus s) {
  return s == ReceiptStatus::read ? m.read_seq : m.delivered_seq;
}

}  // namespace

std::vector<Receipts::Plan> Receipts::plan(const std::string& user_id, ReceiptStatus status,
                                           const std::vector<Target>& targets) const {
  struct Current {
    std::uint64_t mark;
    std::vector<std::string> others;
  };
  std::vector<Plan> plans;
  for (const auto& target : targets) {
    const std::string& chat_id = target.chat_id;
    auto current = seq_.read([&](Directory& dir) -> std::optional<Current> {
      ChatState* chat = dir.chat_for_member(chat_id, user_id);
      if (!chat) return std::nullopt;
      Current c{mark_of(*chat->member(user_id), status), {}};
      for (const auto& m : chat->members) {
        if (m.user_id != user_id) c.others.push_back(m.user_id);
      }
      return c;
    });
    if (!current || target.up_to <= current->mark) continue;
    Plan p{chat_id, target.up_to, {}};
    auto add_sender = [&](std::uint64_t seq, const std::string& sender) {
      if (seq <= current->mark || sender.empty() || sender == user_id) return;
      if (std::find(p.senders.begin(), p.senders.end(), sender) == p.senders.end()) {
        p.senders.push_back(sender);
      }
    };
    if (target.known) {
      for (const auto& [seq, sender] : *target.known)
        add_sender(seq, sender);
    } else if (target.up_to - current->mark > kMaxScan) {
      p.senders = std::move(current->others);
    } else {
      for (const auto& m :
           seq_.store().messages_ascending(chat_id, current->mark + 1, target.up_to, kMaxScan)) {
        add_sender(m.seq, m.sender);
      }
    }
    plans.push_back(std::move(p));
  }
  return plans;
}

void Receipts::apply(Transaction& tx, const std::string& user_id, ReceiptStatus status,
                     const Plan& plan, std::int64_t now_ms, const std::string& device_id) {
  ChatState* chat = tx.directory().chat_for_member(plan.chat_id, user_id);
  if (!chat) return;  // removed meanwhile
  store::MemberRecord& me = *chat->member(user_id);
  if (plan.up_to <= mark_of(me, status)) return;  // another device got there first
  // Delivering only one's own messages (a sender's device acking its echoes)
  // tells nobody anything: skip the write. The mark catches up, covering
  // them too, with the next message from someone else.
  if (status == ReceiptStatus::delivered && plan.senders.empty()) return;
  if (status == ReceiptStatus::read) {
    me.read_seq = plan.up_to;
    me.read_ts = now_ms;
    if (me.delivered_seq < plan.up_to) {
      me.delivered_seq = plan.up_to;
      me.delivered_ts = now_ms;
    }
  } else {
    me.delivered_seq = plan.up_to;
    me.delivered_ts = now_ms;
  }
  tx.put(store::PutMember{me});
  if (status == ReceiptStatus::read) {
    push_.on_read(tx, user_id, plan.chat_id, plan.up_to, now_ms, device_id);
  }

  std::vector<std::string> recipients;
  for (const auto& s : plan.senders) {
    if (chat->member(s)) recipients.push_back(s);
  }
  if (status == ReceiptStatus::read) recipients.push_back(user_id);
  if (recipients.empty()) return;
  auto tail = std::make_shared<const std::string>(
      proto::receipt_event_tail(plan.chat_id, user_id, status_name(status), plan.up_to, now_ms));
  store::EventRecord e{.kind = store::EventKind::receipt,
                       .chat_id = plan.chat_id,
                       .seq = plan.up_to,
                       .actor = user_id,
                       .status = std::string(status_name(status)),
                       .ts = now_ms};
  for (const auto& r : recipients)
    tx.add_event(r, e, tail, now_ms);
}

void Receipts::mark(const Principal& who, const std::string& chat_id, ReceiptStatus status,
                    std::uint64_t seq, std::function<void(Status)> done) {
  if (!plausible_id(chat_id, 'c')) return done(not_found("chat not found"));
  auto last = seq_.read([&](Directory& dir) -> std::optional<std::uint64_t> {
    const ChatState* chat = dir.chat_for_member(chat_id, who.user_id);
    if (!chat || !chat->committed) return std::nullopt;
    return chat->committed_seq;
  });
  if (!last) return done(not_found("chat not found"));
  if (seq == 0 || seq > *last)
    return done(bad_request("seq must be between 1 and the chat's last_seq"));
  auto plans = plan(who.user_id, status, {{chat_id, seq}});
  const std::int64_t now = seq_.clock().now_ms();
  seq_.transact([&](Transaction& tx) {
    for (const auto& p : plans)
      apply(tx, who.user_id, status, p, now, who.device_id);
    tx.on_committed([done] { done(ok_status()); });
  });
}

Result<std::vector<MemberReceipt>> Receipts::of_message(const Principal& who,
                                                        const std::string& chat_id,
                                                        std::uint64_t seq) const {
  return seq_.read([&](Directory& dir) -> Result<std::vector<MemberReceipt>> {
    const ChatState* chat = dir.chat_for_member(chat_id, who.user_id);
    if (!chat || !chat->committed) return not_found("chat not found");
    if (seq == 0 || seq > chat->committed_seq) return not_found("message not found");
    std::vector<MemberReceipt> out;
    for (const auto& m : chat->members) {
      if (m.user_id == who.user_id) continue;
      MemberReceipt r{m.user_id, std::nullopt, std::nullopt};
      if (m.delivered_seq >= seq) r.delivered_ts = m.delivered_ts;
      if (m.read_seq >= seq) r.read_ts = m.read_ts;
      out.push_back(std::move(r));
    }
    return out;
  });
}

}  // namespace chat::core

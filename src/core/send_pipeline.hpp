// The send path: from a validated request to a durable, ordered message and
// one event in every member's stream.
//
//   1. check the request (sizes, UTF-8 already checked by the parser), and
//      resolve its media (each readable by the sender) outside the lock;
//   2. under the sequencer lock: membership, reply_to, idempotency (an
//      in-flight send with the same key waits for the first; a committed one
//      answers with the stored message), then assign seq and ts and append one
//      event per member (the rendered message is shared by all of them);
//   3. the group-commit writer stores it all in one batch with one fsync;
//   4. after the fsync: mark committed, publish the events (live delivery),
//      and only then complete `done` -- the sender's ack.
//
// So an ack always means "durable", and every member sees the same seq order,
// because seqs are assigned and committed in one order by one writer.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/result.hpp"
#include "core/config.hpp"
#include "core/media_library.hpp"
#include "core/principal.hpp"
#include "core/push_outbox.hpp"
#include "core/sequencer.hpp"
#include "proto/requests.hpp"

namespace chat::core {

struct SendOutcome {
  std::string chat_id;
  std::uint64_t seq = 0;
  std::string message_id;
  std::int64_t ts = 0;
  std::shared_ptr<const std::string> message_json;
  bool created = true;  // false: an idempotent retry answered with the original
};

class SendPipeline {
 public:
  using Done = std::function<void(Result<SendOutcome>)>;

  SendPipeline(Sequencer& seq, const CoreConfig& config, MediaLibrary& media, PushOutbox& push)
      : seq_(seq), config_(config), media_(media), push_(push) {}

  // `done` runs once: on the writer thread after the commit, or on the
  // calling thread for an error or an already-stored duplicate.
  void send(const Principal& who, const proto::SendRequest& req, Done done);

 private:
  Status check(const proto::SendRequest& req) const;

  Sequencer& seq_;
  const CoreConfig& config_;
  MediaLibrary& media_;
  PushOutbox& push_;
  // (sender, chat, client_msg_id) of sends not yet committed -> the waiters of
  // their retries. Touched only under the sequencer lock.
  std::unordered_map<std::string, std::vector<Done>> in_flight_;
};

}  // namespace chat::core

// Helpers shared by everything that appends to a chat inside a Transaction:
// assigning the next seq, storing the message, fanning out one event per
// member (one rendered tail shared by all), and recording chat versions.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/sequencer.hpp"
#include "store/records.hpp"

namespace chat::core {

// Assigns the next seq and ts of `chat` to `m`, stores it, and appends a
// `message` event to the stream of every user in `recipients`. Returns the
// rendered message object. With `offsets`, it gets the offset each recipient's
// event got (`(*offsets)[i]` for `recipients[i]`).
std::shared_ptr<const std::string> append_message(Transaction& tx, ChatState& chat,
                                                  store::MessageRecord& m,
                                                  const std::vector<std::string>& recipients,
                                                  std::int64_t now_ms,
                                                  std::vector<std::uint64_t>* offsets = nullptr);

// Stores the chat object as it is now and sends a `chat` event to `recipients`.
std::shared_ptr<const std::string> record_chat_version(Transaction& tx, const ChatState& chat,
                                                       const std::vector<std::string>& recipients,
                                                       std::int64_t now_ms);

std::vector<std::string> member_ids(const ChatState& chat);

}  // namespace chat::core

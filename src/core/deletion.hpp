// Delete for everyone (PROTOCOL.md, DELETE /v1/chats/{id}/messages/{seq}).
//
// Allowed to the message's sender within 48 hours of sending, and to a
// group's admins at any time. The message keeps its seq and its place in
// history; its body and media references are overwritten in the store (the
// old bytes disappear from disk at the next compaction of that key range, and
// no API ever returns them again: replays of the original `message` event
// render the message as it is now, deleted). Every member's devices get a
// `deleted` event. Deleting a deleted message succeeds and changes nothing.
// The message's media refs are dropped in the same transaction (the media
// becomes unreadable through it) and, after the commit, the MediaLibrary's
// refs-dropped hook runs so a sweep can remove what nothing carries any more.
// A device that was pushed this message as its chat's newest gets a push
// `clear` (PushOutbox::on_delete, same transaction).
#pragma once

#include <functional>
#include <string>

#include "base/result.hpp"
#include "core/media_library.hpp"
#include "core/principal.hpp"
#include "core/push_outbox.hpp"
#include "core/sequencer.hpp"

namespace chat::core {

class Deletion {
 public:
  static constexpr std::int64_t kSenderWindowMs = 48ll * 3600 * 1000;

  Deletion(Sequencer& seq, MediaLibrary& media, PushOutbox& push)
      : seq_(seq), media_(media), push_(push) {}

  void delete_message(const Principal& who, const std::string& chat_id, std::uint64_t seq,
                      std::function<void(Status)> done);

 private:
  Sequencer& seq_;
  MediaLibrary& media_;
  PushOutbox& push_;
};

}  // namespace chat::core

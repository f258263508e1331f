// Server -> client JSON: message and chat objects, events, replies, errors.
//
// Events are rendered in two parts so that one serialisation serves every
// recipient: the *tail* (`"type":"message","message":{...}}`) is built once
// per message and shared; each user's frame is `{"offset":N,` + tail, where
// only the offset differs (net/ writes the two parts as one buffer sequence).
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "base/error.hpp"
#include "store/records.hpp"

namespace chat::proto {

// The protocol's message object.
std::string message_json(const store::MessageRecord& m);
// A media object as messages carry it and the upload reply returns it:
// {"media_id","mime","size","width"?,"height"?,"duration_ms"?,"filename"?,
// "sha256","thumbnail"} (absent optionals omitted).
boost::json::object media_item_object(const store::MediaItem& m);
std::string media_item_json(const store::MediaItem& m);
// The protocol's chat object.
std::string chat_json(const store::ChatRecord& chat, std::span<const store::MemberRecord> members,
                      std::uint64_t last_seq);

// Event tails (see above). `message` / `chat` are already-rendered objects.
std::string message_event_tail(std::string_view message);
std::string chat_event_tail(std::string_view chat);
std::string deleted_event_tail(std::string_view chat_id, std::uint64_t seq);
std::string receipt_event_tail(std::string_view chat_id, std::string_view user_id,
                               std::string_view status, std::uint64_t up_to_seq, std::int64_t ts);

// `{"offset":N,` — the per-recipient head of an event frame.
std::string event_head(std::uint64_t offset);
// Head and tail joined, for callers that need one string (long poll, tests).
std::string event_frame(std::uint64_t offset, std::string_view tail);

// WebSocket replies.
std::string ok_frame(const boost::json::value& id, std::string_view extra_fields = {});
std::string error_frame(const boost::json::value& id, const Error& e);
std::string pong_frame(const boost::json::value& id);

// REST error body: {"error":{"code","message"[,"retry_after_ms"]}}.
std::string error_body(const Error& e);

// A JSON string literal (quotes included) with proper escaping.
std::string quote(std::string_view s);

}  // namespace chat::proto

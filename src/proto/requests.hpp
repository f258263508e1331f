// Typed client requests: REST bodies and WebSocket frames, parsed and checked
// for shape (fields, types). Domain rules (phone format, lengths, membership)
// are checked by core/, which owns the limits.
//
// WebSocket frame grammar (PROTOCOL.md, "Requests"):
//
//   frame   := { "type": <type>, "id"?: string|integer, <fields of type> }
//   auth    := token, from_offset?
//   ack     := offset
//   send    := chat_id, client_msg_id, body?, reply_to?, media?
//   ping    := (nothing)
//   read    := chat_id, seq
//   delete  := chat_id, seq
//   typing  := chat_id, typing
//   presence_subscribe := user_ids (at most 500; checked by core)
//
// A frame whose JSON cannot be parsed yields an error with "id": null; a frame
// with a readable id yields errors that echo it.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace chat::proto {

struct OtpRequest {
  std::string phone;
};
struct VerifyRequest {
  std::string phone, code, device_name;
};
struct PatchMeRequest {
  std::optional<std::string> name, last_seen_privacy;
};
struct CreateChatRequest {
  bool group = false;
  std::string peer;                  // direct
  std::string title;                 // group
  std::vector<std::string> members;  // group
};
struct AddMembersRequest {
  std::vector<std::string> user_ids;
};
struct SetRoleRequest {
  bool admin = false;
};
struct SetTitleRequest {
  std::string title;
};
struct SendRequest {
  std::string chat_id;
  std::string client_msg_id;
  std::optional<std::string> body;
  std::optional<std::uint64_t> reply_to;
  std::vector<std::string> media;
};
struct AckRequest {
  std::uint64_t offset = 0;
};
// PUT /v1/chats/{id}/messages/{seq}/status
struct StatusRequest {
  bool read = false;  // else delivered
  bool valid = false;
};

Result<OtpRequest> parse_otp_request(std::string_view body);
Result<VerifyRequest> parse_verify_request(std::string_view body);
Result<PatchMeRequest> parse_patch_me(std::string_view body);
Result<CreateChatRequest> parse_create_chat(std::string_view body);
Result<AddMembersRequest> parse_add_members(std::string_view body);
Result<SetRoleRequest> parse_set_role(std::string_view body);
Result<SetTitleRequest> parse_set_title(std::string_view body);
// REST send: the chat id comes from the path.
Result<SendRequest> parse_send_body(std::string_view body, std::string chat_id);
Result<AckRequest> parse_ack_body(std::string_view body);
Result<StatusRequest> parse_status_body(std::string_view body);

enum class FrameType : std::uint8_t {
  auth,
  ack,
  send,
  ping,
  read,
  delete_message,
  typing,
  presence_subscribe
};

struct Frame {
  FrameType type;
  boost::json::value id;  // null when the client sent none
  boost::json::object fields;
};

// Parses and validates one WebSocket frame. On failure `id_out` holds the
// frame's id when it could be read (so the error can echo it), else null.
Result<Frame> parse_frame(std::string_view text, boost::json::value& id_out);

struct AuthFrame {
  std::string token;
  std::optional<std::uint64_t> from_offset;
};
AuthFrame auth_frame(const Frame& f);
AckRequest ack_frame(const Frame& f);
SendRequest send_frame(const Frame& f);
// read and delete: {chat_id, seq}
struct ChatSeqFrame {
  std::string chat_id;
  std::uint64_t seq = 0;
};
ChatSeqFrame chat_seq_frame(const Frame& f);
struct TypingFrame {
  std::string chat_id;
  bool typing = false;
};
TypingFrame typing_frame(const Frame& f);
std::vector<std::string> presence_subscribe_frame(const Frame& f);

}  // namespace chat::proto

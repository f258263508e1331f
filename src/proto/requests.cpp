#include "proto/requests.hpp"

#include <array>
#include <utility>

#include "proto/fields.hpp"

namespace chat::proto {
namespace json = boost::json;
using FT = FieldType;
namespace {

template <class T, class Fill>
Result<T> parse_with(std::string_view body, FieldTable table, Fill fill) {
  auto obj = parse_object(body);
  if (!obj) return obj.take_error();
  if (auto s = check_fields(*obj, table); !s) return s.take_error();
  T out;
  fill(*obj, out);
  return out;
}

void fill_send(const json::object& o, SendRequest& r) {
  r.client_msg_id = get_string(o, "client_msg_id");
  r.body = get_optional_string(o, "body");
  r.reply_to = get_optional_seq(o, "reply_to");
  r.media = get_strings(o, "media");
}

struct FrameSpec {
  std::string_view name;
  FrameType type;
  FieldTable fields;
};

// The frame table: every client frame type and its fields ("id" and "type"
// are allowed on all of them).
const std::array<FrameSpec, 8>& frame_table() {
  static const std::array<FrameSpec, 8> table = {{
      {"auth",
       FrameType::auth,
       {{"type", FT::string, true},
        {"id", FT::any_id, false},
        {"token", FT::string, true},
        {"from_offset", FT::seq, false}}},
      {"ack",
       FrameType::ack,
       {{"type", FT::string, true}, {"id", FT::any_id, false}, {"offset", FT::seq, true}}},
      {"send",
       FrameType::send,
       {{"type", FT::string, true},
        {"id", FT::any_id, false},
        {"chat_id", FT::string, true},
        {"client_msg_id", FT::string, true},
        {"body", FT::string, false},
        {"reply_to", FT::seq, false},
        {"media", FT::strings, false}}},
      {"ping", FrameType::ping, {{"type", FT::string, true}, {"id", FT::any_id, false}}},
      {"read",
       FrameType::read,
       {{"type", FT::string, true},
        {"id", FT::any_id, false},
        {"chat_id", FT::string, true},
        {"seq", FT::seq, true}}},
      {"delete",
       FrameType::delete_message,
       {{"type", FT::string, true},
        {"id", FT::any_id, false},
        {"chat_id", FT::string, true},
        {"seq", FT::seq, true}}},
      {"typing",
       FrameType::typing,
       {{"type", FT::string, true},
        {"id", FT::any_id, false},
        {"chat_id", FT::string, true},
        {"typing", FT::boolean, true}}},
      {"presence_subscribe",
       FrameType::presence_subscribe,
       {{"type", FT::string, true}, {"id", FT::any_id, false}, {"user_ids", FT::strings, true}}},
  }};
  return table;
}

}  // namespace

Result<OtpRequest> parse_otp_request(std::string_view body) {
  return parse_with<OtpRequest>(
      body, {{"phone", FT::string, true}},
      [](const json::object& o, OtpRequest& r) { r.phone = get_string(o, "phone"); });
}

Result<VerifyRequest> parse_verify_request(std::string_view body) {
  return parse_with<VerifyRequest>(
      body,
      {{"phone", FT::string, true}, {"code", FT::string, true}, {"device_name", FT::string, true}},
      [](const json::object& o, VerifyRequest& r) {
        r.phone = get_string(o, "phone");
        r.code = get_string(o, "code");
        r.device_name = get_string(o, "device_name");
      });
}

Result<PatchMeRequest> parse_patch_me(std::string_view body) {
  return parse_with<PatchMeRequest>(
      body, {{"name", FT::string, false}, {"last_seen_privacy", FT::string, false}},
      [](const json::object& o, PatchMeRequest& r) {
        r.name = get_optional_string(o, "name");
        r.last_seen_privacy = get_optional_string(o, "last_seen_privacy");
      });
}

Result<CreateChatRequest> parse_create_chat(std::string_view body) {
  auto obj = parse_object(body);
  if (!obj) return obj.take_error();
  auto type = obj->find("type");
  if (type == obj->end() || !type->value().is_string()) {
    return bad_request("field 'type' must be \"direct\" or \"group\"");
  }
  CreateChatRequest r;
  if (type->value().get_string() == "direct") {
    if (auto s = check_fields(*obj, {{"type", FT::string, true}, {"user_id", FT::string, true}});
        !s)
      return s.take_error();
    r.peer = get_string(*obj, "user_id");
  } else if (type->value().get_string() == "group") {
    if (auto s = check_fields(*obj, {{"type", FT::string, true},
                                     {"title", FT::string, true},
                                     {"members", FT::strings, false}});
        !s)
      return s.take_error();
    r.group = true;
    r.title = get_string(*obj, "title");
    r.members = get_strings(*obj, "members");
  } else {
    return bad_request("field 'type' must be \"direct\" or \"group\"");
  }
  return r;
}

Result<AddMembersRequest> parse_add_members(std::string_view body) {
  return parse_with<AddMembersRequest>(
      body, {{"user_ids", FT::strings, true}},
      [](const json::object& o, AddMembersRequest& r) { r.user_ids = get_strings(o, "user_ids"); });
}

Result<SetRoleRequest> parse_set_role(std::string_view body) {
  auto r = parse_with<std::string>(
      body, {{"role", FT::string, true}},
      [](const json::object& o, std::string& role) { role = get_string(o, "role"); });
  if (!r) return r.take_error();
  if (*r != "admin" && *r != "member") return bad_request("role must be \"admin\" or \"member\"");
  return SetRoleRequest{*r == "admin"};
}

Result<SetTitleRequest> parse_set_title(std::string_view body) {
  return parse_with<SetTitleRequest>(
      body, {{"title", FT::string, true}},
      [](const json::object& o, SetTitleRequest& r) { r.title = get_string(o, "title"); });
}

Result<SendRequest> parse_send_body(std::string_view body, std::string chat_id) {
  auto r = parse_with<SendRequest>(body,
                                   {{"client_msg_id", FT::string, true},
                                    {"body", FT::string, false},
                                    {"reply_to", FT::seq, false},
                                    {"media", FT::strings, false}},
                                   fill_send);
  if (r) r->chat_id = std::move(chat_id);
  return r;
}

Result<AckRequest> parse_ack_body(std::string_view body) {
  return parse_with<AckRequest>(
      body, {{"offset", FT::seq, true}},
      [](const json::object& o, AckRequest& r) { r.offset = get_seq(o, "offset"); });
}

Result<StatusRequest> parse_status_body(std::string_view body) {
  auto r = parse_with<StatusRequest>(body, {{"status", FT::string, true}},
                                     [](const json::object& o, StatusRequest& r) {
                                       r.read = get_string(o, "status") == "read";
                                       r.valid = r.read || get_string(o, "status") == "delivered";
                                     });
  if (r && !r->valid) return bad_request("status must be delivered or read");
  return r;
}

Result<Frame> parse_frame(std::string_view text, json::value& id_out) {
  id_out = nullptr;
  auto obj = parse_object(text);
  if (!obj) return obj.take_error();
  if (auto id = obj->find("id"); id != obj->end()) {
    const auto& v = id->value();
    if (v.is_string() || v.is_number()) id_out = v;
  }
  auto type = obj->find("type");
  if (type == obj->end() || !type->value().is_string()) {
    return bad_request("missing field 'type'");
  }
  for (const auto& spec : frame_table()) {
    if (spec.name != type->value().get_string()) continue;
    if (auto s = check_fields(*obj, spec.fields); !s) return s.take_error();
    return Frame{spec.type, id_out, std::move(*obj)};
  }
  return bad_request("unknown frame type '" + std::string(type->value().get_string()) + "'");
}

AuthFrame auth_frame(const Frame& f) {
  return {get_string(f.fields, "token"), get_optional_seq(f.fields, "from_offset")};
}

AckRequest ack_frame(const Frame& f) {
  return {get_seq(f.fields, "offset")};
}

SendRequest send_frame(const Frame& f) {
  SendRequest r;
  r.chat_id = get_string(f.fields, "chat_id");
  fill_send(f.fields, r);
  return r;
}

ChatSeqFrame chat_seq_frame(const Frame& f) {
  return {get_string(f.fields, "chat_id"), get_seq(f.fields, "seq")};
}

TypingFrame typing_frame(const Frame& f) {
  return {get_string(f.fields, "chat_id"), f.fields.at("typing").as_bool()};
}

std::vector<std::string> presence_subscribe_frame(const Frame& f) {
  return get_strings(f.fields, "user_ids");
}

}  // namespace chat::proto

#include "proto/render.hpp"

#include <boost/json.hpp>

#include <charconv>

namespace chat::proto {
namespace json = boost::json;
namespace {

json::value system_object(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return json::object{};
  return v;
}

std::string_view role_name(store::Role r) {
  return r == store::Role::admin ? "admin" : "member";
}

void append_number(std::string& out, std::uint64_t n) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, res.ptr);
}

void append_error_fields(json::object& o, const Error& e) {
  o["code"] = code_name(e.code);
  o["message"] = e.message;
  if (e.code == ErrorCode::rate_limited) o["retry_after_ms"] = e.retry_after_ms;
}

}  // namespace

json::object media_item_object(const store::MediaItem& m) {
  json::object o;
  o.reserve(9);
  o["media_id"] = m.media_id;
  o["mime"] = m.mime;
  o["size"] = m.size;
  if (m.width) o["width"] = *m.width;
  if (m.height) o["height"] = *m.height;
  if (m.duration_ms) o["duration_ms"] = *m.duration_ms;
  if (!m.filename.empty()) o["filename"] = m.filename;
  o["sha256"] = m.sha256;
  o["thumbnail"] = m.thumbnail;
  return o;
}

std::string media_item_json(const store::MediaItem& m) {
  return json::serialize(media_item_object(m));
}

std::string quote(std::string_view s) {
  return json::serialize(json::string(s));
}

std::string message_json(const store::MessageRecord& m) {
  json::object o;
  o.reserve(14);
  o["chat_id"] = m.chat_id;
  o["seq"] = m.seq;
  o["message_id"] = m.message_id;
  const bool system = m.kind == "system";
  o["sender"] = system ? json::value(nullptr) : json::value(m.sender);
  o["sender_device"] = system ? json::value(nullptr) : json::value(m.sender_device);
  o["ts"] = m.ts;
  o["kind"] = m.kind;
  if (system) {
    o["system"] = system_object(m.system_json);
  } else {
    o["body"] = m.deleted ? json::value(nullptr) : json::value(m.body);
  }
  o["reply_to"] = m.reply_to ? json::value(*m.reply_to) : json::value(nullptr);
  json::array media;
  if (!m.deleted) {
    media.reserve(m.media.size());
    for (const auto& item : m.media)
      media.push_back(media_item_object(item));
  }
  o["media"] = std::move(media);
  o["client_msg_id"] =
      m.client_msg_id.empty() ? json::value(nullptr) : json::value(m.client_msg_id);
  o["deleted"] = m.deleted;
  o["edited_ts"] = nullptr;
  return json::serialize(o);
}

std::string chat_json(const store::ChatRecord& chat, std::span<const store::MemberRecord> members,
                      std::uint64_t last_seq) {
  json::array list;
  list.reserve(members.size());
  for (const auto& m : members) {
    list.push_back(json::object{
        {"user_id", m.user_id}, {"role", role_name(m.role)}, {"joined_ts", m.joined_ts}});
  }
  json::object o{
      {"chat_id", chat.chat_id}, {"type", chat.type == store::ChatType::group ? "group" : "direct"},
      {"title", chat.title},     {"members", std::move(list)},
      {"last_seq", last_seq},    {"created_ts", chat.created_ts}};
  return json::serialize(o);
}

std::string message_event_tail(std::string_view message) {
  std::string t;
  t.reserve(message.size() + 32);
  t.append(R"("type":"message","message":)").append(message).push_back('}');
  return t;
}

std::string chat_event_tail(std::string_view chat) {
  std::string t;
  t.reserve(chat.size() + 32);
  t.append(R"("type":"chat","chat":)").append(chat).push_back('}');
  return t;
}

std::string deleted_event_tail(std::string_view chat_id, std::uint64_t seq) {
  std::string t = R"("type":"deleted","chat_id":)" + quote(chat_id) + R"(,"seq":)";
  append_number(t, seq);
  t.push_back('}');
  return t;
}

std::string receipt_event_tail(std::string_view chat_id, std::string_view user_id,
                               std::string_view status, std::uint64_t up_to_seq, std::int64_t ts) {
  std::string t = R"("type":"receipt","chat_id":)" + quote(chat_id) + R"(,"user_id":)" +
                  quote(user_id) + R"(,"status":)" + quote(status) + R"(,"up_to_seq":)";
  append_number(t, up_to_seq);
  t += R"(,"ts":)";
  t += std::to_string(ts);
  t.push_back('}');
  return t;
}

std::string event_head(std::uint64_t offset) {
  std::string h = R"({"offset":)";
  append_number(h, offset);
  h.push_back(',');
  return h;
}

std::string event_frame(std::uint64_t offset, std::string_view tail) {
  std::string f = event_head(offset);
  f.append(tail);
  return f;
}

std::string ok_frame(const json::value& id, std::string_view extra_fields) {
  std::string f = R"({"type":"ok","id":)" + json::serialize(id);
  if (!extra_fields.empty()) f.append(",").append(extra_fields);
  f.push_back('}');
  return f;
}

std::string error_frame(const json::value& id, const Error& e) {
  json::object o{{"type", "error"}, {"id", id}};
  append_error_fields(o, e);
  return json::serialize(o);
}

std::string pong_frame(const json::value& id) {
  if (id.is_null()) return R"({"type":"pong"})";
  return R"({"type":"pong","id":)" + json::serialize(id) + "}";
}

std::string error_body(const Error& e) {
  json::object inner;
  append_error_fields(inner, e);
  return json::serialize(json::object{{"error", std::move(inner)}});
}

}  // namespace chat::proto

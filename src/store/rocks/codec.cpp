#include "store/rocks/codec.hpp"

#include <boost/json.hpp>

#include "store/store.hpp"

namespace chat::store::rocks {
namespace json = boost::json;
namespace {

json::object parse_object(std::string_view v) {
  boost::system::error_code ec;
  json::value parsed = json::parse(v, ec);
  if (ec || !parsed.is_object()) throw StoreError("corrupt record in store");
  return std::move(parsed.as_object());
}

std::string str(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_string()) return {};
  return std::string(it->value().get_string());
}

std::int64_t i64(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end()) return 0;
  if (it->value().is_int64()) return it->value().get_int64();
  if (it->value().is_uint64()) return static_cast<std::int64_t>(it->value().get_uint64());
  return 0;
}

std::string serialize(const json::object& o) {
  return json::serialize(o);
}

bool flag(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_bool() && it->value().get_bool();
}

// A media item's fields, without its id (the caller stores that where it fits).
void put_item_fields(json::object& o, const MediaItem& m) {
  o["t"] = m.mime;
  o["z"] = m.size;
  o["h"] = m.sha256;
  if (!m.filename.empty()) o["f"] = m.filename;
  if (m.width) o["w"] = *m.width;
  if (m.height) o["ht"] = *m.height;
  if (m.duration_ms) o["du"] = *m.duration_ms;
  if (m.thumbnail) o["th"] = true;
}
void get_item_fields(const json::object& o, MediaItem& m) {
  m.mime = str(o, "t");
  m.size = static_cast<std::uint64_t>(i64(o, "z"));
  m.sha256 = str(o, "h");
  m.filename = str(o, "f");
  if (o.contains("w")) m.width = static_cast<std::uint32_t>(i64(o, "w"));
  if (o.contains("ht")) m.height = static_cast<std::uint32_t>(i64(o, "ht"));
  if (o.contains("du")) m.duration_ms = i64(o, "du");
  m.thumbnail = flag(o, "th");
}

}  // namespace

std::string encode(const UserRecord& r) {
  return serialize(
      {{"p", r.phone}, {"n", r.name}, {"lp", r.last_seen_privacy}, {"c", r.created_ts}});
}
void decode(std::string_view v, UserRecord& r) {
  auto o = parse_object(v);
  r.phone = str(o, "p");
  r.name = str(o, "n");
  r.last_seen_privacy = str(o, "lp");
  r.created_ts = i64(o, "c");
}

std::string encode(const DeviceRecord& r) {
  return serialize(
      {{"n", r.name}, {"t", r.token_hash}, {"c", r.created_ts}, {"a", r.last_active_ts}});
}
void decode(std::string_view v, DeviceRecord& r) {
  auto o = parse_object(v);
  r.name = str(o, "n");
  r.token_hash = str(o, "t");
  r.created_ts = i64(o, "c");
  r.last_active_ts = i64(o, "a");
}

std::string encode(const ChatRecord& r) {
  return serialize({{"y", static_cast<int>(r.type)}, {"t", r.title}, {"c", r.created_ts}});
}
void decode(std::string_view v, ChatRecord& r) {
  auto o = parse_object(v);
  r.type = i64(o, "y") == 1 ? ChatType::group : ChatType::direct;
  r.title = str(o, "t");
  r.created_ts = i64(o, "c");
}

std::string encode(const MemberRecord& r) {
  json::object o{{"r", static_cast<int>(r.role)}, {"j", r.joined_ts}};
  if (r.delivered_seq) {
    o["ds"] = r.delivered_seq;
    o["dt"] = r.delivered_ts;
  }
  if (r.read_seq) {
    o["rs"] = r.read_seq;
    o["rt"] = r.read_ts;
  }
  return json::serialize(o);
}
void decode(std::string_view v, MemberRecord& r) {
  auto o = parse_object(v);
  r.role = i64(o, "r") == 1 ? Role::admin : Role::member;
  r.joined_ts = i64(o, "j");
  r.delivered_seq = static_cast<std::uint64_t>(i64(o, "ds"));
  r.delivered_ts = i64(o, "dt");
  r.read_seq = static_cast<std::uint64_t>(i64(o, "rs"));
  r.read_ts = i64(o, "rt");
}

std::string encode(const MessageRecord& r) {
  json::object o{{"id", r.message_id}, {"ts", r.ts}, {"k", r.kind}};
  if (!r.sender.empty()) o["s"] = r.sender;
  if (!r.sender_device.empty()) o["sd"] = r.sender_device;
  if (!r.body.empty()) o["b"] = r.body;
  if (r.reply_to) o["rt"] = *r.reply_to;
  if (!r.media.empty()) {
    json::array media;
    for (const auto& m : r.media) {
      json::object item{{"i", m.media_id}};
      put_item_fields(item, m);
      media.emplace_back(std::move(item));
    }
    o["m"] = std::move(media);
  }
  if (!r.client_msg_id.empty()) o["cm"] = r.client_msg_id;
  if (!r.system_json.empty()) o["sy"] = r.system_json;
  if (r.deleted) o["d"] = true;
  return json::serialize(o);
}
void decode(std::string_view v, MessageRecord& r) {
  auto o = parse_object(v);
  r.message_id = str(o, "id");
  r.ts = i64(o, "ts");
  r.kind = str(o, "k");
  r.sender = str(o, "s");
  r.sender_device = str(o, "sd");
  r.body = str(o, "b");
  if (o.contains("rt")) r.reply_to = static_cast<std::uint64_t>(i64(o, "rt"));
  if (auto it = o.find("m"); it != o.end() && it->value().is_array()) {
    for (const auto& m : it->value().get_array()) {
      MediaItem item;
      if (m.is_string()) {  // rows written before items carried metadata: ids only
        item.media_id = m.get_string();
      } else if (m.is_object()) {
        item.media_id = str(m.get_object(), "i");
        get_item_fields(m.get_object(), item);
      } else {
        continue;
      }
      r.media.push_back(std::move(item));
    }
  }
  r.client_msg_id = str(o, "cm");
  r.system_json = str(o, "sy");
  r.deleted = flag(o, "d");
}

std::string encode(const MediaRecord& r) {
  json::object o{{"u", r.uploader}, {"c", r.created_ts}};
  put_item_fields(o, r.item);
  if (!r.thumbnail_mime.empty()) o["tm"] = r.thumbnail_mime;
  if (r.sent) o["s"] = true;
  return json::serialize(o);
}
void decode(std::string_view v, MediaRecord& r) {
  auto o = parse_object(v);
  get_item_fields(o, r.item);
  r.uploader = str(o, "u");
  r.created_ts = i64(o, "c");
  r.thumbnail_mime = str(o, "tm");
  r.sent = flag(o, "s");
}

std::string encode(const EventRecord& r) {
  json::object o{{"k", static_cast<int>(r.kind)}, {"c", r.chat_id}, {"s", r.seq}};
  if (r.kind == EventKind::receipt) {
    o["u"] = r.actor;
    o["st"] = r.status;
    o["ts"] = r.ts;
  }
  return json::serialize(o);
}
void decode(std::string_view v, EventRecord& r) {
  auto o = parse_object(v);
  r.kind = static_cast<EventKind>(i64(o, "k"));
  r.chat_id = str(o, "c");
  r.seq = static_cast<std::uint64_t>(i64(o, "s"));
  r.actor = str(o, "u");
  r.status = str(o, "st");
  r.ts = i64(o, "ts");
}

std::string encode(const PushTargetRecord& r) {
  return serialize({{"k", r.kind}, {"t", r.target_json}});
}
void decode(std::string_view v, PushTargetRecord& r) {
  auto o = parse_object(v);
  r.kind = str(o, "k");
  r.target_json = str(o, "t");
}

std::string encode(const ChatSettingsRecord& r) {
  json::object o;
  if (r.muted_until) o["m"] = *r.muted_until;
  if (!r.preview) o["p"] = false;
  return json::serialize(o);
}
void decode(std::string_view v, ChatSettingsRecord& r) {
  auto o = parse_object(v);
  r.muted_until.reset();
  if (o.contains("m")) r.muted_until = i64(o, "m");
  auto it = o.find("p");
  r.preview = !(it != o.end() && it->value().is_bool() && !it->value().get_bool());
}

std::string encode(const PushOutboxRecord& r) {
  json::object o{{"s", r.seq}, {"f", r.first_due_ms}};
  if (r.offset) o["o"] = r.offset;
  if (r.attempts) o["a"] = r.attempts;
  return json::serialize(o);
}
void decode(std::string_view v, PushOutboxRecord& r) {
  auto o = parse_object(v);
  r.seq = static_cast<std::uint64_t>(i64(o, "s"));
  r.offset = static_cast<std::uint64_t>(i64(o, "o"));
  r.attempts = static_cast<int>(i64(o, "a"));
  r.first_due_ms = i64(o, "f");
}

}  // namespace chat::store::rocks

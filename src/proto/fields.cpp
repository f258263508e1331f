#include "proto/fields.hpp"

#include <boost/json/parser.hpp>

namespace chat::proto {
namespace json = boost::json;
namespace {

std::string_view type_name(FieldType t) {
  switch (t) {
    case FieldType::string:
      return "a string";
    case FieldType::seq:
      return "a non-negative integer";
    case FieldType::boolean:
      return "a boolean";
    case FieldType::strings:
      return "an array of strings";
    case FieldType::any_id:
      return "a string or a number";
  }
  return "?";
}

bool is_seq(const json::value& v) {
  if (v.is_uint64()) return v.get_uint64() <= kMaxSeq;
  if (v.is_int64())
    return v.get_int64() >= 0 && static_cast<std::uint64_t>(v.get_int64()) <= kMaxSeq;
  return false;
}

bool matches(const json::value& v, FieldType t) {
  switch (t) {
    case FieldType::string:
      return v.is_string();
    case FieldType::seq:
      return is_seq(v);
    case FieldType::boolean:
      return v.is_bool();
    case FieldType::any_id:  // PROTOCOL.md: "any JSON string or number"
      return v.is_string() || v.is_number();
    case FieldType::strings:
      if (!v.is_array()) return false;
      for (const auto& e : v.get_array()) {
        if (!e.is_string()) return false;
      }
      return true;
  }
  return false;
}

}  // namespace

Status check_fields(const json::object& object, FieldTable table) {
  for (const auto& [key, value] : object) {
    const FieldSpec* spec = nullptr;
    for (const auto& f : table) {
      if (f.name == key) spec = &f;
    }
    if (!spec) return bad_request("unknown field '" + std::string(key) + "'");
    if (!matches(value, spec->type)) {
      return bad_request("field '" + std::string(key) + "' must be " +
                         std::string(type_name(spec->type)));
    }
  }
  for (const auto& f : table) {
    if (f.required && !object.contains(f.name)) {
      return bad_request("missing field '" + std::string(f.name) + "'");
    }
  }
  return ok_status();
}

std::string get_string(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it == o.end() ? std::string{} : std::string(it->value().get_string());
}

std::optional<std::string> get_optional_string(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end()) return std::nullopt;
  return std::string(it->value().get_string());
}

std::uint64_t get_seq(const json::object& o, std::string_view key) {
  return get_optional_seq(o, key).value_or(0);
}

std::optional<std::uint64_t> get_optional_seq(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end()) return std::nullopt;
  const auto& v = it->value();
  return v.is_uint64() ? v.get_uint64() : static_cast<std::uint64_t>(v.get_int64());
}

std::vector<std::string> get_strings(const json::object& o, std::string_view key) {
  std::vector<std::string> out;
  auto it = o.find(key);
  if (it == o.end()) return out;
  for (const auto& e : it->value().get_array())
    out.emplace_back(e.get_string());
  return out;
}

Result<json::object> parse_object(std::string_view text) {
  json::parse_options options;
  options.max_depth = 16;  // no legitimate frame nests deeper; caps parser work
  json::parser p({}, options);
  boost::system::error_code ec;
  p.write(text.data(), text.size(), ec);  // parser (not stream_parser): the whole text
  if (ec) return bad_request("malformed JSON: " + ec.message());
  json::value v = p.release();
  if (!v.is_object()) return bad_request("expected a JSON object");
  return std::move(v.as_object());
}

}  // namespace chat::proto

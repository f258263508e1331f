// Validation of JSON objects against a table of fields.
//
// Every request body and WebSocket frame is described by a FieldSpec table
// (name, type, required). check_fields() rejects what the table does not allow:
// a missing required field, a field of the wrong type, an unknown field. The
// tables in requests.cpp are the protocol's grammar, kept as data.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace chat::proto {

enum class FieldType : std::uint8_t {
  string,   // JSON string
  seq,      // JSON integer in [0, 2^53)
  boolean,  // JSON true/false
  strings,  // JSON array of strings
  any_id,   // a request id: JSON string or integer
};

struct FieldSpec {
  std::string_view name;
  FieldType type;
  bool required;
};

using FieldTable = std::initializer_list<FieldSpec>;

Status check_fields(const boost::json::object& object, FieldTable table);

// Accessors for fields already validated by check_fields.
std::string get_string(const boost::json::object& o, std::string_view key);
std::optional<std::string> get_optional_string(const boost::json::object& o, std::string_view key);
std::optional<std::uint64_t> get_optional_seq(const boost::json::object& o, std::string_view key);
std::uint64_t get_seq(const boost::json::object& o, std::string_view key);
std::vector<std::string> get_strings(const boost::json::object& o, std::string_view key);

// Parses `text` as one JSON object (depth-limited, UTF-8 checked).
Result<boost::json::object> parse_object(std::string_view text);

// Largest integer the protocol allows for seq and offset (2^53 - 1).
inline constexpr std::uint64_t kMaxSeq = (std::uint64_t{1} << 53) - 1;

}  // namespace chat::proto

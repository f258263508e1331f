// JSON helpers for tests that check rendered output.
#pragma once

#include <boost/json.hpp>

#include <stdexcept>
#include <string>
#include <string_view>

namespace chat::test {

// Parses `text`, which must be one JSON object; throws (a test failure) otherwise.
inline boost::json::object parse_json_object(std::string_view text) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  if (ec) throw std::runtime_error("invalid JSON (" + ec.message() + "): " + std::string(text));
  if (!v.is_object()) throw std::runtime_error("not a JSON object: " + std::string(text));
  return std::move(v.as_object());
}

}  // namespace chat::test

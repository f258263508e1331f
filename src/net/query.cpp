#include "net/query.hpp"

#include <boost/url/parse_query.hpp>

#include <charconv>

#include "proto/fields.hpp"

namespace chat::net {

Result<std::optional<std::string>> query_param(std::string_view query, std::string_view name) {
  if (query.empty()) return std::optional<std::string>{};
  // A NUL-terminated copy: Boost.URL 1.81's parse_query reads the last value
  // past the end of a view that is not terminated (an HTTP head's target),
  // so "?sig=ab" followed by " HTTP/1.1" in the buffer decoded as "ab HTTP".
  const std::string terminated(query);
  auto params = boost::urls::parse_query(terminated);
  if (!params) return bad_request("malformed query string");
  for (auto p : *params) {
    if (p.key != name) continue;
    std::string value;
    if (p.has_value) p.value.decode({}, boost::urls::string_token::assign_to(value));
    return std::optional<std::string>{std::move(value)};
  }
  return std::optional<std::string>{};
}

Result<std::optional<std::uint64_t>> query_number(std::string_view query, std::string_view name) {
  auto raw = query_param(query, name);
  if (!raw) return raw.take_error();
  if (!*raw) return std::optional<std::uint64_t>{};
  const std::string& s = **raw;
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc{} || end != s.data() + s.size() || s.empty() || n > proto::kMaxSeq) {
    return bad_request(std::string(name) + " must be an integer between 0 and 2^53-1");
  }
  return std::optional<std::uint64_t>{n};
}

}  // namespace chat::net

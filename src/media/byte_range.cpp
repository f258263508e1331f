#include "media/byte_range.hpp"

#include <charconv>

namespace chat::media {
namespace {

bool parse_number(std::string_view s, std::uint64_t& out) {
  if (s.empty()) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && end == s.data() + s.size();
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

ByteRange parse_byte_range(std::string_view header, std::uint64_t size) {
  using Kind = ByteRange::Kind;
  header = trim(header);
  constexpr std::string_view kUnit = "bytes=";
  // Another unit, or several ranges: ignore the header (RFC 9110 allows it).
  if (!header.starts_with(kUnit)) return {};
  std::string_view spec = trim(header.substr(kUnit.size()));
  if (spec.find(',') != std::string_view::npos) return {};
  const std::size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return {};
  const std::string_view a = trim(spec.substr(0, dash));
  const std::string_view b = trim(spec.substr(dash + 1));

  std::uint64_t first = 0, last = 0;
  if (a.empty()) {  // bytes=-n: the last n bytes
    std::uint64_t n = 0;
    if (!parse_number(b, n)) return {};
    if (n == 0 || size == 0) return {Kind::unsatisfiable};
    first = n >= size ? 0 : size - n;
    return {Kind::partial, first, size - 1};
  }
  if (!parse_number(a, first)) return {};
  if (b.empty()) {
    last = size == 0 ? 0 : size - 1;
  } else {
    if (!parse_number(b, last) || last < first) return {};  // invalid: ignored
    if (size > 0 && last >= size) last = size - 1;
  }
  if (first >= size) return {Kind::unsatisfiable};
  return {Kind::partial, first, last};
}

}  // namespace chat::media

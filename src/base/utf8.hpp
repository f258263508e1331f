// UTF-8 helpers: limits in PROTOCOL.md count characters (code points), not bytes.
#pragma once

#include <cstddef>
#include <string_view>

namespace chat {

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
bool valid_utf8(std::string_view s);

// Number of code points in well-formed UTF-8.
std::size_t utf8_length(std::string_view s);

}  // namespace chat

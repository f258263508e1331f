// Domain rules for values that come from the network.
#pragma once

#include <string>
#include <string_view>

#include "base/result.hpp"

namespace chat::core {

// E.164: '+' then 8-15 digits, the first not 0.
bool valid_phone(std::string_view phone);

// A title or name: 1..max_chars code points, no control characters.
Status check_label(std::string_view value, std::size_t max_chars, std::string_view field);

// An id as the server issues them (letter + 16 hex digits); anything else
// cannot exist, so callers answer not_found without a lookup.
bool plausible_id(std::string_view id, char kind);

}  // namespace chat::core

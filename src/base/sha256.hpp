// SHA-256 and constant-time comparison, for token and OTP storage: the server
// keeps only hashes of bearer tokens, so a copy of the data dir grants no access.
#pragma once

#include <string>
#include <string_view>

namespace chat {

std::string sha256_hex(std::string_view data);
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace chat

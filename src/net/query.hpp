// Query-string parameters, percent-decoded (boost::urls), for REST routes and
// media downloads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace chat::net {

// The value of `name` in a query string, percent-decoded; nullopt if absent.
// A malformed query string is reported as bad_request.
Result<std::optional<std::string>> query_param(std::string_view query, std::string_view name);

// An unsigned integer query parameter below 2^53; nullopt if absent.
Result<std::optional<std::uint64_t>> query_number(std::string_view query, std::string_view name);

}  // namespace chat::net

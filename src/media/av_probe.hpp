// Audio and video durations, read from the container's headers (libavformat;
// nothing is decoded).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace chat::media {

// The duration in milliseconds, or nothing when the container does not say.
std::optional<std::int64_t> probe_duration_ms(const std::string& path);

}  // namespace chat::media

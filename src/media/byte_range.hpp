// HTTP Range requests for media downloads (RFC 9110 section 14): one range of
// the forms `bytes=a-b`, `bytes=a-` and `bytes=-n`. A multi-range request is
// answered with the whole file (a server may ignore Range; multipart/byteranges
// buys a chat client nothing).
#pragma once

#include <cstdint>
#include <string_view>

namespace chat::media {

struct ByteRange {
  enum class Kind {
    whole,          // no usable Range header: 200 with the whole file
    partial,        // 206 with [first, last]
    unsatisfiable,  // 416 with Content-Range: bytes */size
  };
  Kind kind = Kind::whole;
  std::uint64_t first = 0;
  std::uint64_t last = 0;  // inclusive
  std::uint64_t length() const { return kind == Kind::partial ? last - first + 1 : 0; }
};

// `header` is the Range header's value ("" when absent), `size` the file's.
ByteRange parse_byte_range(std::string_view header, std::uint64_t size);

}  // namespace chat::media

// Images: dimensions from the header alone, and thumbnails (libvips, with
// shrink-on-load for JPEG and WebP, so a 12-megapixel photo is never decoded at
// full size). Both run on the media pool, never on a socket thread.
#pragma once

#include <cstdint>
#include <string>

#include "base/result.hpp"

namespace chat::media {

struct ImageInfo {
  std::uint32_t width = 0;
  std::uint32_t height = 0;
};

// Once per process, before any other call (vips_init; caches off).
void init_image_library();

// Reads only the header. An image above `max_pixels` is `too_large` -- refused
// before any pixel is decoded (a decompression bomb claims 50,000 x 50,000).
// Not decodable at all: `unsupported`.
Result<ImageInfo> probe_image(const std::string& path, std::uint64_t max_pixels);

struct Thumbnail {
  std::string mime;  // image/jpeg, or image/png for images with transparency
  std::uint64_t size = 0;
};

// Writes a thumbnail of at most `max_side` px on its long side, without
// metadata (EXIF, GPS, ICC are stripped), to `out_path` (via a temp file and
// rename, so a reader never sees half a thumbnail).
Result<Thumbnail> make_thumbnail(const std::string& path, const std::string& out_path,
                                 int max_side);

}  // namespace chat::media

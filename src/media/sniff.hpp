// Type sniffing: what a file really is, from its first bytes (libmagic), and
// what class of media that makes it. The client's Content-Type is only a claim.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace chat::media {

enum class MediaClass { image, audio, video, document };

// The MIME type of the bytes `head` (the first up to 64 KiB of the file), as
// libmagic sees it; "application/octet-stream" if it cannot tell.
std::string sniff_mime(const void* head, std::size_t n);
// The same for a file on disk (reads its head).
std::string sniff_file_mime(const std::string& path);

// image: JPEG, PNG, GIF, WebP only (the types we decode and thumbnail). SVG is
// a document, never an image (it can carry script). audio/* and video/* by prefix.
MediaClass classify(std::string_view mime);

// Whether the type may be shown inline by a browser (images, audio, video);
// anything else is served with Content-Disposition: attachment.
bool inline_safe(std::string_view mime);

}  // namespace chat::media

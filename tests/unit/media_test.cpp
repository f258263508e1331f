// media/: sniffing, image probes and thumbnails, durations, the blob store, the
// media pool and signed URLs -- on real files in a fresh temp dir, no mocks.
//
// Why images are bytes in this file: the test does not link libvips (chat_media
// links it privately), so a tiny JPEG, GIF and WebP made once with ImageMagick
// are embedded below, and PNGs of any size are made here with a minimal encoder
// (stored deflate blocks need no zlib).
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "media/av_probe.hpp"
#include "media/blob_store.hpp"
#include "media/image.hpp"
#include "media/media_pool.hpp"
#include "media/sniff.hpp"
#include "media/url_signer.hpp"

namespace chat::media {
namespace {

namespace fs = std::filesystem;
using Bytes = std::string;

// `convert -size 100x60 xc:'#3366cc' -strip -quality 50 x.jpg` (JFIF, no EXIF).
const unsigned char kJpeg100x60[] = {
    0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01,
    0x00, 0x01, 0x00, 0x00, 0xff, 0xdb, 0x00, 0x43, 0x00, 0x10, 0x0b, 0x0c, 0x0e, 0x0c, 0x0a, 0x10,
    0x0e, 0x0d, 0x0e, 0x12, 0x11, 0x10, 0x13, 0x18, 0x28, 0x1a, 0x18, 0x16, 0x16, 0x18, 0x31, 0x23,
    0x25, 0x1d, 0x28, 0x3a, 0x33, 0x3d, 0x3c, 0x39, 0x33, 0x38, 0x37, 0x40, 0x48, 0x5c, 0x4e, 0x40,
    0x44, 0x57, 0x45, 0x37, 0x38, 0x50, 0x6d, 0x51, 0x57, 0x5f, 0x62, 0x67, 0x68, 0x67, 0x3e, 0x4d,
    0x71, 0x79, 0x70, 0x64, 0x78, 0x5c, 0x65, 0x67, 0x63, 0xff, 0xdb, 0x00, 0x43, 0x01, 0x11, 0x12,
    0x12, 0x18, 0x15, 0x18, 0x2f, 0x1a, 0x1a, 0x2f, 0x63, 0x42, 0x38, 0x42, 0x63, 0x63, 0x63, 0x63,
    0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63,
    0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63,
    0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0xff, 0xc0,
    0x00, 0x11, 0x08, 0x00, 0x3c, 0x00, 0x64, 0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11,
    0x01, 0xff, 0xc4, 0x00, 0x15, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0xff, 0xc4, 0x00, 0x14, 0x10, 0x01, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xc4,
    0x00, 0x15, 0x01, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x05, 0xff, 0xc4, 0x00, 0x14, 0x11, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xda, 0x00, 0x0c, 0x03,
    0x01, 0x00, 0x02, 0x11, 0x03, 0x11, 0x00, 0x3f, 0x00, 0x80, 0x05, 0xc4, 0xf0, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x7f, 0xff, 0xd9,
};
// `convert -size 40x20 xc:'#cc3366' -strip x.gif`.
const unsigned char kGif40x20[] = {
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x28, 0x00, 0x14, 0x00, 0xf0, 0x00, 0x00, 0xcc,
    0x33, 0x66, 0x00, 0x00, 0x00, 0x21, 0xf9, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2c,
    0x00, 0x00, 0x00, 0x00, 0x28, 0x00, 0x14, 0x00, 0x00, 0x02, 0x1a, 0x84, 0x8f, 0xa9,
    0xcb, 0xed, 0x0f, 0xa3, 0x9c, 0xb4, 0xda, 0x8b, 0xb3, 0xde, 0xbc, 0xfb, 0x0f, 0x86,
    0xe2, 0x48, 0x96, 0xe6, 0x89, 0xa6, 0xea, 0x8a, 0x15, 0x00, 0x3b,
};
// `convert -size 40x20 xc:'#33cc66' -strip -quality 50 x.webp` (lossy VP8).
const unsigned char kWebp40x20[] = {
    0x52, 0x49, 0x46, 0x46, 0x46, 0x00, 0x00, 0x00, 0x57, 0x45, 0x42, 0x50, 0x56, 0x50, 0x38, 0x20,
    0x3a, 0x00, 0x00, 0x00, 0x30, 0x03, 0x00, 0x9d, 0x01, 0x2a, 0x28, 0x00, 0x14, 0x00, 0x3e, 0xd1,
    0x66, 0xac, 0x51, 0x28, 0x25, 0xa4, 0x22, 0xa5, 0x68, 0x01, 0x00, 0x1a, 0x09, 0x67, 0x00, 0xd0,
    0x18, 0x0f, 0x0a, 0x9d, 0x0e, 0x00, 0x00, 0xfe, 0xc8, 0xbf, 0xf9, 0x66, 0x70, 0xaf, 0x65, 0xff,
    0xfc, 0x07, 0xf6, 0x07, 0xfd, 0x81, 0xdc, 0x25, 0xcf, 0x4f, 0x13, 0xb6, 0x00, 0x00,
};

Bytes bytes_of(const unsigned char* p, std::size_t n) {
  return Bytes(reinterpret_cast<const char*>(p), n);
}
Bytes jpeg_100x60() {
  return bytes_of(kJpeg100x60, sizeof kJpeg100x60);
}
Bytes gif_40x20() {
  return bytes_of(kGif40x20, sizeof kGif40x20);
}
Bytes webp_40x20() {
  return bytes_of(kWebp40x20, sizeof kWebp40x20);
}

// The JPEG above with an EXIF APP1 segment (after JFIF's APP0) that carries a
// GPS-free, minimal TIFF IFD: Orientation = 6 ("rotate 90° clockwise to show").
Bytes jpeg_with_exif_orientation_6() {
  Bytes jpeg = jpeg_100x60();
  const Bytes tiff = Bytes("II*\0\x08\0\0\0", 8) +  // little-endian TIFF, IFD at 8
                     Bytes("\x01\0", 2) +           // one entry
                     Bytes("\x12\x01\x03\0\x01\0\0\0\x06\0\0\0", 12) +  // 0x0112 SHORT 1 = 6
                     Bytes("\0\0\0\0", 4);                              // no next IFD
  const std::size_t len = 2 + 6 + tiff.size();
  Bytes app1 = Bytes("\xff\xe1", 2);
  app1 += static_cast<char>(len >> 8);
  app1 += static_cast<char>(len & 0xff);
  app1 += Bytes("Exif\0\0", 6) + tiff;
  const std::size_t after_app0 =
      4 + ((static_cast<unsigned char>(jpeg[4]) << 8) | static_cast<unsigned char>(jpeg[5]));
  jpeg.insert(after_app0, app1);
  return jpeg;
}

// --- A minimal PNG encoder (stored deflate, so no zlib) ------------------------

std::uint32_t crc32(const Bytes& data) {
  std::uint32_t table[256];
  for (std::uint32_t n = 0; n < 256; ++n) {
    std::uint32_t c = n;
    for (int k = 0; k < 8; ++k)
      c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
    table[n] = c;
  }
  std::uint32_t c = 0xffffffffu;
  for (unsigned char b : data)
    c = table[(c ^ b) & 0xff] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

void put_be32(Bytes& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out += static_cast<char>((v >> shift) & 0xff);
}

Bytes png_chunk(const char* type, const Bytes& data) {
  Bytes out;
  put_be32(out, static_cast<std::uint32_t>(data.size()));
  const Bytes body = Bytes(type, 4) + data;
  out += body;
  put_be32(out, crc32(body));
  return out;
}

Bytes png_ihdr(std::uint32_t w, std::uint32_t h, int color_type) {
  Bytes d;
  put_be32(d, w);
  put_be32(d, h);
  d += static_cast<char>(8);           // bit depth
  d += static_cast<char>(color_type);  // 2 = RGB, 6 = RGBA
  d += Bytes("\0\0\0", 3);             // deflate, adaptive filter, no interlace
  return png_chunk("IHDR", d);
}

const Bytes kPngSignature("\x89PNG\r\n\x1a\n", 8);

// A w x h PNG; RGBA with a transparent left half when `alpha`, else opaque RGB.
Bytes make_png(std::uint32_t w, std::uint32_t h, bool alpha) {
  const int channels = alpha ? 4 : 3;
  Bytes raw;
  for (std::uint32_t y = 0; y < h; ++y) {
    raw += '\0';  // filter: none
    for (std::uint32_t x = 0; x < w; ++x) {
      raw += static_cast<char>(x * 255 / w);
      raw += static_cast<char>(y * 255 / h);
      raw += static_cast<char>(0x80);
      if (alpha) raw += static_cast<char>(x < w / 2 ? 0 : 255);
    }
  }
  (void)channels;
  Bytes z("\x78\x01", 2);
  for (std::size_t pos = 0; pos < raw.size() || pos == 0;) {
    const std::size_t n = std::min<std::size_t>(65535, raw.size() - pos);
    const bool last = pos + n == raw.size();
    z += static_cast<char>(last ? 1 : 0);
    z += static_cast<char>(n & 0xff);
    z += static_cast<char>(n >> 8);
    z += static_cast<char>(~n & 0xff);
    z += static_cast<char>((~n >> 8) & 0xff);
    z.append(raw, pos, n);
    pos += n;
    if (last) break;
  }
  std::uint32_t a = 1, b = 0;
  for (unsigned char c : raw) {
    a = (a + c) % 65521;
    b = (b + a) % 65521;
  }
  put_be32(z, (b << 16) | a);
  return kPngSignature + png_ihdr(w, h, alpha ? 6 : 2) + png_chunk("IDAT", z) +
         png_chunk("IEND", "");
}

// A decompression bomb: the header claims 50,000 x 50,000 RGB (7.5 GB of
// pixels); the data is garbage that must never be reached.
Bytes png_bomb() {
  return kPngSignature + png_ihdr(50000, 50000, 2) + png_chunk("IDAT", Bytes(64, '\x5a')) +
         png_chunk("IEND", "");
}

// 1 s of 8 kHz, 8-bit mono silence.
Bytes wav_one_second() {
  const std::uint32_t rate = 8000, samples = 8000;
  auto le32 = [](std::uint32_t v) {
    Bytes s;
    for (int i = 0; i < 4; ++i)
      s += static_cast<char>((v >> (8 * i)) & 0xff);
    return s;
  };
  auto le16 = [](std::uint16_t v) {
    return Bytes{static_cast<char>(v & 0xff), static_cast<char>(v >> 8)};
  };
  Bytes w = "RIFF" + le32(36 + samples) + "WAVE" + "fmt " + le32(16) + le16(1) /*PCM*/ +
            le16(1) /*mono*/ + le32(rate) + le32(rate) /*bytes/s*/ + le16(1) /*align*/ +
            le16(8) /*bits*/ + "data" + le32(samples);
  w += Bytes(samples, '\x80');
  return w;
}

const Bytes kPdf =
    "%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    "2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
const Bytes kSvg =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\">"
    "<script>alert(1)</script><rect width=\"10\" height=\"10\"/></svg>\n";
const Bytes kHtml =
    "<!DOCTYPE html>\n<html><head><title>x</title></head><body><p>hi</p></body></html>\n";
const Bytes kText = "just some words,\nnothing more.\n";

// --- Files --------------------------------------------------------------------

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/media_test.XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  std::string file(const std::string& name, const Bytes& data) const {
    const fs::path p = path_ / name;
    std::ofstream(p, std::ios::binary) << data;
    return p.string();
  }

 private:
  fs::path path_;
};

Bytes read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

std::size_t count_files(const fs::path& dir) {
  std::size_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) ++n;
  }
  return n;
}

// Uploads `data` (in two writes) and commits it; the pin is released unless `keep_pin`.
std::string put_blob(BlobStore& store, const Bytes& data, bool keep_pin = false) {
  auto sink = store.begin_upload();
  EXPECT_TRUE(sink.ok());
  const std::size_t half = data.size() / 2;
  EXPECT_TRUE((*sink)->write(data.data(), half).ok());
  EXPECT_TRUE((*sink)->write(data.data() + half, data.size() - half).ok());
  EXPECT_EQ((*sink)->size(), data.size());
  auto sha = (*sink)->finish();
  EXPECT_TRUE(sha.ok());
  auto path = store.commit(**sink, *sha);
  EXPECT_TRUE(path.ok());
  if (!keep_pin) store.unpin(*sha);
  return *sha;
}

Result<Inspection> inspect_sync(MediaPool& pool, const std::string& sha,
                                const std::string& claimed) {
  std::promise<Result<Inspection>> p;
  auto f = p.get_future();
  pool.inspect(sha, claimed, [&p](Result<Inspection> r) { p.set_value(std::move(r)); });
  if (f.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
    throw std::runtime_error("inspect timed out");
  }
  return f.get();
}

// --- Sniffing -------------------------------------------------------------------

TEST(Sniff, RecognisesTheBytesNotTheName) {
  struct Case {
    Bytes data;
    const char* mime;
    MediaClass cls;
  };
  const Case cases[] = {
      {make_png(4, 3, false), "image/png", MediaClass::image},
      {jpeg_100x60(), "image/jpeg", MediaClass::image},
      {gif_40x20(), "image/gif", MediaClass::image},
      {webp_40x20(), "image/webp", MediaClass::image},
      {kPdf, "application/pdf", MediaClass::document},
      {kSvg, "image/svg+xml", MediaClass::document},
      {kHtml, "text/html", MediaClass::document},
      {kText, "text/plain", MediaClass::document},
  };
  for (const auto& c : cases) {
    const std::string mime = sniff_mime(c.data.data(), c.data.size());
    EXPECT_EQ(mime, c.mime);
    EXPECT_EQ(classify(mime), c.cls) << mime;
  }
}

TEST(Sniff, FileHeadAndUnknown) {
  TempDir dir;
  EXPECT_EQ(sniff_file_mime(dir.file("a.txt", jpeg_100x60())), "image/jpeg");
  EXPECT_EQ(sniff_file_mime(dir.file("w", wav_one_second())).substr(0, 6), "audio/");
  EXPECT_EQ(sniff_file_mime((dir.path() / "missing").string()), "application/octet-stream");
  const Bytes noise("\x01\x02\x03\xfe\xff\x00\x10\x99", 8);
  EXPECT_EQ(classify(sniff_mime(noise.data(), noise.size())), MediaClass::document);
  // A file bigger than the 64 KiB head still sniffs by its start.
  EXPECT_EQ(sniff_file_mime(dir.file("big", make_png(300, 200, false))), "image/png");
}

TEST(Sniff, ClassesAndInlineSafety) {
  EXPECT_EQ(classify("audio/mpeg"), MediaClass::audio);
  EXPECT_EQ(classify("audio/x-wav"), MediaClass::audio);
  EXPECT_EQ(classify("video/mp4"), MediaClass::video);
  EXPECT_EQ(classify("video/webm"), MediaClass::video);
  EXPECT_EQ(classify("image/svg+xml"), MediaClass::document);
  EXPECT_EQ(classify("image/tiff"), MediaClass::document);
  EXPECT_EQ(classify("application/octet-stream"), MediaClass::document);
  for (const char* m :
       {"image/jpeg", "image/png", "image/gif", "image/webp", "audio/ogg", "video/mp4"}) {
    EXPECT_TRUE(inline_safe(m)) << m;
  }
  for (const char* m : {"image/svg+xml", "text/html", "text/plain", "application/pdf",
                        "application/octet-stream", "image/bmp", ""}) {
    EXPECT_FALSE(inline_safe(m)) << m;
  }
}

// --- Images ---------------------------------------------------------------------

class Image : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { init_image_library(); }
  TempDir dir;
};

TEST_F(Image, ProbesDimensionsFromTheHeader) {
  auto png = probe_image(dir.file("p", make_png(123, 45, true)), 100'000'000);
  ASSERT_TRUE(png.ok());
  EXPECT_EQ(png->width, 123u);
  EXPECT_EQ(png->height, 45u);
  auto jpeg = probe_image(dir.file("j", jpeg_100x60()), 100'000'000);
  ASSERT_TRUE(jpeg.ok());
  EXPECT_EQ(jpeg->width, 100u);
  EXPECT_EQ(jpeg->height, 60u);
  auto gif = probe_image(dir.file("g", gif_40x20()), 100'000'000);
  ASSERT_TRUE(gif.ok());
  EXPECT_EQ(gif->width, 40u);
  EXPECT_EQ(gif->height, 20u);
  auto webp = probe_image(dir.file("w", webp_40x20()), 100'000'000);
  ASSERT_TRUE(webp.ok());
  EXPECT_EQ(webp->width, 40u);
  EXPECT_EQ(webp->height, 20u);
}

TEST_F(Image, ReportsTheUprightSizeOfARotatedPhoto) {
  auto info = probe_image(dir.file("j", jpeg_with_exif_orientation_6()), 100'000'000);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->width, 60u);
  EXPECT_EQ(info->height, 100u);
}

TEST_F(Image, RefusesABombBeforeDecoding) {
  auto r = probe_image(dir.file("bomb", png_bomb()), 100'000'000);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::too_large);
  EXPECT_NE(r.error().message.find("100000000"), std::string::npos);
  // The limit is the caller's: a small image over a small limit is refused too.
  auto small = probe_image(dir.file("p", make_png(20, 20, false)), 399);
  ASSERT_FALSE(small.ok());
  EXPECT_EQ(small.error().code, ErrorCode::too_large);
  EXPECT_TRUE(probe_image(dir.file("p2", make_png(20, 20, false)), 400).ok());
}

TEST_F(Image, RefusesWhatIsNoImage) {
  for (const Bytes& data : {kPdf, kSvg, kText, Bytes()}) {
    auto r = probe_image(dir.file("x", data), 100'000'000);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::unsupported);
  }
  auto t = make_thumbnail(dir.file("x", kPdf), (dir.path() / "t").string(), 320);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().code, ErrorCode::unsupported);
  EXPECT_FALSE(fs::exists(dir.path() / "t"));
}

TEST_F(Image, ThumbnailFitsTheBoxAndKeepsTheAspect) {
  const std::string out = (dir.path() / "th" / "ab" / "thumb").string();  // parent made
  auto t = make_thumbnail(dir.file("p", make_png(640, 400, false)), out, 320);
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->mime, "image/jpeg");
  EXPECT_EQ(t->size, fs::file_size(out));
  EXPECT_EQ(sniff_file_mime(out), "image/jpeg");
  auto info = probe_image(out, 100'000'000);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->width, 320u);
  EXPECT_EQ(info->height, 200u);
  EXPECT_EQ(count_files(dir.path() / "th"), 1u);  // no temp file left

  // A tall one: the long side is the height.
  auto tall = make_thumbnail(dir.file("q", make_png(100, 1000, false)), out, 320);
  ASSERT_TRUE(tall.ok());
  info = probe_image(out, 100'000'000);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->width, 32u);
  EXPECT_EQ(info->height, 320u);
}

TEST_F(Image, SmallImagesAreNotEnlarged) {
  const std::string out = (dir.path() / "t").string();
  ASSERT_TRUE(make_thumbnail(dir.file("g", gif_40x20()), out, 320).ok());
  auto info = probe_image(out, 100'000'000);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->width, 40u);
  EXPECT_EQ(info->height, 20u);
}

TEST_F(Image, ThumbnailIsUprightAndCarriesNoExif) {
  const Bytes src = jpeg_with_exif_orientation_6();
  ASSERT_NE(src.find("Exif"), std::string::npos);
  const std::string out = (dir.path() / "t").string();
  auto t = make_thumbnail(dir.file("j", src), out, 320);
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->mime, "image/jpeg");
  const Bytes thumb = read_file(out);
  EXPECT_EQ(thumb.find("Exif"), std::string::npos);
  auto info = probe_image(out, 100'000'000);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->width, 60u);  // turned upright, so the orientation tag is not needed
  EXPECT_EQ(info->height, 100u);
}

TEST_F(Image, TransparencyMakesAPngThumbnail) {
  const std::string out = (dir.path() / "t").string();
  auto t = make_thumbnail(dir.file("p", make_png(400, 200, true)), out, 320);
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->mime, "image/png");
  EXPECT_EQ(sniff_file_mime(out), "image/png");
  auto info = probe_image(out, 100'000'000);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->width, 320u);
  EXPECT_EQ(info->height, 160u);
  // An alpha band that is opaque everywhere (every GIF decodes with one) is dropped.
  auto gif = make_thumbnail(dir.file("g", gif_40x20()), out, 320);
  ASSERT_TRUE(gif.ok());
  EXPECT_EQ(gif->mime, "image/jpeg");
  auto webp = make_thumbnail(dir.file("w", webp_40x20()), out, 320);
  ASSERT_TRUE(webp.ok());
  EXPECT_EQ(webp->mime, "image/jpeg");
}

// --- Durations ------------------------------------------------------------------

TEST(AvProbe, ReadsTheDurationOfAWav) {
  TempDir dir;
  auto ms = probe_duration_ms(dir.file("w", wav_one_second()));
  ASSERT_TRUE(ms.has_value());
  EXPECT_NEAR(static_cast<double>(*ms), 1000.0, 20.0);
}

TEST(AvProbe, NothingForNonMedia) {
  TempDir dir;
  EXPECT_FALSE(probe_duration_ms(dir.file("t", kText)).has_value());
  EXPECT_FALSE(probe_duration_ms(dir.file("e", "")).has_value());
  EXPECT_FALSE(probe_duration_ms((dir.path() / "missing").string()).has_value());
}

// --- Blob store -----------------------------------------------------------------

TEST(BlobStore, StoresTheSameBytesOnce) {
  TempDir dir;
  BlobStore store(dir.path());
  const std::string sha = put_blob(store, "abc");
  EXPECT_EQ(sha, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(put_blob(store, "abc"), sha);
  EXPECT_EQ(store.count_blobs(), 1u);
  EXPECT_TRUE(store.exists(sha));
  EXPECT_EQ(store.blob_path(sha), dir.path() / "blobs" / "ba" / sha);
  EXPECT_EQ(store.thumb_path(sha), dir.path() / "thumbs" / "ba" / sha);
  EXPECT_EQ(read_file(store.blob_path(sha)), "abc");
  EXPECT_EQ(count_files(dir.path() / "tmp"), 0u);

  const std::string empty = put_blob(store, "");
  EXPECT_EQ(empty, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(store.count_blobs(), 2u);
}

TEST(BlobStore, AnAbandonedUploadLeavesNothing) {
  TempDir dir;
  BlobStore store(dir.path());
  {
    auto sink = store.begin_upload();
    ASSERT_TRUE(sink.ok());
    ASSERT_TRUE((*sink)->write("partial", 7).ok());
    EXPECT_TRUE(fs::exists((*sink)->temp_path()));
    EXPECT_EQ((*sink)->temp_path().parent_path(), dir.path() / "tmp");
  }
  EXPECT_EQ(count_files(dir.path() / "tmp"), 0u);
  EXPECT_EQ(store.count_blobs(), 0u);
  // commit() needs a finished upload.
  auto sink = store.begin_upload();
  ASSERT_TRUE(sink.ok());
  EXPECT_FALSE(store.commit(**sink, std::string(64, 'a')).ok());
  auto sha = (*sink)->finish();
  ASSERT_TRUE(sha.ok());
  EXPECT_FALSE((*sink)->finish().ok());
  EXPECT_FALSE(store.commit(**sink, "../../etc").ok());
}

TEST(BlobStore, RemovesStaleTempFilesAtStart) {
  TempDir dir;
  fs::create_directories(dir.path() / "tmp");
  std::ofstream(dir.path() / "tmp" / "leftover") << "half an upload";
  BlobStore store(dir.path());
  EXPECT_FALSE(fs::exists(dir.path() / "tmp" / "leftover"));
  EXPECT_TRUE(fs::is_directory(dir.path() / "blobs"));
  EXPECT_TRUE(fs::is_directory(dir.path() / "thumbs"));
}

TEST(BlobStore, RemovalRespectsPinsAndReferences) {
  TempDir dir;
  BlobStore store(dir.path());
  const std::string sha = put_blob(store, "pinned bytes", /*keep_pin=*/true);
  fs::create_directories(store.thumb_path(sha).parent_path());
  std::ofstream(store.thumb_path(sha)) << "thumb";
  int asked = 0;
  auto unreferenced = [&](const std::string& s) {
    EXPECT_EQ(s, sha);
    ++asked;
    return false;
  };
  EXPECT_FALSE(store.remove_if_unreferenced(sha, unreferenced));  // pinned
  EXPECT_EQ(asked, 0);
  // A second upload of the same bytes pins it again; one unpin is not enough.
  EXPECT_EQ(put_blob(store, "pinned bytes", /*keep_pin=*/true), sha);
  store.unpin(sha);
  EXPECT_FALSE(store.remove_if_unreferenced(sha, unreferenced));
  store.unpin(sha);
  EXPECT_FALSE(store.remove_if_unreferenced(sha, [](const std::string&) { return true; }));
  EXPECT_TRUE(store.exists(sha));
  EXPECT_TRUE(store.remove_if_unreferenced(sha, unreferenced));
  EXPECT_EQ(asked, 1);
  EXPECT_FALSE(store.exists(sha));
  EXPECT_FALSE(fs::exists(store.thumb_path(sha)));
  EXPECT_EQ(store.count_blobs(), 0u);
  EXPECT_FALSE(store.remove_if_unreferenced(sha, unreferenced));  // already gone
}

// --- The media pool -------------------------------------------------------------

class Pool : public ::testing::Test {
 protected:
  TempDir dir;
  BlobStore blobs{dir.path()};
  MediaPool pool{blobs, MediaLimits{}, 2};
};

TEST_F(Pool, AClaimedImageThatIsNoImageIsUnsupported) {
  const std::string sha = put_blob(blobs, kPdf);
  auto r = inspect_sync(pool, sha, "image/png");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::unsupported);
  auto text = inspect_sync(pool, put_blob(blobs, kText), "image/jpeg");
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.error().code, ErrorCode::unsupported);
  // An SVG is an image, but one we keep as a document: no size, no thumbnail.
  auto svg = inspect_sync(pool, put_blob(blobs, kSvg), "image/svg+xml");
  ASSERT_TRUE(svg.ok());
  EXPECT_EQ(svg->mime, "image/svg+xml");
  EXPECT_EQ(classify(svg->mime), MediaClass::document);
  EXPECT_FALSE(svg->thumbnail);
  EXPECT_FALSE(svg->width.has_value());
  // The same PDF claimed as what it is is a document.
  auto doc = inspect_sync(pool, sha, "application/pdf");
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(doc->mime, "application/pdf");
  EXPECT_FALSE(doc->thumbnail);
  EXPECT_FALSE(doc->width.has_value());
  EXPECT_FALSE(doc->duration_ms.has_value());
}

TEST_F(Pool, AnImageOfAnotherTypeKeepsItsRealType) {
  const std::string sha = put_blob(blobs, jpeg_100x60());
  auto r = inspect_sync(pool, sha, "image/png");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->mime, "image/jpeg");
  EXPECT_EQ(r->width, 100u);
  EXPECT_EQ(r->height, 60u);
  EXPECT_TRUE(r->thumbnail);
  EXPECT_EQ(r->thumbnail_mime, "image/jpeg");
  EXPECT_TRUE(fs::exists(blobs.thumb_path(sha)));
  EXPECT_EQ(pool.thumbnails_made(), 1u);
  // The second time the thumbnail is already there.
  auto again = inspect_sync(pool, sha, "image/jpeg");
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->thumbnail);
  EXPECT_EQ(again->thumbnail_mime, "image/jpeg");
  EXPECT_EQ(pool.thumbnails_made(), 1u);
}

TEST_F(Pool, TransparentImageGetsAPngThumbnail) {
  auto r = inspect_sync(pool, put_blob(blobs, make_png(64, 64, true)), "image/png");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->mime, "image/png");
  EXPECT_EQ(r->thumbnail_mime, "image/png");
  const std::string sha = put_blob(blobs, make_png(64, 64, true));
  auto again = inspect_sync(pool, sha, "image/png");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->thumbnail_mime, "image/png");  // sniffed from the existing thumbnail
}

TEST_F(Pool, BombsAndBrokenImagesAreRefused) {
  auto bomb = inspect_sync(pool, put_blob(blobs, png_bomb()), "image/png");
  ASSERT_FALSE(bomb.ok());
  EXPECT_EQ(bomb.error().code, ErrorCode::too_large);
  // A JPEG cut off in its scan data: the header reads, the pixels do not.
  const Bytes jpeg = jpeg_100x60();
  auto cut = inspect_sync(pool, put_blob(blobs, jpeg.substr(0, jpeg.size() - 40)), "image/jpeg");
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.error().code, ErrorCode::unsupported);
  EXPECT_EQ(pool.thumbnails_made(), 0u);
}

TEST_F(Pool, ManyImagesAtOnce) {
  std::vector<std::future<Result<Inspection>>> results;
  std::vector<std::unique_ptr<std::promise<Result<Inspection>>>> promises;
  for (std::uint32_t i = 0; i < 8; ++i) {
    promises.push_back(std::make_unique<std::promise<Result<Inspection>>>());
    results.push_back(promises.back()->get_future());
    pool.inspect(put_blob(blobs, make_png(200 + i, 100, i % 2 == 0)), "image/png",
                 [p = promises.back().get()](Result<Inspection> r) { p->set_value(std::move(r)); });
  }
  for (std::uint32_t i = 0; i < 8; ++i) {
    auto r = results[i].get();
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->width, 200 + i);
    EXPECT_EQ(r->thumbnail_mime, i % 2 == 0 ? "image/png" : "image/jpeg");
  }
  EXPECT_EQ(pool.thumbnails_made(), 8u);
}

TEST_F(Pool, AudioGetsADuration) {
  auto r = inspect_sync(pool, put_blob(blobs, wav_one_second()), "audio/wav");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(classify(r->mime), MediaClass::audio) << r->mime;
  ASSERT_TRUE(r->duration_ms.has_value());
  EXPECT_NEAR(static_cast<double>(*r->duration_ms), 1000.0, 20.0);
  EXPECT_FALSE(r->thumbnail);
}

TEST_F(Pool, AMissingBlobIsAnInternalError) {
  auto r = inspect_sync(pool, std::string(64, 'f'), "image/png");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::internal);
}

TEST_F(Pool, AThrowingJobDoesNotKillAThread) {
  for (int i = 0; i < 4; ++i)
    pool.post([] { throw std::runtime_error("boom"); });
  pool.inspect(put_blob(blobs, kText), "text/plain",
               [](Result<Inspection>) { throw std::runtime_error("callback boom"); });
  auto r = inspect_sync(pool, put_blob(blobs, kText), "text/plain");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->mime, "text/plain");
}

TEST(MediaPool, DestructorFinishesQueuedJobs) {
  TempDir dir;
  BlobStore blobs(dir.path());
  std::atomic<int> ran{0};
  {
    MediaPool pool(blobs, MediaLimits{}, 1);
    for (int i = 0; i < 20; ++i)
      pool.post([&ran] { ++ran; });
  }
  EXPECT_EQ(ran.load(), 20);
}

// --- Signed URLs ----------------------------------------------------------------

TEST(UrlSigner, SignsAndVerifies) {
  const UrlSigner signer(std::string(32, 'k'));
  const std::string sig = signer.sign("m0123456789abcdef", Variant::original, 1700000000000);
  EXPECT_EQ(sig.size(), 64u);
  for (char c : sig)
    EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
  EXPECT_TRUE(signer.verify("m0123456789abcdef", Variant::original, 1700000000000, sig));
  EXPECT_EQ(sig, signer.sign("m0123456789abcdef", Variant::original, 1700000000000));

  EXPECT_FALSE(signer.verify("m0123456789abcdee", Variant::original, 1700000000000, sig));
  EXPECT_FALSE(signer.verify("m0123456789abcdef", Variant::thumbnail, 1700000000000, sig));
  EXPECT_FALSE(signer.verify("m0123456789abcdef", Variant::original, 1700000000001, sig));
  std::string altered = sig;
  altered[10] = altered[10] == 'a' ? 'b' : 'a';
  EXPECT_FALSE(signer.verify("m0123456789abcdef", Variant::original, 1700000000000, altered));
  EXPECT_FALSE(
      signer.verify("m0123456789abcdef", Variant::original, 1700000000000, sig.substr(0, 63)));
  EXPECT_FALSE(signer.verify("m0123456789abcdef", Variant::original, 1700000000000, sig + "0"));
  EXPECT_FALSE(signer.verify("m0123456789abcdef", Variant::original, 1700000000000, ""));
  std::string non_hex = sig;
  non_hex[0] = 'g';
  EXPECT_FALSE(signer.verify("m0123456789abcdef", Variant::original, 1700000000000, non_hex));
  const UrlSigner other(std::string(32, 'K'));
  EXPECT_FALSE(other.verify("m0123456789abcdef", Variant::original, 1700000000000, sig));
}

TEST(UrlSigner, MatchesAKnownHmac) {
  // HMAC-SHA256("key", "m1\noriginal\n5"), as computed by
  // `printf 'm1\noriginal\n5' | openssl dgst -sha256 -hmac key`.
  const UrlSigner signer("key");
  EXPECT_EQ(signer.sign("m1", Variant::original, 5),
            "de754cebc5ccb4ad1e5ed09cf1e64ed622029b47a583d9a5f2d1d99648e564d7");
}

TEST(UrlSigner, TheSecretPersistsWithMode0600) {
  TempDir dir;
  const fs::path key = dir.path() / "media_url.key";
  const UrlSigner a = UrlSigner::load_or_create(key);
  struct stat st;
  ASSERT_EQ(::stat(key.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_size, 32);
  const UrlSigner b = UrlSigner::load_or_create(key);
  const std::string sig = a.sign("m1", Variant::thumbnail, 42);
  EXPECT_TRUE(b.verify("m1", Variant::thumbnail, 42, sig));
  // A different data dir has a different secret.
  TempDir other;
  EXPECT_FALSE(
      UrlSigner::load_or_create(other.path() / "k").verify("m1", Variant::thumbnail, 42, sig));
}

TEST(UrlSigner, AShortSecretFileIsAnError) {
  TempDir dir;
  const std::string key = dir.file("short.key", "only 10 b.");
  EXPECT_THROW(UrlSigner::load_or_create(key), std::runtime_error);
  EXPECT_THROW(UrlSigner::load_or_create(dir.path() / "no" / "such" / "dir" / "k"),
               std::runtime_error);
}

}  // namespace
}  // namespace chat::media

// Image headers and thumbnails with libvips (C API).
//
// Why these choices: uploads are hostile input. Only the four loaders we claim
// to support (JPEG, PNG, GIF, WebP) may open a file, whatever else libvips was
// built with, and untrusted loaders are blocked process-wide. The pixel count
// is checked from the header before anything is decoded, and the thumbnail is
// made by `vips_thumbnail`, which shrinks on load and turns the image upright
// per its EXIF orientation. The small result is copied to memory once, so the
// source is read a single time (sequential access) even though we look at its
// alpha before saving it. Caches are off and vips uses one thread per call:
// the media pool is where the parallelism lives. vips error messages name file
// paths, so they are cleared, never passed on to the client.
#include "media/image.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vips/vips.h>

#include <cctype>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <utility>

#include "base/random.hpp"

namespace chat::media {

namespace {

// Owns one reference to a VipsImage.
class ImageRef {
 public:
  ImageRef() = default;
  explicit ImageRef(VipsImage* p) : p_(p) {}
  ~ImageRef() { reset(); }
  ImageRef(const ImageRef&) = delete;
  ImageRef& operator=(const ImageRef&) = delete;
  void reset(VipsImage* p = nullptr) {
    if (p_ != nullptr) g_object_unref(p_);
    p_ = p;
  }
  VipsImage* get() const { return p_; }
  VipsImage* release() { return std::exchange(p_, nullptr); }
  VipsImage** out() {
    reset();
    return &p_;
  }

 private:
  VipsImage* p_ = nullptr;
};

// Whether libvips would open `path` with one of the loaders we allow.
bool allowed_loader(const std::string& path) {
  const char* name = vips_foreign_find_load(path.c_str());
  if (name == nullptr) {
    vips_error_clear();
    return false;
  }
  std::string n(name);
  for (char& c : n)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!n.starts_with("vipsforeignload")) return false;
  for (const char* ok : {"png", "jpeg", "gif", "webp"}) {
    if (n.find(ok) != std::string::npos) return true;
  }
  return false;
}

bool fsync_path(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

void init_image_library() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (VIPS_INIT("chatd") != 0) {
      vips_error_clear();
      throw std::runtime_error("libvips failed to initialise");
    }
    vips_cache_set_max(0);
    vips_concurrency_set(1);
    vips_block_untrusted_set(TRUE);
    // A broken upload is the client's problem, not noise in our log (its
    // failure is reported through the error vips_* calls return).
    g_log_set_handler(
        "VIPS",
        static_cast<GLogLevelFlags>(G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO |
                                    G_LOG_LEVEL_DEBUG),
        [](const gchar*, GLogLevelFlags, const gchar*, gpointer) {}, nullptr);
  });
}

Result<ImageInfo> probe_image(const std::string& path, std::uint64_t max_pixels) {
  init_image_library();
  if (!allowed_loader(path)) return unsupported("not a supported image");
  // Opening reads the header only; pixels are decoded on demand, never here.
  ImageRef img(vips_image_new_from_file(path.c_str(), "access", VIPS_ACCESS_SEQUENTIAL, NULL));
  if (img.get() == nullptr) {
    vips_error_clear();
    return unsupported("not a decodable image");
  }
  const std::uint64_t w = static_cast<std::uint64_t>(vips_image_get_width(img.get()));
  const std::uint64_t h = static_cast<std::uint64_t>(vips_image_get_height(img.get()));
  const int pages = vips_image_get_n_pages(img.get());  // frames of a GIF/WebP; 1 otherwise
  if (w == 0 || h == 0) return unsupported("image has no pixels");
  const std::uint64_t area = w * h;  // each side is below 2^31: no overflow
  const std::uint64_t frames = pages > 1 ? static_cast<std::uint64_t>(pages) : 1;
  if (area > max_pixels || frames > max_pixels / area) {
    return too_large("image larger than " + std::to_string(max_pixels) + " pixels");
  }
  ImageInfo info{static_cast<std::uint32_t>(w), static_cast<std::uint32_t>(h)};
  // Report the size the image is shown at: EXIF orientations 5-8 turn it by 90°.
  if (vips_image_get_orientation_swap(img.get())) std::swap(info.width, info.height);
  return info;
}

Result<Thumbnail> make_thumbnail(const std::string& path, const std::string& out_path,
                                 int max_side) {
  init_image_library();
  if (max_side < 1) return internal_error("thumbnail: bad size");
  if (!allowed_loader(path)) return unsupported("not a supported image");

  ImageRef lazy;
  if (vips_thumbnail(path.c_str(), lazy.out(), max_side, "height", max_side, "size", VIPS_SIZE_DOWN,
                     "fail_on", VIPS_FAIL_ON_ERROR, NULL) != 0) {
    vips_error_clear();
    return unsupported("image cannot be decoded");
  }
  // Small now (at most max_side^2 pixels): decode it once, into memory.
  ImageRef thumb(vips_image_copy_memory(lazy.get()));
  lazy.reset();
  if (thumb.get() == nullptr) {
    vips_error_clear();
    return unsupported("image cannot be decoded");
  }

  // GIFs always decode with an alpha band; an alpha that is opaque everywhere
  // is dropped so the thumbnail can be a (much smaller) JPEG.
  bool alpha = vips_image_hasalpha(thumb.get());
  if (alpha) {
    const int bands = vips_image_get_bands(thumb.get());
    ImageRef alpha_band;
    double min = 0;
    if (vips_extract_band(thumb.get(), alpha_band.out(), bands - 1, NULL) == 0 &&
        vips_min(alpha_band.get(), &min, NULL) == 0 &&
        min >= (vips_image_get_format(thumb.get()) == VIPS_FORMAT_USHORT ? 65535.0 : 255.0)) {
      ImageRef opaque;
      if (vips_extract_band(thumb.get(), opaque.out(), 0, "n", bands - 1, NULL) == 0) {
        thumb.reset(opaque.release());
        alpha = false;
      }
    }
    vips_error_clear();
  }

  std::error_code ec;
  const std::filesystem::path parent = std::filesystem::path(out_path).parent_path();
  std::filesystem::create_directories(parent, ec);
  if (ec) return internal_error("thumbnail: cannot create directory");

  // A unique temp name: two pool threads may thumbnail the same blob at once.
  const std::string tmp = out_path + ".tmp." + new_id('t');
  int rc = alpha ? vips_pngsave(thumb.get(), tmp.c_str(), "strip", TRUE, NULL)
                 : vips_jpegsave(thumb.get(), tmp.c_str(), "Q", 80, "strip", TRUE,
                                 "optimize_coding", TRUE, NULL);
  thumb.reset();
  if (rc != 0) {
    vips_error_clear();
    ::unlink(tmp.c_str());
    return unsupported("image cannot be decoded");
  }
  struct stat st;
  if (!fsync_path(tmp, O_RDONLY) || ::stat(tmp.c_str(), &st) != 0 ||
      ::rename(tmp.c_str(), out_path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return internal_error("thumbnail: cannot write file");
  }
  fsync_path(parent.string(), O_RDONLY | O_DIRECTORY);
  return Thumbnail{alpha ? "image/png" : "image/jpeg", static_cast<std::uint64_t>(st.st_size)};
}

}  // namespace chat::media

#include "net/static_files.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace chat::net {
namespace fs = std::filesystem;
namespace {

std::string content_type_of(const fs::path& p) {
  const std::string ext = p.extension().string();
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".json" || ext == ".webmanifest") return "application/json";
  if (ext == ".ico") return "image/x-icon";
  return "application/octet-stream";
}

}  // namespace

StaticFiles::StaticFiles(const std::string& dir) {
  std::error_code ec;
  if (dir.empty() || !fs::is_directory(dir, ec)) return;
  for (const auto& entry : fs::recursive_directory_iterator(dir, ec)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream body;
    body << in.rdbuf();
    const std::string rel = "/" + fs::relative(entry.path(), dir).generic_string();
    files_[rel] = File{content_type_of(entry.path()), body.str()};
  }
}

std::optional<HttpResponse> StaticFiles::get(const std::string& path) const {
  auto it = files_.find(path == "/" ? "/index.html" : path);
  if (it == files_.end()) return std::nullopt;
  HttpResponse r{200, it->second.body, it->second.content_type, {}};
  // No caching surprises while the client evolves; the files are tiny.
  r.headers.emplace_back("Cache-Control", "no-cache");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data: "
                         "blob:; style-src 'self'; script-src 'self'; frame-ancestors 'none'");
  return r;
}

}  // namespace chat::net

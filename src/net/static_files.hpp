// The web client's files (web/), served at `/` by chatd.
//
// Loaded into memory once at start-up from --web-dir (a handful of small
// files); requests never touch the disk and can never escape the directory:
// only names present at start-up exist.
#pragma once

#include <optional>
#include <string>
#include <unordered_map>

#include "net/http_types.hpp"

namespace chat::net {

class StaticFiles {
 public:
  // Loads every regular file under `dir` (recursively). A missing dir serves nothing.
  explicit StaticFiles(const std::string& dir);

  // The response for GET `path` ("/" means "/index.html"), or nullopt.
  std::optional<HttpResponse> get(const std::string& path) const;
  std::size_t size() const { return files_.size(); }

 private:
  struct File {
    std::string content_type;
    std::string body;
  };
  std::unordered_map<std::string, File> files_;  // "/app.js" -> file
};

}  // namespace chat::net

// Steps shared by the media integration tests: fixture files, uploads, raw
// streaming transfers (so a 100 MiB body never sits in the test's memory, and
// no client-side timeout cuts a slow one short), files on disk and the
// server's RSS from /proc.
//
// Header-only (inline) so that the test support library stays as it is.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>

#include "base/sha256.hpp"
#include "state_fixtures.hpp"

namespace chat::test::media_support {

inline std::string fixture(const std::string& name) {
  std::ifstream in(std::string(MEDIA_FILES_DIR) + "/" + name, std::ios::binary);
  if (!in) throw std::runtime_error("missing fixture " + name);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The media_id of an upload's answer.
inline std::string id_of(const json::object& upload) {
  return client::string_field(upload, "media_id");
}

// POST /v1/media with `bytes` as the body.
inline HttpResponse upload(HttpClient& http, const Account& who, const std::string& bytes,
                           const std::string& content_type, const std::string& filename = "") {
  client::RequestOptions o;
  o.bearer = who.token;
  o.content_type = content_type;
  o.timeout = std::chrono::seconds(60);
  std::string target = "/v1/media";
  if (!filename.empty()) target += "?filename=" + filename;
  return http.request("POST", target, bytes, o);
}

// Uploads and returns the 201 body (throws otherwise).
inline json::object upload_ok(HttpClient& http, const Account& who, const std::string& bytes,
                              const std::string& content_type, const std::string& filename = "") {
  auto r = upload(http, who, bytes, content_type, filename);
  if (r.status != 201) throw std::runtime_error("upload: " + describe(r));
  return r.json().as_object();
}

// Sends a message carrying `media_ids`; returns the response.
inline HttpResponse send_media(HttpClient& http, const Account& from, const std::string& chat,
                               const std::vector<std::string>& media_ids,
                               const std::string& caption = "") {
  json::array ids;
  for (const auto& id : media_ids)
    ids.emplace_back(id);
  json::object body{{"client_msg_id", client::random_client_msg_id()}, {"media", ids}};
  if (!caption.empty()) body["body"] = caption;
  return http.post("/v1/chats/" + chat + "/messages", body, from.token);
}

inline HttpResponse get_media(HttpClient& http, const std::string& target, const std::string& token,
                              const client::Headers& headers = {}) {
  client::RequestOptions o;
  o.bearer = token;
  o.headers = headers;
  o.timeout = std::chrono::seconds(60);
  return http.request("GET", target, {}, o);
}

inline std::string hex(const unsigned char* p, std::size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(kHex[p[i] >> 4]);
    out.push_back(kHex[p[i] & 15]);
  }
  return out;
}

// The answer of a streamed transfer: status line, head, body size and sha256.
struct Streamed {
  int status = 0;
  std::string head;
  std::uint64_t body_bytes = 0;
  std::string sha256;
  std::string body;  // the first 64 KiB of it (JSON answers fit)
};

// One HTTP/1.1 request on a fresh socket: `head` (request line + headers,
// without the blank line), then `body_size` bytes produced by `body` in
// pieces, then reads the whole answer (Content-Length framed, or until close),
// hashing the body instead of keeping it.
inline Streamed stream_request(std::uint16_t port, const std::string& head, std::uint64_t body_size,
                               const std::function<void(char*, std::size_t, std::uint64_t)>& body) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket");
  timeval tv{120, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    throw std::runtime_error("connect");
  }
  auto send_all = [&](const char* p, std::size_t n) {
    while (n > 0) {
      const ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
      if (w <= 0) return false;
      p += w;
      n -= static_cast<std::size_t>(w);
    }
    return true;
  };
  const std::string start = head + "\r\n\r\n";
  bool sent = send_all(start.data(), start.size());
  std::vector<char> piece(256 * 1024);
  for (std::uint64_t done = 0; sent && done < body_size;) {
    const std::size_t n =
        static_cast<std::size_t>(std::min<std::uint64_t>(piece.size(), body_size - done));
    body(piece.data(), n, done);
    sent = send_all(piece.data(), n);
    done += n;
  }
  Streamed out;
  std::string buffer;
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  EVP_DigestInit_ex(md, EVP_sha256(), nullptr);
  std::optional<std::uint64_t> length;
  bool in_body = false;
  for (;;) {
    const ssize_t n = ::recv(fd, piece.data(), piece.size(), 0);
    if (n <= 0) break;
    if (!in_body) {
      buffer.append(piece.data(), static_cast<std::size_t>(n));
      const auto end = buffer.find("\r\n\r\n");
      if (end == std::string::npos) continue;
      out.head = buffer.substr(0, end);
      if (out.head.size() > 12) out.status = std::stoi(out.head.substr(9, 3));
      std::string lower = out.head;
      for (auto& c : lower)
        c = static_cast<char>(std::tolower(c));
      if (auto cl = lower.find("\r\ncontent-length:"); cl != std::string::npos) {
        length = std::stoull(lower.substr(cl + 17));
      }
      const std::string rest = buffer.substr(end + 4);
      EVP_DigestUpdate(md, rest.data(), rest.size());
      out.body = rest.substr(0, 64 * 1024);
      out.body_bytes = rest.size();
      in_body = true;
    } else {
      EVP_DigestUpdate(md, piece.data(), static_cast<std::size_t>(n));
      if (out.body.size() < 64 * 1024) {
        out.body.append(piece.data(), std::min<std::size_t>(static_cast<std::size_t>(n),
                                                            64 * 1024 - out.body.size()));
      }
      out.body_bytes += static_cast<std::uint64_t>(n);
    }
    if (in_body && length && out.body_bytes >= *length) break;
  }
  unsigned char digest[32];
  unsigned int len = 0;
  EVP_DigestFinal_ex(md, digest, &len);
  EVP_MD_CTX_free(md);
  out.sha256 = hex(digest, len);
  ::close(fd);
  return out;
}

// Deterministic, incompressible-looking filler: byte i of the file.
inline void filler(char* out, std::size_t n, std::uint64_t offset) {
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t x = (offset + i) * 0x9E3779B97F4A7C15ull;
    out[i] = static_cast<char>(x >> 56);
  }
}

inline std::string sha256_of_filler(std::uint64_t size) {
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  EVP_DigestInit_ex(md, EVP_sha256(), nullptr);
  std::vector<char> piece(256 * 1024);
  for (std::uint64_t done = 0; done < size;) {
    const std::size_t n =
        static_cast<std::size_t>(std::min<std::uint64_t>(piece.size(), size - done));
    filler(piece.data(), n, done);
    EVP_DigestUpdate(md, piece.data(), n);
    done += n;
  }
  unsigned char digest[32];
  unsigned int len = 0;
  EVP_DigestFinal_ex(md, digest, &len);
  EVP_MD_CTX_free(md);
  return hex(digest, len);
}

// Regular files under `dir` (recursively); 0 if it does not exist.
inline std::size_t count_files(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) return 0;
  std::size_t n = 0;
  for (auto& e : std::filesystem::recursive_directory_iterator(dir, ec))
    if (e.is_regular_file()) ++n;
  return n;
}

inline std::filesystem::path blob_file(const ChatServer& server, const std::string& sha256) {
  return std::filesystem::path(server.data_dir()) / "media" / "blobs" / sha256.substr(0, 2) /
         sha256;
}

// VmRSS of a process in KiB (0 if unreadable).
inline long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

}  // namespace chat::test::media_support

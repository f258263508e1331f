#include "webhook_sink.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

namespace chat::test {

namespace {

// Reads from `fd` into `buf` until it holds at least `want` bytes, with a 5 s
// limit per read so a stuck peer cannot hang the sink.
bool read_at_least(int fd, std::string& buf, std::size_t want) {
  char chunk[8192];
  while (buf.size() < want) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 5000) <= 0) return false;
    const ssize_t n = recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buf.append(chunk, static_cast<std::size_t>(n));
  }
  return true;
}

std::string header_value(std::string_view head, std::string_view name) {
  std::size_t pos = 0;
  while ((pos = head.find("\r\n", pos)) != std::string_view::npos) {
    pos += 2;
    const auto colon = head.find(':', pos);
    const auto eol = head.find("\r\n", pos);
    if (colon == std::string_view::npos || colon > eol) continue;
    if (colon - pos == name.size() &&
        strncasecmp(head.data() + pos, name.data(), name.size()) == 0) {
      auto v = head.substr(colon + 1, eol - colon - 1);
      while (!v.empty() && v.front() == ' ')
        v.remove_prefix(1);
      return std::string(v);
    }
  }
  return {};
}

}  // namespace

WebhookSink::WebhookSink() {
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw std::runtime_error("WebhookSink: socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      listen(listen_fd_, 16) != 0 ||
      getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(listen_fd_);
    throw std::runtime_error("WebhookSink: bind/listen failed");
  }
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { serve(); });
}

WebhookSink::~WebhookSink() {
  stop_ = true;
  thread_.join();
  close(listen_fd_);
}

std::string WebhookSink::url(std::string_view path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
}

std::optional<WebhookSink::Request> WebhookSink::wait_for(std::size_t index,
                                                          std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  if (!cv_.wait_for(lock, timeout, [&] { return requests_.size() > index; })) return std::nullopt;
  return requests_[index];
}

std::size_t WebhookSink::count() const {
  std::lock_guard lock(mu_);
  return requests_.size();
}

void WebhookSink::serve() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    handle(fd);
    close(fd);
  }
}

void WebhookSink::handle(int fd) {
  std::string buf;
  std::size_t head_end;
  while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
    if (!read_at_least(fd, buf, buf.size() + 1)) return;
  }
  const std::string head = buf.substr(0, head_end);
  std::string rest = buf.substr(head_end + 4);
  Request req;
  const auto sp1 = head.find(' ');
  const auto sp2 = head.find(' ', sp1 + 1);
  req.method = head.substr(0, sp1);
  req.target = head.substr(sp1 + 1, sp2 - sp1 - 1);
  if (auto te = header_value(head, "Transfer-Encoding"); strcasecmp(te.c_str(), "chunked") == 0) {
    // Chunked: size line, data, CRLF, until the zero-size chunk.
    for (;;) {
      std::size_t eol;
      while ((eol = rest.find("\r\n")) == std::string::npos) {
        if (!read_at_least(fd, rest, rest.size() + 1)) return;
      }
      const std::size_t size = std::stoul(rest.substr(0, eol), nullptr, 16);
      if (!read_at_least(fd, rest, eol + 2 + size + 2)) return;
      req.body += rest.substr(eol + 2, size);
      rest.erase(0, eol + 2 + size + 2);
      if (size == 0) break;
    }
  } else {
    const auto cl = header_value(head, "Content-Length");
    const std::size_t length = cl.empty() ? 0 : std::stoul(cl);
    if (!read_at_least(fd, rest, length)) return;
    req.body = rest.substr(0, length);
  }
  static constexpr std::string_view kAnswer =
      "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
  (void)send(fd, kAnswer.data(), kAnswer.size(), MSG_NOSIGNAL);
  std::lock_guard lock(mu_);
  requests_.push_back(std::move(req));
  cv_.notify_all();
}

}  // namespace chat::test

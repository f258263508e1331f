// Fake push providers for integration tests: starts `node push_fakes/fakes.js
// DIR` (see the comment at its top) as a child process and talks to its
// control port.
//
// The fakes make their own TLS certificate (they run `openssl`), an FCM
// service-account file and an APNs .p8 key in a fresh temp directory, and
// print one JSON line with their ports; this class waits for it (20 s). The
// child dies with the test process (PR_SET_PDEATHSIG), so a crashed test leaves
// none behind; the destructor kills it and removes the directory.
//
//   PushFakes fakes;
//   ChatServer server(fakes.chatd_args());   // FCM/APNs pointed at the fakes
//   ... register {"kind":"webpush", ...fakes.webpush_subscription()} ...
//   auto reqs = fakes.wait_requests("webpush", 1);
//   EXPECT_TRUE(reqs[0].at("verified").as_bool());
//
// Header-only: include it from a test; it needs chat_client (and Boost.JSON).
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "client/http_client.hpp"

// Where fakes.js is: next to this header unless the build says otherwise.
#ifndef PUSH_FAKES_JS
#define PUSH_FAKES_JS \
  (std::filesystem::path(__FILE__).parent_path() / "push_fakes" / "fakes.js").string()
#endif

namespace chat::test {

class PushFakes {
 public:
  static constexpr auto kStartTimeout = std::chrono::seconds(20);

  // A browser's PushSubscription as the webpush fake made it.
  struct Subscription {
    std::string endpoint, p256dh, auth;
    // {"kind":"webpush","endpoint","p256dh","auth"}: a PUT /v1/devices/{id}/push body.
    boost::json::object target() const {
      return {{"kind", "webpush"}, {"endpoint", endpoint}, {"p256dh", p256dh}, {"auth", auth}};
    }
  };

  PushFakes() {
    const std::string node = find_on_path("node");
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "chatd-push-fakes-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    try {
      start(node);
    } catch (...) {
      stop();
      throw;
    }
  }

  ~PushFakes() { stop(); }
  PushFakes(const PushFakes&) = delete;
  PushFakes& operator=(const PushFakes&) = delete;

  // "webhook", "webpush", "fcm", "apns" or "control".
  std::uint16_t port(std::string_view server) const {
    return static_cast<std::uint16_t>(ready_.at(server).as_int64());
  }
  // "http://127.0.0.1:<webhook port><path>"
  std::string webhook_url(std::string_view path = "/hook") const {
    return "http://127.0.0.1:" + std::to_string(port("webhook")) + std::string(path);
  }
  std::string fcm_base_url() const { return "https://127.0.0.1:" + std::to_string(port("fcm")); }
  std::string apns_base_url() const { return "https://127.0.0.1:" + std::to_string(port("apns")); }

  const std::string& dir() const { return dir_; }
  // The fakes' self-signed certificate: chatd's --push-ca-file.
  std::string ca_file() const { return str("ca"); }
  std::string fcm_service_account() const { return str("fcm_service_account"); }
  std::string apns_key() const { return str("apns_key"); }
  std::string apns_key_id() const { return str("apns_key_id"); }
  std::string apns_team_id() const { return str("apns_team_id"); }
  static constexpr std::string_view kApnsTopic = "org.chatd.test";

  // The subscription made at start, and fresh ones (one per device).
  Subscription webpush_subscription() const {
    return subscription(ready_.at("webpush_subscription").as_object());
  }
  Subscription new_webpush_subscription() {
    auto r = control().post("/_subscribe?kind=webpush", boost::json::object{});
    expect_ok(r, "/_subscribe");
    return subscription(r.json().as_object());
  }

  // chatd flags that point FCM and APNs at the fakes and trust their
  // certificate. (--dev, or --push-allow-private, is also needed: the fakes
  // are on loopback, and webhook/webpush ones are http://.)
  std::vector<std::string> chatd_args() const {
    return {"--push-ca-file",  ca_file(),       "--fcm-credentials", fcm_service_account(),
            "--fcm-base-url",  fcm_base_url(),  "--apns-key",        apns_key(),
            "--apns-key-id",   apns_key_id(),   "--apns-team-id",    apns_team_id(),
            "--apns-base-url", apns_base_url(), "--apns-topic",      std::string(kApnsTopic)};
  }

  // What a fake recorded, oldest first. Kinds: webhook, webpush, fcm (messages:send),
  // fcm_token (the OAuth2 token requests), apns. Each is an object with kind,
  // method, path, http_version, headers, body, plaintext (webpush, decrypted),
  // verified, error, claims, status, time (fakes.js documents them).
  boost::json::array requests(std::string_view kind) {
    auto r = control().get("/_requests?kind=" + std::string(kind));
    expect_ok(r, "/_requests");
    return r.json().as_array();
  }
  // Waits until at least `n` requests of `kind` were recorded; returns them all
  // (fewer only on timeout).
  boost::json::array wait_requests(std::string_view kind, std::size_t n,
                                   std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto list = requests(kind);
      if (list.size() >= n || std::chrono::steady_clock::now() >= deadline) return list;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  // Forgets recorded requests and failure/hang plans (of one kind, or all).
  void reset(std::string_view kind = {}) {
    boost::json::object body;
    if (!kind.empty()) body["kind"] = kind;
    expect_ok(control().post("/_reset", body), "/_reset");
  }
  // The next `count` requests of `kind` are answered `status` (with
  // Retry-After: `retry_after_s` when given). They are still recorded.
  void fail(std::string_view kind, int status, int count,
            std::optional<int> retry_after_s = std::nullopt) {
    boost::json::object body{{"kind", kind}, {"status", status}, {"count", count}};
    if (retry_after_s) body["retry_after"] = *retry_after_s;
    expect_ok(control().post("/_fail", body), "/_fail");
  }
  // The next `count` requests of `kind` wait `ms` before they are answered.
  void hang(std::string_view kind, int ms, int count = 1) {
    expect_ok(control().post("/_hang", {{"kind", kind}, {"ms", ms}, {"count", count}}), "/_hang");
  }

 private:
  static std::string find_on_path(const std::string& name) {
    const char* path = getenv("PATH");
    std::string p = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
    for (std::size_t start = 0; start <= p.size();) {
      const std::size_t end = std::min(p.find(':', start), p.size());
      const auto candidate = std::filesystem::path(p.substr(start, end - start)) / name;
      if (access(candidate.c_str(), X_OK) == 0) return candidate.string();
      start = end + 1;
    }
    throw std::runtime_error("PushFakes: `" + name + "` is not on PATH");
  }

  void start(const std::string& node) {
    std::vector<std::string> args = {node, PUSH_FAKES_JS, dir_};
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);

    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
    const pid_t parent = getpid();
    const pid_t pid = fork();
    if (pid < 0) {
      close(fds[0]);
      close(fds[1]);
      throw std::runtime_error("fork failed");
    }
    if (pid == 0) {
      // As in harness.cpp: only async-signal-safe calls until exec; die with
      // the test; keep none of the test's descriptors.
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(127);
      dup2(fds[1], STDOUT_FILENO);
      if (syscall(SYS_close_range, 3U, ~0U, 0U) != 0) {
        for (int fd = 3; fd < 65536; ++fd)
          close(fd);
      }
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(fds[1]);
    pid_ = pid;

    // The ready line is the only thing the fakes write to stdout (errors go to
    // stderr, which is the test's).
    std::string out;
    const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
    while (out.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      pollfd p{fds[0], POLLIN, 0};
      const int r = poll(&p, 1, 100);
      if (r < 0 && errno != EINTR) break;
      if (r <= 0) continue;
      char buf[4096];
      const ssize_t n = read(fds[0], buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
    close(fds[0]);
    const auto nl = out.find('\n');
    if (nl == std::string::npos) {
      throw std::runtime_error("push fakes did not start within 20 s (" +
                               std::string(PUSH_FAKES_JS) + "); stdout: " + out);
    }
    ready_ = boost::json::parse(out.substr(0, nl)).as_object();
  }

  void stop() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
      }
      pid_ = -1;
    }
    client_.reset();
    std::error_code ignored;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
  }

  client::HttpClient& control() {
    if (!client_) client_.emplace("127.0.0.1", port("control"));
    return *client_;
  }

  static void expect_ok(const client::HttpResponse& r, std::string_view what) {
    if (r.status != 200) {
      throw std::runtime_error("push fakes " + std::string(what) + ": " + std::to_string(r.status) +
                               " " + r.body);
    }
  }

  std::string str(std::string_view key) const { return std::string(ready_.at(key).as_string()); }

  static Subscription subscription(const boost::json::object& o) {
    return {std::string(o.at("endpoint").as_string()), std::string(o.at("p256dh").as_string()),
            std::string(o.at("auth").as_string())};
  }

  std::string dir_;
  pid_t pid_ = -1;
  boost::json::object ready_;
  std::optional<client::HttpClient> client_;
};

}  // namespace chat::test

// Starts the real `chatd` binary for an integration test.
//
// Each ChatServer owns a fresh data directory and one child process at a time:
// `chatd --listen 127.0.0.1:0 --data <dir> [--dev] <extra args>`. The kernel
// picks the port; the server prints `chatd: listening on 127.0.0.1:<port>` and
// the harness reads it from the child's stdout. A thread keeps draining stdout
// for the child's whole life, so a chatty server never blocks on a full pipe,
// and tests can wait for lines (e.g. an OTP logged by `--sms log`).
//
// Restarts (after stop() or kill9()) reuse the data directory and get a new
// port. The child dies with the test process (PR_SET_PDEATHSIG), so a crashed
// test leaves no server behind; the destructor kills a running child and
// removes the directory.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "client/http_client.hpp"
#include "client/session.hpp"
#include "client/ws_client.hpp"

namespace chat::test {

class ChatServer {
 public:
  static constexpr auto kStartTimeout = std::chrono::seconds(20);
  static constexpr auto kStopTimeout = std::chrono::seconds(20);
  // stop()'s result when the child did not exit within kStopTimeout (it is then killed).
  static constexpr int kStopTimedOut = -1;

  // Starts the server. `dev` adds --dev (OTP codes in responses). Throws
  // std::runtime_error (with the server's output) when it does not come up.
  explicit ChatServer(std::vector<std::string> extra_args = {}, bool dev = true);
  ~ChatServer();
  ChatServer(const ChatServer&) = delete;
  ChatServer& operator=(const ChatServer&) = delete;

  // Starts the server again on the same data directory (after stop/kill9).
  void start();
  // SIGTERM, then waits. Returns the exit code (128 + signal when killed by a
  // signal), or kStopTimedOut.
  int stop();
  // SIGKILL, as a crash: nothing is flushed or closed by the server.
  void kill9();

  bool running() const { return pid_ > 0; }
  const std::string& host() const { return host_; }
  std::uint16_t port() const { return port_; }
  const std::string& data_dir() const { return data_dir_; }
  pid_t pid() const { return pid_; }  // the running child (for /proc reads)

  // A new HTTP client for the current port.
  client::HttpClient http() const;
  // A new account (fresh random phone) made over REST.
  client::Account new_account(std::string_view device_name = "test") const;
  // A socket to /v1/ws, authenticated with `token` (from `from_offset` when given).
  // Throws std::runtime_error when the upgrade or auth fails; the `ok` frame
  // goes to `ok_out` when not null.
  std::unique_ptr<client::WsClient> connect_ws(const std::string& token,
                                               std::optional<std::uint64_t> from_offset = {},
                                               boost::json::object* ok_out = nullptr) const;

  // Everything the child wrote to stdout so far (across restarts), line by line.
  std::vector<std::string> output() const;
  // Waits until some stdout line satisfies `match`; returns it, or "" on timeout.
  std::string wait_for_line(const std::function<bool(const std::string&)>& match,
                            std::chrono::milliseconds timeout) const;

 private:
  void reap_reader();
  int wait_child(std::chrono::milliseconds timeout);

  std::vector<std::string> extra_args_;
  bool dev_;
  std::string host_ = "127.0.0.1";
  std::string temp_dir_;
  std::string data_dir_;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;

  struct Output {
    mutable std::mutex mu;
    std::condition_variable cv;
    std::vector<std::string> lines;
    bool eof = true;
  };
  std::shared_ptr<Output> out_ = std::make_shared<Output>();
  std::thread reader_;
};

}  // namespace chat::test

#include "harness.hpp"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json/serialize.hpp>

#include <cerrno>
#include <filesystem>
#include <stdexcept>

#ifndef CHATD_PATH
#error "CHATD_PATH must name the chatd binary (set by tests/integration/CMakeLists.txt)"
#endif

namespace chat::test {

namespace {

constexpr std::string_view kListening = "chatd: listening on ";

// Child side of fork(): only async-signal-safe calls until exec.
[[noreturn]] void exec_child(int out_fd, pid_t parent, char* const* argv) {
  // Die with the test process, even if it crashes before killing us.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(127);
  dup2(out_fd, STDOUT_FILENO);
  // No descriptor of the test process (client sockets above all) may live on
  // in the server: a test's closed socket must look closed to the server.
  if (syscall(SYS_close_range, 3U, ~0U, 0U) != 0) {
    for (int fd = 3; fd < 65536; ++fd)
      close(fd);
  }
  execv(argv[0], argv);
  _exit(127);
}

}  // namespace

ChatServer::ChatServer(std::vector<std::string> extra_args, bool dev)
    : extra_args_(std::move(extra_args)), dev_(dev) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "chatd-it-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  temp_dir_ = tmpl;
  data_dir_ = temp_dir_ + "/data";
  std::filesystem::create_directory(data_dir_);
  try {
    start();
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove_all(temp_dir_, ignored);
    throw;
  }
}

ChatServer::~ChatServer() {
  if (pid_ > 0) kill9();
  reap_reader();
  std::error_code ignored;
  std::filesystem::remove_all(temp_dir_, ignored);
}

void ChatServer::start() {
  if (pid_ > 0) throw std::logic_error("ChatServer::start: already running");
  reap_reader();

  std::vector<std::string> args = {CHATD_PATH, "--listen", host_ + ":0", "--data", data_dir_};
  if (dev_) args.emplace_back("--dev");
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
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
  if (pid == 0) exec_child(fds[1], parent, argv.data());
  close(fds[1]);
  pid_ = pid;
  port_ = 0;

  {
    std::lock_guard lock(out_->mu);
    out_->eof = false;
  }
  const std::size_t first_line = output().size();
  reader_ = std::thread([fd = fds[0], out = out_] {
    std::string partial;
    char buf[4096];
    for (;;) {
      const ssize_t n = read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      std::lock_guard lock(out->mu);
      if (n <= 0) {
        if (!partial.empty()) out->lines.push_back(std::move(partial));
        out->eof = true;
        out->cv.notify_all();
        break;
      }
      partial.append(buf, static_cast<std::size_t>(n));
      for (std::size_t nl; (nl = partial.find('\n')) != std::string::npos;) {
        out->lines.push_back(partial.substr(0, nl));
        partial.erase(0, nl + 1);
      }
      out->cv.notify_all();
    }
    close(fd);
  });

  // The port comes from the listening line of this run (not of an earlier one).
  std::unique_lock lock(out_->mu);
  std::string listening;
  out_->cv.wait_for(lock, kStartTimeout, [&] {
    for (std::size_t i = first_line; i < out_->lines.size(); ++i) {
      if (out_->lines[i].starts_with(kListening)) {
        listening = out_->lines[i];
        return true;
      }
    }
    return out_->eof;
  });
  lock.unlock();
  const auto colon = listening.rfind(':');
  if (!listening.empty() && colon != std::string::npos) {
    port_ = static_cast<std::uint16_t>(std::stoi(listening.substr(colon + 1)));
  }
  if (port_ == 0) {
    std::string log;
    for (const auto& l : output())
      log += l + "\n";
    kill9();
    throw std::runtime_error("chatd did not report its port within 20 s; its stdout:\n" + log);
  }
}

int ChatServer::wait_child(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      return 128 + WTERMSIG(status);
    }
    if (r < 0 && errno != EINTR) {
      pid_ = -1;
      return kStopTimedOut;
    }
    if (std::chrono::steady_clock::now() >= deadline) return kStopTimedOut;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

int ChatServer::stop() {
  if (pid_ <= 0) throw std::logic_error("ChatServer::stop: not running");
  kill(pid_, SIGTERM);
  const int code = wait_child(kStopTimeout);
  if (code == kStopTimedOut && pid_ > 0) kill9();
  reap_reader();
  return code;
}

void ChatServer::kill9() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  reap_reader();
}

void ChatServer::reap_reader() {
  if (reader_.joinable()) reader_.join();  // EOF comes once the child is gone
}

client::HttpClient ChatServer::http() const {
  return client::HttpClient(host_, port_);
}

client::Account ChatServer::new_account(std::string_view device_name) const {
  auto h = http();
  return client::sign_up(h, client::random_phone(), device_name);
}

std::unique_ptr<client::WsClient> ChatServer::connect_ws(const std::string& token,
                                                         std::optional<std::uint64_t> from_offset,
                                                         boost::json::object* ok_out) const {
  auto ws = std::make_unique<client::WsClient>();
  const int status = ws->connect(host_, port_);
  if (status != 101) {
    throw std::runtime_error("WebSocket upgrade answered " + std::to_string(status));
  }
  auto ok = client::ws_auth(*ws, token, from_offset);
  if (ok["type"] != "ok") throw std::runtime_error("auth failed: " + boost::json::serialize(ok));
  if (ok_out != nullptr) *ok_out = std::move(ok);
  return ws;
}

std::vector<std::string> ChatServer::output() const {
  std::lock_guard lock(out_->mu);
  return out_->lines;
}

std::string ChatServer::wait_for_line(const std::function<bool(const std::string&)>& match,
                                      std::chrono::milliseconds timeout) const {
  std::unique_lock lock(out_->mu);
  std::string found;
  out_->cv.wait_for(lock, timeout, [&] {
    for (const auto& l : out_->lines) {
      if (match(l)) {
        found = l;
        return true;
      }
    }
    return false;
  });
  return found;
}

}  // namespace chat::test

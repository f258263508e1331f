// HttpSender against real sockets: a tiny blocking HTTP/1.1 server on
// 127.0.0.1 (one thread per connection, so a slow route never holds up a fast
// one), and, for HTTP/2 over TLS, the fake APNs of the integration tests
// (tests/integration/push_fakes/fakes.js; skipped when node or openssl is missing).
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "push/http_sender.hpp"

namespace chat::push {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// ---- a tiny HTTP/1.1 server ---------------------------------------------------

class TestServer {
 public:
  struct Request {
    std::string method, path, body;
    std::map<std::string, std::string> headers;  // lower-case names
  };

  TestServer() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd_, 64) != 0)
      throw std::runtime_error("TestServer: bind/listen failed");
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }

  ~TestServer() {
    stop_ = true;
    acceptor_.join();
    close(fd_);
    std::lock_guard lock(mu_);
    for (auto& t : workers_)
      t.join();
  }

  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::uint16_t port() const { return port_; }

  std::vector<Request> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  void accept_loop() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      const int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      std::lock_guard lock(mu_);
      workers_.emplace_back([this, c] {
        handle(c);
        close(c);
      });
    }
  }

  // Reads one request (head, then Content-Length bytes), answers, closes.
  void handle(int c) {
    std::string in;
    char buf[4096];
    std::size_t head_end;
    while ((head_end = in.find("\r\n\r\n")) == std::string::npos) {
      const ssize_t n = recv(c, buf, sizeof buf, 0);
      if (n <= 0) return;
      in.append(buf, static_cast<std::size_t>(n));
    }
    Request r;
    std::size_t line_end = in.find("\r\n");
    const std::string start = in.substr(0, line_end);
    const auto sp1 = start.find(' '), sp2 = start.rfind(' ');
    r.method = start.substr(0, sp1);
    r.path = start.substr(sp1 + 1, sp2 - sp1 - 1);
    for (std::size_t pos = line_end + 2; pos < head_end;) {
      const std::size_t eol = in.find("\r\n", pos);
      const std::string line = in.substr(pos, eol - pos);
      const auto colon = line.find(':');
      std::string name = line.substr(0, colon);
      for (auto& ch : name)
        ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ')
        value.erase(0, 1);
      r.headers[name] = value;
      pos = eol + 2;
    }
    const std::size_t length =
        r.headers.count("content-length") ? std::stoul(r.headers["content-length"]) : 0;
    r.body = in.substr(head_end + 4);
    while (r.body.size() < length) {
      const ssize_t n = recv(c, buf, sizeof buf, 0);
      if (n <= 0) return;
      r.body.append(buf, static_cast<std::size_t>(n));
    }
    {
      std::lock_guard lock(mu_);
      requests_.push_back(r);
    }

    int status = 200;
    std::string extra, body = "ok:" + r.body;
    if (r.path == "/slow") {
      for (int i = 0; i < 60 && !stop_; ++i)  // 3 s, unless the test is over
        std::this_thread::sleep_for(50ms);
      body = "slow";
    } else if (r.path == "/retry") {
      status = 503;
      extra = "Retry-After: 7\r\n";
    } else if (r.path == "/retry-date") {
      status = 429;
      const std::time_t at = std::time(nullptr) + 30;
      std::tm tm{};
      gmtime_r(&at, &tm);
      char date[64];
      std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
      extra = std::string("Retry-After: ") + date + "\r\n";
    } else if (r.path == "/big") {
      body.assign(100 * 1024, 'x');
    }
    std::string out = "HTTP/1.1 " + std::to_string(status) +
                      " X\r\nContent-Length: " + std::to_string(body.size()) +
                      "\r\nConnection: close\r\n" + extra + "\r\n" + body;
    for (std::size_t off = 0; off < out.size();) {
      const ssize_t n = send(c, out.data() + off, out.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return;
      off += static_cast<std::size_t>(n);
    }
  }

  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<Request> requests_;
  std::vector<std::thread> workers_;
  std::thread acceptor_;
};

// ---- collecting callbacks -------------------------------------------------------

// Responses in completion order, tagged by the caller, with completion times.
class Collector {
 public:
  std::function<void(PushResponse)> callback(std::string tag) {
    return [this, tag = std::move(tag)](PushResponse r) {
      std::lock_guard lock(mu_);
      done_.push_back({tag, std::move(r), Clock::now()});
      cv_.notify_all();
    };
  }
  struct Done {
    std::string tag;
    PushResponse response;
    Clock::time_point at;
  };
  // Waits until `n` callbacks ran (or 20 s); returns them.
  std::vector<Done> wait(std::size_t n) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, 20s, [&] { return done_.size() >= n; });
    return done_;
  }
  std::vector<Done> now() {
    std::lock_guard lock(mu_);
    return done_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Done> done_;
};

HttpSenderConfig private_ok() {
  HttpSenderConfig c;
  c.allow_private = true;
  return c;
}

OutgoingRequest post(std::string url, std::string body = "{}") {
  OutgoingRequest r;
  r.url = std::move(url);
  r.body = std::move(body);
  r.headers = {{"Content-Type", "application/json"}};
  return r;
}

// ---- tests ------------------------------------------------------------------------

TEST(HttpSender, IsPublicAddress) {
  struct Case {
    const char* ip;
    bool ok;
  };
  const Case cases[] = {
      {"8.8.8.8", true},
      {"1.1.1.1", true},
      {"17.188.143.34", true},  // an APNs address
      {"0.0.0.0", false},
      {"0.1.2.3", false},
      {"10.0.0.1", false},
      {"10.255.255.255", false},
      {"100.64.0.1", false},
      {"100.127.255.255", false},
      {"100.128.0.1", true},
      {"127.0.0.1", false},
      {"127.255.0.9", false},
      {"169.254.169.254", false},  // cloud metadata
      {"172.15.255.255", true},
      {"172.16.0.1", false},
      {"172.31.255.255", false},
      {"172.32.0.1", true},
      {"192.0.0.8", false},
      {"192.0.2.1", true},  // documentation range: not refused by the rule
      {"192.168.1.1", false},
      {"198.17.255.255", true},
      {"198.18.0.1", false},
      {"198.19.255.255", false},
      {"198.20.0.1", true},
      {"224.0.0.1", false},
      {"239.255.255.250", false},
      {"240.0.0.1", false},
      {"255.255.255.255", false},
      {"::", false},
      {"::1", false},
      {"fc00::1", false},
      {"fd12:3456::1", false},
      {"fe80::1", false},
      {"febf::1", false},
      {"ff02::1", false},
      {"2001:4860:4860::8888", true},
      {"2606:4700::1111", true},
      {"::ffff:127.0.0.1", false},
      {"::ffff:10.1.2.3", false},
      {"::ffff:8.8.8.8", true},
      {"64:ff9b::7f00:1", false},  // NAT64 of 127.0.0.1
      {"64:ff9b::808:808", true},  // NAT64 of 8.8.8.8
      {"fe80::1%eth0", false},     // zone ids are not addresses
      {"localhost", false},
      {"", false},
      {"1.2.3", false},
  };
  for (const auto& c : cases)
    EXPECT_EQ(HttpSender::is_public_address(c.ip), c.ok) << c.ip;
}

TEST(HttpSender, PostArrivesWithHeadersAndBody) {
  TestServer server;
  Collector got;
  {
    HttpSender sender(private_ok());
    auto req = post(server.url("/hook?x=1"), R"({"type":"message"})");
    req.headers.emplace_back("X-Chatd-Signature", "sha256=abc");
    sender.submit(req, got.callback("a"));
    const auto done = got.wait(1);
    ASSERT_EQ(done.size(), 1u);
    EXPECT_EQ(done[0].response.status, 200) << done[0].response.error;
    EXPECT_EQ(done[0].response.body, R"(ok:{"type":"message"})");
    EXPECT_FALSE(done[0].response.retry_after_ms.has_value());
  }
  const auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].path, "/hook?x=1");
  EXPECT_EQ(reqs[0].body, R"({"type":"message"})");
  EXPECT_EQ(reqs[0].headers.at("content-type"), "application/json");
  EXPECT_EQ(reqs[0].headers.at("x-chatd-signature"), "sha256=abc");
  EXPECT_EQ(reqs[0].headers.count("expect"), 0u);
}

TEST(HttpSender, NoContentTypeIsMadeUp) {
  TestServer server;
  Collector got;
  HttpSender sender(private_ok());
  OutgoingRequest req;
  req.url = server.url("/raw");
  req.body = std::string(4000, 'b');  // large enough that curl would add Expect: 100-continue
  sender.submit(req, got.callback("a"));
  ASSERT_EQ(got.wait(1).at(0).response.status, 200);
  const auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].headers.count("content-type"), 0u);
  EXPECT_EQ(reqs[0].headers.count("expect"), 0u);
  EXPECT_EQ(reqs[0].body.size(), 4000u);
}

TEST(HttpSender, RetryAfterSecondsAndDate) {
  TestServer server;
  Collector got;
  HttpSender sender(private_ok());
  sender.submit(post(server.url("/retry")), got.callback("seconds"));
  sender.submit(post(server.url("/retry-date")), got.callback("date"));
  const auto done = got.wait(2);
  ASSERT_EQ(done.size(), 2u);
  for (const auto& d : done) {
    if (d.tag == "seconds") {
      EXPECT_EQ(d.response.status, 503);
      EXPECT_EQ(d.response.retry_after_ms, 7000);
    } else {
      EXPECT_EQ(d.response.status, 429);
      ASSERT_TRUE(d.response.retry_after_ms.has_value());
      EXPECT_GT(*d.response.retry_after_ms, 25'000);
      EXPECT_LE(*d.response.retry_after_ms, 31'000);
    }
  }
}

TEST(HttpSender, SlowEndpointDoesNotDelayAFastOne) {
  TestServer slow, fast;
  Collector got;
  HttpSender sender(private_ok());
  sender.submit(post(slow.url("/slow")), got.callback("slow"));
  std::this_thread::sleep_for(100ms);  // the slow one is surely under way
  const auto start = Clock::now();
  sender.submit(post(fast.url("/fast")), got.callback("fast"));
  const auto first = got.wait(1);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].tag, "fast");
  EXPECT_EQ(first[0].response.status, 200);
  EXPECT_LT(first[0].at - start, 1s);
  // The slow one is answered "shutdown" when the sender goes: no 3 s wait here.
}

TEST(HttpSender, SlowPathDoesNotDelayTheSameHost) {
  // Same host and port: HTTP/1.1 gets a second connection rather than waiting.
  TestServer server;
  Collector got;
  HttpSender sender(private_ok());
  sender.submit(post(server.url("/slow")), got.callback("slow"));
  std::this_thread::sleep_for(100ms);
  const auto start = Clock::now();
  sender.submit(post(server.url("/fast")), got.callback("fast"));
  const auto first = got.wait(1);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].tag, "fast");
  EXPECT_LT(first[0].at - start, 1s);
}

TEST(HttpSender, TimeoutGivesStatusZeroAndAnError) {
  TestServer server;
  Collector got;
  auto config = private_ok();
  config.total_timeout = 500ms;
  HttpSender sender(config);
  const auto start = Clock::now();
  sender.submit(post(server.url("/slow")), got.callback("a"));
  const auto done = got.wait(1);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].response.status, 0);
  EXPECT_FALSE(done[0].response.error.empty());
  EXPECT_NE(done[0].response.error, "blocked address");
  EXPECT_LT(done[0].at - start, 2s);
}

TEST(HttpSender, ConnectionRefusedGivesStatusZero) {
  std::uint16_t port;
  { port = TestServer().port(); }  // a port nobody listens on any more
  Collector got;
  HttpSender sender(private_ok());
  sender.submit(post("http://127.0.0.1:" + std::to_string(port) + "/"), got.callback("a"));
  const auto done = got.wait(1);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].response.status, 0);
  EXPECT_FALSE(done[0].response.error.empty());
}

TEST(HttpSender, PrivateAddressIsBlockedAndNeverReached) {
  TestServer server;
  Collector got;
  HttpSender sender(HttpSenderConfig{});  // allow_private = false
  sender.submit(post(server.url("/hook")), got.callback("ip"));
  sender.submit(post("http://localhost:" + std::to_string(server.port()) + "/hook"),
                got.callback("name"));
  const auto done = got.wait(2);
  ASSERT_EQ(done.size(), 2u);
  for (const auto& d : done) {
    EXPECT_EQ(d.response.status, 0) << d.tag;
    EXPECT_EQ(d.response.error, "blocked address") << d.tag;
  }
  std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(server.requests().empty());
}

TEST(HttpSender, OnlyHttpAndHttps) {
  Collector got;
  HttpSender sender(private_ok());
  OutgoingRequest req;
  req.url = "file:///etc/passwd";
  sender.submit(req, got.callback("a"));
  const auto done = got.wait(1);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].response.status, 0);
  EXPECT_TRUE(done[0].response.body.empty());
}

TEST(HttpSender, BodyIsCappedAt64KiB) {
  TestServer server;
  Collector got;
  HttpSender sender(private_ok());
  sender.submit(post(server.url("/big")), got.callback("a"));
  const auto done = got.wait(1);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].response.status, 200);
  EXPECT_EQ(done[0].response.body.size(), 64u * 1024);
}

TEST(HttpSender, OverMaxInFlightWaitInOrder) {
  TestServer server;
  Collector got;
  auto config = private_ok();
  config.max_in_flight = 1;
  HttpSender sender(config);
  for (int i = 0; i < 5; ++i)
    sender.submit(post(server.url("/n"), std::to_string(i)), got.callback(std::to_string(i)));
  EXPECT_GE(sender.in_flight(), 1u);
  const auto done = got.wait(5);
  ASSERT_EQ(done.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(done[i].tag, std::to_string(i));
    EXPECT_EQ(done[i].response.body, "ok:" + std::to_string(i));
  }
  // in_flight drops after the callback returns.
  for (int i = 0; i < 100 && sender.in_flight() != 0; ++i)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(sender.in_flight(), 0u);
}

TEST(HttpSender, ShutdownCompletesEverythingPending) {
  TestServer server;
  Collector got;
  auto config = private_ok();
  config.max_in_flight = 2;
  auto sender = std::make_unique<HttpSender>(config);
  for (int i = 0; i < 5; ++i)  // 2 in flight, 3 waiting
    sender->submit(post(server.url("/slow")), got.callback(std::to_string(i)));
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(sender->in_flight(), 5u);
  const auto start = Clock::now();
  sender.reset();
  EXPECT_LT(Clock::now() - start, 1s);
  const auto done = got.now();
  ASSERT_EQ(done.size(), 5u);
  for (const auto& d : done) {
    EXPECT_EQ(d.response.status, 0);
    EXPECT_EQ(d.response.error, "shutdown");
  }
}

// ---- HTTP/2 over TLS against the fake APNs ----------------------------------------

std::optional<std::string> which(const std::string& name) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return std::nullopt;
  std::string p = path;
  for (std::size_t start = 0; start <= p.size();) {
    const std::size_t end = std::min(p.find(':', start), p.size());
    const std::filesystem::path candidate =
        std::filesystem::path(p.substr(start, end - start)) / name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate.string();
    start = end + 1;
  }
  return std::nullopt;
}

// `node fakes.js DIR` as a child that dies with us; the ready line parsed.
class Fakes {
 public:
  explicit Fakes(const std::string& node) {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "http-sender-fakes-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    const std::string script =
        (std::filesystem::path(__FILE__).parent_path() / "../integration/push_fakes/fakes.js")
            .lexically_normal()
            .string();
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
    const pid_t parent = getpid();
    pid_ = fork();
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(127);
      dup2(fds[1], STDOUT_FILENO);
      execl(node.c_str(), node.c_str(), script.c_str(), dir_.c_str(), nullptr);
      _exit(127);
    }
    close(fds[1]);
    std::string line;
    const auto deadline = Clock::now() + 20s;
    while (line.find('\n') == std::string::npos && Clock::now() < deadline) {
      pollfd p{fds[0], POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      char buf[4096];
      const ssize_t n = read(fds[0], buf, sizeof buf);
      if (n <= 0) break;
      line.append(buf, static_cast<std::size_t>(n));
    }
    close(fds[0]);
    if (line.find('\n') == std::string::npos) throw std::runtime_error("fakes.js did not start");
    ready_ = boost::json::parse(line.substr(0, line.find('\n'))).as_object();
  }
  ~Fakes() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  const boost::json::object& ready() const { return ready_; }

 private:
  std::string dir_;
  pid_t pid_ = -1;
  boost::json::object ready_;
};

TEST(HttpSender, Http2TlsToTheFakeApns) {
  const auto node = which("node");
  if (!node || !which("openssl")) GTEST_SKIP() << "node or openssl not on PATH";
  Fakes fakes(*node);
  const auto& ready = fakes.ready();
  const std::string base = "https://127.0.0.1:" + std::to_string(ready.at("apns").as_int64());

  auto config = private_ok();
  config.ca_file = std::string(ready.at("ca").as_string());
  HttpSender sender(config);
  Collector got;
  // No provider token: the fake answers 403 MissingProviderToken, over HTTP/2.
  // (A token that verifies is the integration tests' business.)
  for (int i = 0; i < 3; ++i) {
    OutgoingRequest req = post(base + "/3/device/abc" + std::to_string(i), R"({"aps":{}})");
    req.http2 = true;
    req.headers.emplace_back("apns-topic", "com.example.chat");
    sender.submit(req, got.callback(std::to_string(i)));
  }
  const auto done = got.wait(3);
  ASSERT_EQ(done.size(), 3u);
  for (const auto& d : done) {
    EXPECT_EQ(d.response.status, 403) << d.response.error;
    EXPECT_NE(d.response.body.find("MissingProviderToken"), std::string::npos);
  }

  OutgoingRequest list;
  list.method = "GET";
  list.url = base + "/_requests";
  list.http2 = true;
  sender.submit(list, got.callback("list"));
  const auto all = got.wait(4);
  ASSERT_EQ(all.size(), 4u);
  ASSERT_EQ(all[3].response.status, 200);
  const auto recs = boost::json::parse(all[3].response.body).as_array();
  ASSERT_EQ(recs.size(), 3u);
  for (const auto& r : recs) {
    EXPECT_EQ(r.at("http_version").as_string(), "2.0");
    EXPECT_EQ(r.at("headers").at("apns-topic").as_string(), "com.example.chat");
  }

  // Without the CA file the self-signed certificate is refused.
  HttpSender strict(private_ok());
  Collector refused;
  OutgoingRequest req = post(base + "/3/device/abc", "{}");
  req.http2 = true;
  strict.submit(req, refused.callback("a"));
  const auto r = refused.wait(1);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].response.status, 0);
  EXPECT_FALSE(r[0].response.error.empty());
}

}  // namespace
}  // namespace chat::push

#include "push/http_sender.hpp"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

namespace chat::push {

namespace {

// A push answer is a status and a short JSON error at most; a peer that sends
// more is cut off (the transfer is aborted, the status and the first bytes kept).
constexpr std::size_t kMaxBody = 64 * 1024;
// Per host: enough parallel HTTP/1.1 connections that one slow request does not
// queue the next ones behind it; HTTP/2 hosts (APNs) multiplex on one of them.
constexpr long kMaxHostConnections = 32;
// Idle connections kept for reuse across all hosts (keep-alive, TLS resumption).
constexpr long kMaxCachedConnections = 64;
// The poll loop wakes at least this often even with nothing to do (curl's own
// timers make it wake sooner when a transfer needs it).
constexpr int kPollMs = 1'000;

bool ieq_prefix(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

// Retry-After is delta-seconds or an HTTP-date (RFC 9110 10.2.3); a date in
// the past means "now". Anything unparseable is ignored (nullopt).
std::optional<std::int64_t> parse_retry_after(std::string_view v) {
  v = trim(v);
  if (v.empty()) return std::nullopt;
  bool digits = true;
  for (char c : v)
    digits = digits && c >= '0' && c <= '9';
  if (digits) {
    if (v.size() > 9) return std::int64_t{999'999'999} * 1000;  // absurd; keep it finite
    return std::stoll(std::string(v)) * 1000;
  }
  // curl_getdate reads RFC 1123, RFC 850 and asctime forms, the three HTTP allows.
  const time_t at = curl_getdate(std::string(v).c_str(), nullptr);
  if (at < 0) return std::nullopt;
  using namespace std::chrono;
  const auto now_ms = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  const std::int64_t delta = static_cast<std::int64_t>(at) * 1000 - now_ms;
  return delta > 0 ? delta : 0;
}

bool public_v4(const std::uint8_t a[4]) {
  const std::uint32_t x = (std::uint32_t{a[0]} << 24) | (std::uint32_t{a[1]} << 16) |
                          (std::uint32_t{a[2]} << 8) | std::uint32_t{a[3]};
  struct Net {
    std::uint32_t base;
    int bits;
  };
  static constexpr Net kRefused[] = {
      {0x00000000, 8},   // 0/8 "this network"
      {0x0A000000, 8},   // 10/8 private
      {0x64400000, 10},  // 100.64/10 carrier-grade NAT
      {0x7F000000, 8},   // 127/8 loopback
      {0xA9FE0000, 16},  // 169.254/16 link-local (cloud metadata lives here)
      {0xAC100000, 12},  // 172.16/12 private
      {0xC0000000, 24},  // 192.0.0/24 IETF protocol assignments
      {0xC0A80000, 16},  // 192.168/16 private
      {0xC6120000, 15},  // 198.18/15 benchmarking
      {0xE0000000, 4},   // 224/4 multicast
      {0xF0000000, 4},   // 240/4 reserved, and 255.255.255.255 broadcast within it
  };
  for (const auto& n : kRefused) {
    const std::uint32_t mask = ~std::uint32_t{0} << (32 - n.bits);
    if ((x & mask) == n.base) return false;
  }
  return true;
}

bool public_v6(const std::uint8_t a[16]) {
  static constexpr std::uint8_t kZero[12] = {};
  static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  static constexpr std::uint8_t kNat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
  // ::a.b.c.d (IPv4-compatible; covers :: and ::1 too), ::ffff:a.b.c.d
  // (IPv4-mapped: a v6 socket reaches the v4 host) and 64:ff9b::a.b.c.d (NAT64
  // well-known prefix: the gateway forwards to the v4 host) are judged by the
  // IPv4 address they carry.
  if (std::memcmp(a, kZero, 12) == 0 || std::memcmp(a, kMapped, 12) == 0 ||
      std::memcmp(a, kNat64, 12) == 0)
    return public_v4(a + 12);
  if ((a[0] & 0xfe) == 0xfc) return false;                  // fc00::/7 unique local
  if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) return false;  // fe80::/10 link-local
  if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0) return false;  // fec0::/10 old site-local
  if (a[0] == 0xff) return false;                           // ff00::/8 multicast
  return true;
}

bool public_sockaddr(const sockaddr* sa) {
  if (sa->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    return public_v4(reinterpret_cast<const std::uint8_t*>(&in->sin_addr));
  }
  if (sa->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    return public_v6(reinterpret_cast<const std::uint8_t*>(&in6->sin6_addr));
  }
  return false;  // unix sockets and anything else: never a push target
}

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
      throw std::runtime_error("curl_global_init failed");
  });
}

}  // namespace

struct HttpSender::Impl {
  // One request from submit() to its callback. Owned by the sender thread once
  // it has left the submit queue.
  struct Transfer {
    OutgoingRequest req;
    std::function<void(PushResponse)> done;
    std::string origin;  // scheme://host:port: the unit of fairness
    CURL* easy = nullptr;
    curl_slist* headers = nullptr;
    std::string body;
    bool truncated = false;  // the body passed kMaxBody: aborted on purpose
    bool blocked = false;    // the SSRF guard refused an address
    std::optional<std::int64_t> retry_after_ms;
    char errbuf[CURL_ERROR_SIZE] = {};

    ~Transfer() {
      if (headers != nullptr) curl_slist_free_all(headers);
      if (easy != nullptr) curl_easy_cleanup(easy);
    }
  };
  using TransferPtr = std::unique_ptr<Transfer>;

  HttpSenderConfig config;
  CURLM* multi = nullptr;

  mutable std::mutex mu;
  std::deque<TransferPtr> submitted;  // guarded by mu
  bool stopping = false;              // guarded by mu
  bool closed = false;                // guarded by mu: the thread has drained for good
  std::atomic<std::size_t> pending{0};

  // Sender thread only. Requests wait per origin (scheme://host:port) and
  // start round-robin across origins, at most kPerOrigin in libcurl at once
  // per origin: a burst of 10,000 pushes to one receiver then costs libcurl
  // a short pending list instead of a walk over thousands of handles on every
  // pass, and a slow or dead origin holds at most its own share of the
  // max_in_flight slots while every other origin keeps going.
  struct Origin {
    std::deque<TransferPtr> queue;  // in submit order
    std::size_t active = 0;
    bool ready = false;  // listed in `ready`
  };
  std::unordered_map<std::string, Origin> origins;
  std::deque<std::string> ready;  // origins with something queued and room
  std::unordered_map<CURL*, TransferPtr> active;
  std::thread thread;

  explicit Impl(HttpSenderConfig c) : config(std::move(c)) {
    global_init();
    multi = curl_multi_init();
    if (multi == nullptr) throw std::runtime_error("curl_multi_init failed");
    curl_multi_setopt(multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, kMaxHostConnections);
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, kMaxCachedConnections);
    thread = std::thread([this] { run(); });
  }

  ~Impl() {
    {
      std::lock_guard lock(mu);
      stopping = true;
    }
    curl_multi_wakeup(multi);
    thread.join();
    curl_multi_cleanup(multi);
  }

  void submit(OutgoingRequest req, std::function<void(PushResponse)> done) {
    auto t = std::make_unique<Transfer>();
    t->origin = http_origin(req.url).value_or(req.url);
    t->req = std::move(req);
    t->done = std::move(done);
    bool queued = false;
    {
      std::lock_guard lock(mu);
      if (!closed) {
        pending.fetch_add(1);
        submitted.push_back(std::move(t));
        queued = true;
      }
    }
    if (queued) {
      curl_multi_wakeup(multi);
      return;
    }
    // Only a submit racing the destructor gets here: there is no sender thread
    // left to run the callback on, so it runs here.
    PushResponse r;
    r.error = "shutdown";
    t->done(std::move(r));
  }

  void run() {
    // Pushes may wait a few milliseconds; chat traffic on the socket threads
    // should not: below their priority (nice 10) when the cores are busy.
    setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 10);
    for (;;) {
      {
        std::lock_guard lock(mu);
        if (stopping) break;
        while (!submitted.empty()) {
          enqueue(std::move(submitted.front()));
          submitted.pop_front();
        }
      }
      start_waiting();
      int running = 0;
      curl_multi_perform(multi, &running);
      int left = 0;
      while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
        if (msg->msg == CURLMSG_DONE) finish(msg->easy_handle, msg->data.result);
      }
      // Finished transfers free slots: start the next ones before sleeping.
      if (!ready.empty() && active.size() < config.max_in_flight) continue;
      curl_multi_poll(multi, nullptr, 0, kPollMs, nullptr);
    }
    shutdown();
  }

  static constexpr std::size_t kPerOrigin = 2 * kMaxHostConnections;

  void enqueue(TransferPtr t) {
    Origin& o = origins[t->origin];
    o.queue.push_back(std::move(t));
    mark_ready(o, o.queue.back()->origin);
  }

  void mark_ready(Origin& o, const std::string& name) {
    if (!o.ready && !o.queue.empty() && o.active < kPerOrigin) {
      o.ready = true;
      ready.push_back(name);
    }
  }

  void start_waiting() {
    while (!ready.empty() && active.size() < std::max<std::size_t>(config.max_in_flight, 1)) {
      const std::string name = std::move(ready.front());
      ready.pop_front();
      Origin& o = origins[name];
      o.ready = false;
      TransferPtr t = std::move(o.queue.front());
      o.queue.pop_front();
      ++o.active;
      mark_ready(o, name);  // round robin: back of the line if it has more
      std::string error = setup(*t);
      if (!error.empty()) {
        release(t->origin);
        PushResponse r;
        r.error = std::move(error);
        complete(*t, std::move(r));
        continue;
      }
      CURL* easy = t->easy;
      active.emplace(easy, std::move(t));
      curl_multi_add_handle(multi, easy);
    }
  }

  // Builds the easy handle; returns an error message when it cannot.
  std::string setup(Transfer& t) {
    t.easy = curl_easy_init();
    if (t.easy == nullptr) return "curl_easy_init failed";
    CURL* e = t.easy;
    const OutgoingRequest& req = t.req;
    curl_easy_setopt(e, CURLOPT_PRIVATE, &t);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t.errbuf);
    curl_easy_setopt(e, CURLOPT_URL, req.url.c_str());
    // Signals are process-wide; a library on a thread of its own must not use them.
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    // Push targets are http(s) URLs only, and a redirect could lead anywhere
    // (file://, an internal host): none are followed.
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    // A proxy from the environment would make the SSRF check see the proxy's
    // address, not the target's: pushes never go through one.
    curl_easy_setopt(e, CURLOPT_PROXY, "");
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(config.connect_timeout.count()));
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(config.total_timeout.count()));
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    // Note: CURLOPT_CAINFO *replaces* the system bundle rather than adding to
    // it, so with ca_file set only that CA is trusted. ca_file is for tests
    // (the fake providers' self-signed certificate), where that is what we want.
    if (!config.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, config.ca_file.c_str());

    if (req.http2) {
      // APNs speaks HTTP/2 only. Over plain http:// (tests) there is no ALPN to
      // negotiate it, so it is assumed ("prior knowledge").
      const bool plain = req.url.rfind("http://", 0) == 0;
      curl_easy_setopt(e, CURLOPT_HTTP_VERSION,
                       plain ? CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE : CURL_HTTP_VERSION_2TLS);
      // Wait for an HTTP/2 connection being opened to the host rather than
      // opening another: all APNs pushes share one connection.
      curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
    } else {
      curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
    }

    if (!config.allow_private) {
      curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, &Impl::open_socket);
      curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, &t);
    }

    bool has_content_type = false, has_expect = false;
    for (const auto& [name, value] : req.headers) {
      has_content_type = has_content_type || ieq_prefix(name, "content-type");
      has_expect = has_expect || ieq_prefix(name, "expect");
      // "Name;" is curl's spelling of a header with an empty value.
      const std::string line = value.empty() ? name + ";" : name + ": " + value;
      curl_slist* next = curl_slist_append(t.headers, line.c_str());
      if (next == nullptr) return "out of memory";
      t.headers = next;
    }
    // The request goes out as built: no form content type made up by curl, and
    // no "Expect: 100-continue" round trip for larger bodies.
    if (!has_content_type) t.headers = curl_slist_append(t.headers, "Content-Type:");
    if (!has_expect) t.headers = curl_slist_append(t.headers, "Expect:");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t.headers);

    if (req.method == "GET") {
      curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else if (req.method == "HEAD") {
      curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else {
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, req.body.data());  // lives in the Transfer
      if (req.method != "POST") curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    }

    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &Impl::on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &Impl::on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &t);
    return {};
  }

  // Called with the resolved address just before connect(): the one place
  // where the address the connection will really use can be judged (a name
  // rebound between a check and the connect cannot slip past it).
  static curl_socket_t open_socket(void* clientp, curlsocktype purpose, curl_sockaddr* addr) {
    auto* t = static_cast<Transfer*>(clientp);
    if (purpose != CURLSOCKTYPE_IPCXN || !public_sockaddr(&addr->addr)) {
      t->blocked = true;
      return CURL_SOCKET_BAD;
    }
    return socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
  }

  static size_t on_header(char* data, size_t size, size_t n, void* userdata) {
    auto* t = static_cast<Transfer*>(userdata);
    const std::string_view line(data, size * n);
    // A new status line starts a new header block (an interim 1xx answer came
    // first): only the final response's headers count.
    if (line.starts_with("HTTP/")) {
      t->retry_after_ms.reset();
    } else if (ieq_prefix(line, "retry-after:")) {
      t->retry_after_ms = parse_retry_after(line.substr(std::strlen("retry-after:")));
    }
    return size * n;
  }

  static size_t on_body(char* data, size_t size, size_t n, void* userdata) {
    auto* t = static_cast<Transfer*>(userdata);
    const std::size_t len = size * n;
    if (t->body.size() + len > kMaxBody) {
      t->body.append(data, kMaxBody - t->body.size());
      t->truncated = true;
      return 0;  // aborts the transfer (CURLE_WRITE_ERROR)
    }
    t->body.append(data, len);
    return len;
  }

  void finish(CURL* easy, CURLcode result) {
    auto it = active.find(easy);
    if (it == active.end()) return;
    TransferPtr t = std::move(it->second);
    active.erase(it);
    curl_multi_remove_handle(multi, easy);
    release(t->origin);

    long code = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
    PushResponse r;
    if (result == CURLE_OK || (result == CURLE_WRITE_ERROR && t->truncated && code > 0)) {
      r.status = static_cast<int>(code);
      r.body = std::move(t->body);
      r.retry_after_ms = t->retry_after_ms;
    } else if (t->blocked) {
      r.error = "blocked address";
    } else {
      r.error = t->errbuf[0] != '\0' ? std::string(t->errbuf) : curl_easy_strerror(result);
    }
    complete(*t, std::move(r));
  }

  void release(const std::string& name) {
    auto it = origins.find(name);
    if (it == origins.end()) return;
    Origin& o = it->second;
    --o.active;
    if (o.active == 0 && o.queue.empty()) {
      origins.erase(it);
      return;
    }
    mark_ready(o, name);
  }

  void complete(Transfer& t, PushResponse r) {
    try {
      t.done(std::move(r));
    } catch (...) {
      // A callback must not throw; if one does, the sender thread survives it.
    }
    pending.fetch_sub(1);
  }

  // The thread's last act: everything not yet answered is answered "shutdown".
  void shutdown() {
    for (auto& [easy, t] : active)
      curl_multi_remove_handle(multi, easy);
    std::vector<TransferPtr> left;
    for (auto& [easy, t] : active)
      left.push_back(std::move(t));
    active.clear();
    for (auto& [name, o] : origins)
      for (auto& t : o.queue)
        left.push_back(std::move(t));
    origins.clear();
    ready.clear();
    {
      std::lock_guard lock(mu);
      for (auto& t : submitted)
        left.push_back(std::move(t));
      submitted.clear();
      closed = true;
    }
    for (auto& t : left) {
      PushResponse r;
      r.error = "shutdown";
      complete(*t, std::move(r));
    }
  }
};

HttpSender::HttpSender(HttpSenderConfig config)
    : impl_(std::make_unique<Impl>(std::move(config))) {}

HttpSender::~HttpSender() = default;

void HttpSender::submit(OutgoingRequest req, std::function<void(PushResponse)> done) {
  impl_->submit(std::move(req), std::move(done));
}

std::size_t HttpSender::in_flight() const {
  return impl_->pending.load();
}

bool HttpSender::is_public_address(const std::string& ip) {
  std::array<std::uint8_t, 16> buf{};
  if (inet_pton(AF_INET, ip.c_str(), buf.data()) == 1) return public_v4(buf.data());
  if (inet_pton(AF_INET6, ip.c_str(), buf.data()) == 1) return public_v6(buf.data());
  return false;  // not an address (a name, a zone id, garbage): never trusted
}

}  // namespace chat::push

// Shared helpers for the unit tests: a temp dir that removes itself, a fake
// clock, a recording SMS gateway, a way to wait (with a timeout) for callbacks
// that complete on the writer thread, and a fixture that runs a real ChatCore
// over a real RocksDB store.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>
#include <boost/json.hpp>

#include "base/clock.hpp"
#include "base/result.hpp"
#include "core/chat_core.hpp"
#include "core/sms_gateway.hpp"
#include "proto/render.hpp"
#include "store/rocks/rocks_store.hpp"
#include "test_json.hpp"

namespace chat::test {

inline constexpr auto kWaitTimeout = std::chrono::seconds(20);

// Where temp dirs go: $CHAT_TEST_TMPDIR, else /dev/shm (tmpfs: fsync costs
// nothing, so the suite's speed does not depend on the disk or its load), else
// the system temp dir.
inline std::filesystem::path temp_root() {
  if (const char* env = std::getenv("CHAT_TEST_TMPDIR"); env && *env) return env;
  std::error_code ec;
  if (std::filesystem::is_directory("/dev/shm", ec) && ::access("/dev/shm", W_OK) == 0) {
    return "/dev/shm";
  }
  return std::filesystem::temp_directory_path();
}

// A fresh, empty directory under temp_root(); removed on destruction.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = "chatd-unit-";
    if (info) name += std::string(info->test_suite_name()) + "-" + info->name() + "-";
    name += std::to_string(::getpid()) + "-" + std::to_string(counter++);
    for (char& c : name) {
      if (c == '/') c = '_';
    }
    path_ = temp_root() / name;
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string path() const { return path_.string(); }
  std::string sub(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

class FakeClock final : public Clock {
 public:
  explicit FakeClock(std::int64_t start_ms = 1'764'000'000'000) : now_(start_ms) {}
  std::int64_t now_ms() const override { return now_.load(); }
  void set(std::int64_t ms) { now_.store(ms); }
  void advance(std::int64_t ms) { now_.fetch_add(ms); }

 private:
  std::atomic<std::int64_t> now_;
};

class RecordingSms final : public core::SmsGateway {
 public:
  struct Sent {
    std::string phone, code;
  };
  void send_code(const std::string& phone, const std::string& code) override {
    std::lock_guard lock(mutex_);
    sent_.push_back({phone, code});
  }
  std::vector<Sent> sent() const {
    std::lock_guard lock(mutex_);
    return sent_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<Sent> sent_;
};

// A LiveHub listener that records what it is given.
class RecordingListener final : public core::EventListener {
 public:
  explicit RecordingListener(std::string device_id) : device_id_(std::move(device_id)) {}
  void on_event(const core::EventFrame& frame) override {
    std::lock_guard lock(mutex_);
    frames_.push_back(frame);
  }
  void on_revoked() override { revoked_.store(true); }
  const std::string& device_id() const override { return device_id_; }

  std::vector<core::EventFrame> frames() const {
    std::lock_guard lock(mutex_);
    return frames_;
  }
  bool revoked() const { return revoked_.load(); }

 private:
  const std::string device_id_;
  mutable std::mutex mutex_;
  std::vector<core::EventFrame> frames_;
  std::atomic<bool> revoked_{false};
};

// Waits for `f`; throws (which GoogleTest reports as a failure) on timeout.
template <class T>
T wait_ready(std::future<T>& f) {
  if (f.wait_for(kWaitTimeout) != std::future_status::ready) {
    throw std::runtime_error("timed out waiting for a completion");
  }
  return f.get();
}

// A one-shot callback that fulfils a future. A second call is a test failure
// (every completion must run exactly once), never a crash.
template <class T>
struct Waiter {
  std::shared_ptr<std::promise<T>> promise = std::make_shared<std::promise<T>>();
  std::shared_ptr<std::atomic<int>> calls = std::make_shared<std::atomic<int>>(0);
  std::future<T> future = promise->get_future();

  std::function<void(T)> callback() {
    return [p = promise, c = calls](T v) {
      if (c->fetch_add(1) != 0) {
        ADD_FAILURE() << "completion called more than once";
        return;
      }
      p->set_value(std::move(v));
    };
  }
  T get() { return wait_ready(future); }
};

// Runs `start(callback)` and waits for the callback's argument.
template <class T, class Start>
T await(Start&& start) {
  Waiter<T> w;
  start(w.callback());
  return w.get();
}

inline std::string error_text(const Error& e) {
  return std::string(code_name(e.code)) + ": " + e.message;
}

// A real ChatCore over a real RocksDB store in a fresh temp dir.
class DomainTest : public ::testing::Test {
 protected:
  DomainTest() { config_.dev_mode = true; }

  void SetUp() override { open(); }
  void TearDown() override { close(); }

  void open() {
    core_ = std::make_unique<core::ChatCore>(store::open_rocks_store(dir_.sub("db")),
                                             store::Durability::sync, config_, sms_, clock_);
  }
  // Shuts the core down as chatd does: stop() (commit and complete everything
  // pending), then destroy (closes the store).
  void close() {
    if (!core_) return;
    core_->stop();
    core_.reset();
  }
  // Closes the store and starts a new ChatCore on the same data dir.
  void reopen() {
    close();
    open();
  }

  core::ChatCore& core() { return *core_; }

  struct Account {
    core::Principal who;
    std::string token;
  };

  std::string next_phone() { return "+1555" + std::to_string(1'000'000 + phone_counter_++); }

  // request_otp (dev mode) + verify; fails the test on any error.
  Account sign_in(const std::string& phone, const std::string& device_name = "phone") {
    auto issued = core().accounts().request_otp(phone);
    if (!issued) throw std::runtime_error("request_otp: " + error_text(issued.error()));
    if (!issued->dev_code) throw std::runtime_error("no dev_code in dev mode");
    auto signed_in = await<Result<core::SignedIn>>([&](auto cb) {
      core().accounts().verify({phone, *issued->dev_code, device_name}, std::move(cb));
    });
    if (!signed_in) throw std::runtime_error("verify: " + error_text(signed_in.error()));
    auto who = core().accounts().authenticate(signed_in->token);
    if (!who) throw std::runtime_error("authenticate: " + error_text(who.error()));
    return {*who, signed_in->token};
  }
  core::Principal new_user() { return sign_in(next_phone()).who; }

  Result<core::ChatView> create_direct(const core::Principal& who, const std::string& peer) {
    proto::CreateChatRequest req;
    req.peer = peer;
    return await<Result<core::ChatView>>(
        [&](auto cb) { core().chats().create(who, req, std::move(cb)); });
  }
  Result<core::ChatView> create_group(const core::Principal& who, const std::string& title,
                                      std::vector<std::string> members) {
    proto::CreateChatRequest req;
    req.group = true;
    req.title = title;
    req.members = std::move(members);
    return await<Result<core::ChatView>>(
        [&](auto cb) { core().chats().create(who, req, std::move(cb)); });
  }
  // Creates a chat and returns its id, failing loudly on error.
  std::string group_id(const core::Principal& who, std::vector<std::string> members) {
    auto r = create_group(who, "group", std::move(members));
    if (!r) throw std::runtime_error("create group: " + error_text(r.error()));
    return r->chat_id;
  }

  proto::SendRequest text(const std::string& chat_id, const std::string& client_msg_id,
                          const std::string& body) {
    proto::SendRequest req;
    req.chat_id = chat_id;
    req.client_msg_id = client_msg_id;
    req.body = body;
    return req;
  }
  Result<core::SendOutcome> send(const core::Principal& who, const proto::SendRequest& req) {
    return await<Result<core::SendOutcome>>(
        [&](auto cb) { core().send().send(who, req, std::move(cb)); });
  }
  std::uint64_t send_ok(const core::Principal& who, const std::string& chat_id,
                        const std::string& body) {
    auto r = send(who, text(chat_id, "cm-" + std::to_string(cmid_counter_++), body));
    if (!r) throw std::runtime_error("send: " + error_text(r.error()));
    return r->seq;
  }

  Status ack(const core::Principal& who, std::uint64_t offset) {
    return await<Status>([&](auto cb) { core().events().ack(who, offset, std::move(cb)); });
  }

  // The committed events of `user_id` after `after`, parsed.
  std::vector<boost::json::object> events_of(const std::string& user_id, std::uint64_t after = 0) {
    std::vector<boost::json::object> out;
    for (const auto& frame : core().events().read(user_id, after, 100'000).frames) {
      out.push_back(parse_json_object(proto::event_frame(frame.offset, *frame.tail)));
    }
    return out;
  }

  core::CoreConfig config_;
  TempDir dir_;
  FakeClock clock_;
  RecordingSms sms_;
  std::unique_ptr<core::ChatCore> core_;
  int phone_counter_ = 0;
  int cmid_counter_ = 0;
};

}  // namespace chat::test

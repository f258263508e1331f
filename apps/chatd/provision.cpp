#include "provision.hpp"

#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <future>
#include <mutex>

#include "core/chat_core.hpp"
#include "net/webhook_sms_gateway.hpp"
#include "store/rocks/rocks_store.hpp"

namespace chat::app {
namespace json = boost::json;
namespace {

// Waits for `n` asynchronous completions.
class Countdown {
 public:
  explicit Countdown(std::size_t n) : left_(n) {
    if (n == 0) done_.set_value();
  }
  void tick() {
    if (left_.fetch_sub(1) == 1) done_.set_value();
  }
  void wait() { done_.get_future().wait(); }

 private:
  std::atomic<std::size_t> left_;
  std::promise<void> done_;
};

std::string phone_of(std::size_t i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "+1999%08zu", i);
  return buf;
}

}  // namespace

int provision(const Options& options) {
  const auto started = std::chrono::steady_clock::now();
  const std::size_t n = options.provision_users;
  net::LogSmsGateway sms;
  SystemClock clock;
  core::ChatCore core(store::open_rocks_store(options.data_dir), store::Durability::batch,
                      options.core, sms, clock);
  std::ofstream out(options.provision_out);
  if (!out) {
    std::fprintf(stderr, "chatd: cannot write %s\n", options.provision_out.c_str());
    return 1;
  }

  std::vector<core::SignedIn> users(n);
  std::atomic<bool> failed{false};
  {
    Countdown pending(n);
    for (std::size_t i = 0; i < n; ++i) {
      core.accounts().provision(phone_of(i), "bench", [&, i](Result<core::SignedIn> r) {
        if (r) {
          users[i] = std::move(*r);
        } else {
          failed = true;
        }
        pending.tick();
      });
    }
    pending.wait();
  }
  if (failed) {
    std::fprintf(stderr, "chatd: provisioning users failed\n");
    return 1;
  }
  for (std::size_t i = 0; i < n; ++i) {
    out << json::serialize(json::object{{"i", i},
                                        {"user_id", users[i].user_id},
                                        {"device_id", users[i].device_id},
                                        {"token", users[i].token}})
        << '\n';
  }

  auto principal = [&](std::size_t i) {
    return core::Principal{users[i].user_id, users[i].device_id, {}};
  };
  std::mutex out_mutex;
  auto record_chat = [&](const Result<core::ChatView>& r, json::object line) {
    if (!r) return void(failed = true);
    line["chat_id"] = r->chat_id;
    std::lock_guard lock(out_mutex);
    out << json::serialize(line) << '\n';
  };
  const std::size_t g = options.provision_group_size;
  const std::size_t groups = g >= 2 ? n / g : 0;
  {
    Countdown pending(n / 2 + groups);
    for (std::size_t i = 0; i + 1 < n; i += 2) {
      proto::CreateChatRequest req;
      req.peer = users[i + 1].user_id;
      core.chats().create(principal(i), req, [&, i](Result<core::ChatView> r) {
        record_chat(r, json::object{{"direct", json::array{i, i + 1}}});
        pending.tick();
      });
    }
    for (std::size_t k = 0; k < groups; ++k) {
      proto::CreateChatRequest req;
      req.group = true;
      req.title = "bench group " + std::to_string(k);
      json::array members;
      for (std::size_t j = k * g; j < (k + 1) * g; ++j) {
        members.push_back(j);
        if (j != k * g) req.members.push_back(users[j].user_id);
      }
      core.chats().create(principal(k * g), req,
                          [&, members = std::move(members)](Result<core::ChatView> r) {
                            record_chat(r, json::object{{"group", members}});
                            pending.tick();
                          });
    }
    pending.wait();
  }
  core.stop();
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("chatd: provisioned %zu users, %zu direct chats, %zu groups of %zu in %.1f s -> %s\n",
              n, n / 2, groups, g, secs, options.provision_out.c_str());
  return failed ? 1 : 0;
}

}  // namespace chat::app

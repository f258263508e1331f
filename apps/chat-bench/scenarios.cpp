#include "scenarios.hpp"

#include <cstdio>
#include <stdexcept>
#include <thread>

#include "client/http_client.hpp"

namespace chat::bench {
namespace {

std::uint64_t secs_ns(double s) {
  return static_cast<std::uint64_t>(s * 1e9);
}

template <class T>
std::vector<T> slice(const std::vector<T>& all, std::size_t offset, std::size_t count,
                     const char* what) {
  if (offset + count > all.size()) {
    throw std::runtime_error("fixtures hold " + std::to_string(all.size()) + " " + what +
                             ", need " + std::to_string(offset + count) +
                             " (provision more with chatd --provision-users)");
  }
  return {all.begin() + static_cast<long>(offset), all.begin() + static_cast<long>(offset + count)};
}

// Runs `senders` at `rate` msg/s in total (each gets an equal share, staggered
// so they do not all fire on the same tick), warm-up then measurement.
RunInfo run_schedule(Driver& d, std::vector<Sender> senders, const ScenarioOptions& o,
                     std::uint64_t start_ns, RunInfo info) {
  const double per_sender = o.rate / static_cast<double>(std::max<std::size_t>(1, senders.size()));
  const auto interval = static_cast<std::uint64_t>(1e9 / std::max(per_sender, 1e-3));
  for (std::size_t i = 0; i < senders.size(); ++i) {
    senders[i].interval_ns = interval;
    senders[i].next_due_ns = start_ns + interval * i / senders.size();
  }
  info.offered_rate = o.rate;
  info.server_before = sample_server(o.server_pid);
  d.run(std::move(senders), start_ns + secs_ns(o.warmup_s + o.duration_s));
  info.server_after = sample_server(o.server_pid);
  info.measured_s = o.duration_s;
  return info;
}

}  // namespace

// chatd_heap_in_use_bytes from /metrics (0 if unavailable).
double server_heap_bytes(const ScenarioOptions& o) {
  try {
    client::HttpClient http(o.host, o.port);
    const auto body = http.get("/metrics").body;
    const std::string key = "\nchatd_heap_in_use_bytes ";
    const auto at = body.find(key);
    return at == std::string::npos ? 0 : std::stod(body.substr(at + key.size()));
  } catch (const std::exception&) {
    return 0;
  }
}

void wait_for_quiet_server(const ScenarioOptions& o) {
  for (int i = 0; i < 60; ++i) {
    const double before = sample_server(o.server_pid).cpu_s;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    if (sample_server(o.server_pid).cpu_s - before < 0.01) return;
  }
}

RunInfo run_connect(Driver& d, const Fixtures& f, const ScenarioOptions& o) {
  std::vector<std::size_t> users(o.count);
  for (std::size_t i = 0; i < o.count; ++i)
    users[i] = o.user_offset + i;
  slice(f.users, o.user_offset, o.count, "users");
  // A first round warms the server's caches with these users' data (their
  // streams are replayed on connect), so the second round measures what a
  // connection itself costs.
  d.connect(f, users, 0);
  wait_for_quiet_server(o);
  d.close_all();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  wait_for_quiet_server(o);
  const double heap_before = server_heap_bytes(o);
  RunInfo info{.scenario = "connect"};
  info.server_before = sample_server(o.server_pid);
  const auto t0 = now_ns();
  auto conns = d.connect(f, users, 0);
  const double connect_s = static_cast<double>(now_ns() - t0) / 1e9;
  // Let the server finish the connections' catch-up (their streams' replay)
  // before measuring what idle sockets cost: wait until it uses < 2 % of a core.
  wait_for_quiet_server(o);
  const double heap_after = server_heap_bytes(o);
  const ServerSample settled = sample_server(o.server_pid);
  const ServerSample cpu_from = settled;
  d.run({}, now_ns() + secs_ns(o.duration_s));  // hold, with heartbeats
  info.server_after = sample_server(o.server_pid);
  info.measured_s = o.duration_s;
  std::size_t ready = 0;
  for (const auto& c : conns)
    ready += c != nullptr;
  const double rss_delta_kb =
      static_cast<double>(settled.rss_kb) - static_cast<double>(info.server_before.rss_kb);
  info.extra = {
      {"connect_s", connect_s},
      {"connects_per_s", static_cast<double>(ready) / std::max(connect_s, 1e-9)},
      {"ready", ready},
      {"rss_per_connection_bytes", ready ? rss_delta_kb * 1024 / static_cast<double>(ready) : 0.0},
      {"heap_delta_bytes", heap_after - heap_before},
      {"heap_per_connection_bytes",
       ready ? (heap_after - heap_before) / static_cast<double>(ready) : 0.0},
      {"tcp_mem_per_connection_bytes", ready
                                           ? (static_cast<double>(settled.tcp_mem_kb) -
                                              static_cast<double>(info.server_before.tcp_mem_kb)) *
                                                 1024 / static_cast<double>(ready)
                                           : 0.0},
      {"hold_cpu_s", info.server_after.cpu_s - cpu_from.cpu_s}};
  info.server_before = cpu_from;  // CPU of the hold period (heartbeats), not the connects
  return info;
}

RunInfo run_direct(Driver& d, const Fixtures& f, const ScenarioOptions& o) {
  const auto pairs = slice(f.direct, o.user_offset / 2, o.count, "direct chats");
  std::vector<std::size_t> users;
  for (const auto& p : pairs)
    users.insert(users.end(), p.members.begin(), p.members.end());
  const std::uint64_t start = now_ns() + secs_ns(0.2);
  auto conns = d.connect(f, users, start + secs_ns(o.warmup_s));
  std::vector<Sender> senders;
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    for (std::size_t side = 0; side < 2; ++side) {
      if (auto& c = conns[2 * i + side]) senders.push_back({c, pairs[i].chat_id, 0, 0});
    }
  }
  RunInfo info{.scenario = "direct"};
  info.extra = {{"pairs", pairs.size()}, {"recipients_per_message", 1}};
  return run_schedule(d, std::move(senders), o, std::max(start, now_ns()), std::move(info));
}

RunInfo run_group(Driver& d, const Fixtures& f, const ScenarioOptions& o) {
  const auto groups = slice(f.groups, 0, o.count, "groups");
  std::vector<std::size_t> users;
  for (const auto& g : groups)
    users.insert(users.end(), g.members.begin(), g.members.end());
  const std::uint64_t start = now_ns() + secs_ns(0.2);
  auto conns = d.connect(f, users, start + secs_ns(o.warmup_s));
  std::vector<Sender> senders;
  std::size_t at = 0;
  for (const auto& g : groups) {
    if (auto& c = conns[at]) senders.push_back({c, g.chat_id, 0, 0});  // the first member sends
    at += g.members.size();
  }
  const std::size_t size = groups.empty() ? 0 : groups.front().members.size();
  RunInfo info{.scenario = "group"};
  info.extra = {{"groups", groups.size()},
                {"group_size", size},
                {"recipients_per_message", size ? size - 1 : 0}};
  return run_schedule(d, std::move(senders), o, std::max(start, now_ns()), std::move(info));
}

RunInfo run_storm(Driver& d, const Fixtures& f, const ScenarioOptions& o) {
  const auto pairs = slice(f.direct, o.user_offset / 2, o.count, "direct chats");
  // 1. One side of each pair sends the backlog while the other side is away.
  std::vector<std::size_t> senders_idx, receivers_idx;
  for (const auto& p : pairs) {
    senders_idx.push_back(p.members[0]);
    receivers_idx.push_back(p.members[1]);
  }
  auto senders = d.connect(f, senders_idx, 0);
  const std::uint64_t before = d.total(&ThreadStats::acked);
  for (std::size_t round = 0; round < o.backlog && !d.stopping(); ++round) {
    std::vector<Sender> once;
    const std::uint64_t now = now_ns();
    for (std::size_t i = 0; i < pairs.size(); ++i) {
      // Due now, and next in an hour: one message per sender per round.
      if (senders[i]) once.push_back({senders[i], pairs[i].chat_id, 3'600'000'000'000ull, now});
    }
    d.run(std::move(once), now + 50'000'000);  // long enough for every thread's first tick
    d.wait_until(
        [&] { return d.total(&ThreadStats::acked) - before >= (round + 1) * pairs.size(); },
        std::chrono::seconds(30));
  }
  d.close_all();
  // 2. Every receiver reconnects at once and catches up from its cursor.
  RunInfo info{.scenario = "storm"};
  info.server_before = sample_server(o.server_pid);
  const auto t0 = now_ns();
  auto receivers = d.connect(f, receivers_idx, ~0ull);
  const bool caught_up = d.wait_until(
      [&] {
        for (std::size_t i = 0; i < receivers.size(); ++i) {
          if (receivers[i] && receivers[i]->message_events() < o.backlog) return false;
        }
        return true;
      },
      std::chrono::seconds(120));
  const double secs = static_cast<double>(now_ns() - t0) / 1e9;
  info.server_after = sample_server(o.server_pid);
  info.measured_s = secs;
  info.extra = {
      {"devices", receivers.size()},
      {"backlog", o.backlog},
      {"caught_up", caught_up},
      {"catch_up_s", secs},
      {"events_per_s", static_cast<double>(o.backlog * receivers.size()) / std::max(secs, 1e-9)}};
  return info;
}

RunInfo run_history(Driver& d, const Fixtures& f, const ScenarioOptions& o) {
  // Seed: 200 messages in each of the first `count` direct chats, then page.
  const auto pairs = slice(f.direct, o.user_offset / 2, o.count, "direct chats");
  std::vector<std::size_t> users;
  for (const auto& p : pairs)
    users.push_back(p.members[0]);
  auto conns = d.connect(f, users, 0);
  std::vector<Sender> seed;
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    if (conns[i]) seed.push_back({conns[i], pairs[i].chat_id, 0, 0});
  }
  ScenarioOptions seeding = o;
  seeding.rate = 2000;
  seeding.warmup_s = 0;
  seeding.duration_s = 200.0 * static_cast<double>(seed.size()) / seeding.rate;
  run_schedule(d, std::move(seed), seeding, now_ns(), RunInfo{});
  d.wait_until([&] { return d.total(&ThreadStats::acked) == d.total(&ThreadStats::sent); },
               std::chrono::seconds(30));
  d.close_all();

  RunInfo info{.scenario = "history"};
  info.server_before = sample_server(o.server_pid);
  std::atomic<std::uint64_t> pages{0}, errors{0};
  const std::uint64_t until = now_ns() + secs_ns(o.duration_s);
  std::vector<std::thread> readers;
  const std::size_t threads = std::min<std::size_t>(pairs.size(), 8);
  for (std::size_t t = 0; t < threads; ++t) {
    readers.emplace_back([&, t] {
      client::HttpClient http(o.host, o.port);
      std::size_t i = t;
      while (now_ns() < until && !d.stopping()) {
        const auto& p = pairs[i++ % pairs.size()];
        const auto& token = f.users[p.members[1]].token;
        // Newest page, then one page back: what opening a chat does.
        for (const char* q : {"?limit=50", "?before=151&limit=50"}) {
          auto r = http.get("/v1/chats/" + p.chat_id + "/messages" + q, token);
          (r.status == 200 ? pages : errors)++;
        }
      }
    });
  }
  for (auto& t : readers)
    t.join();
  info.server_after = sample_server(o.server_pid);
  info.measured_s = o.duration_s;
  info.extra = {{"pages", pages.load()},
                {"pages_per_s", static_cast<double>(pages.load()) / o.duration_s},
                {"history_errors", errors.load()},
                {"readers", threads}};
  return info;
}

}  // namespace chat::bench

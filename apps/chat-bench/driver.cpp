#include "driver.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdio>
#include <future>
#include <mutex>

namespace chat::bench {

struct Driver::Worker {
  boost::asio::io_context io{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard{io.get_executor()};
  boost::asio::steady_timer tick{io};
  std::vector<std::shared_ptr<Connection>> connections;
  std::vector<Sender> senders;
  std::uint64_t until_ns = 0;
  std::size_t heartbeat_cursor = 0;
  std::size_t heartbeat_debt = 0;
  std::promise<void> finished;
};

Driver::Driver(DriverConfig config) : config_(std::move(config)) {
  for (std::size_t i = 0; i < std::max<std::size_t>(1, config_.threads); ++i) {
    workers_.push_back(std::make_unique<Worker>());
    stats_.push_back(std::make_unique<ThreadStats>());
  }
  for (auto& w : workers_)
    threads_.emplace_back([&io = w->io] { io.run(); });
}

Driver::~Driver() {
  close_all();
  for (auto& w : workers_) {
    w->guard.reset();
    w->io.stop();
  }
  for (auto& t : threads_)
    t.join();
}

std::uint64_t Driver::total(std::atomic<std::uint64_t> ThreadStats::*counter) const {
  std::uint64_t n = 0;
  for (const auto& s : stats_)
    n += load((*s).*counter);
  return n;
}

std::vector<std::shared_ptr<Connection>> Driver::connect(const Fixtures& f,
                                                         const std::vector<std::size_t>& users,
                                                         std::uint64_t measure_from_ns) {
  std::vector<std::shared_ptr<Connection>> out(users.size());
  std::atomic<std::size_t> in_flight{0}, done{0};
  const auto started = now_ns();
  for (std::size_t i = 0; i < users.size() && !stopping_; ++i) {
    while (in_flight.load() >= config_.connect_concurrency && !stopping_) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    const std::size_t t = i % workers_.size();
    ConnectionConfig c;
    c.server = config_.server;
    if (config_.source_ips > 0) {
      // 127.0.0.2, 127.0.0.3, ...: each source address has its own ~28 k ephemeral ports.
      const auto ip = 0x7f000002u + static_cast<std::uint32_t>(i % config_.source_ips);
      c.source = boost::asio::ip::address_v4(ip);
    }
    const User& u = f.users.at(users[i]);
    c.token = u.token;
    c.user_id = u.user_id;
    c.measure_from_ns = measure_from_ns;
    auto conn = std::make_shared<Connection>(workers_[t]->io, std::move(c), *stats_[t]);
    out[i] = conn;
    ++in_flight;
    boost::asio::post(workers_[t]->io, [this, conn, t, &in_flight, &done] {
      workers_[t]->connections.push_back(conn);
      conn->start([&in_flight, &done](bool) {
        --in_flight;
        ++done;
      });
    });
  }
  while (done.load() < users.size() && !stopping_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const double secs = static_cast<double>(now_ns() - started) / 1e9;
  if (config_.progress) {
    std::fprintf(stderr, "chat-bench: %zu connections in %.2f s (%.0f/s), %llu ready\n",
                 users.size(), secs, static_cast<double>(users.size()) / std::max(secs, 1e-9),
                 static_cast<unsigned long long>(total(&ThreadStats::connected)));
  }
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (out[i] && !out[i]->ready()) out[i] = nullptr;
  }
  return out;
}

void Driver::run(std::vector<Sender> senders, std::uint64_t until_ns) {
  // Hand each sender to the thread its connection lives on.
  std::vector<std::vector<Sender>> per_thread(workers_.size());
  for (auto& s : senders) {
    for (std::size_t t = 0; t < workers_.size(); ++t) {
      auto& conns = workers_[t]->connections;
      if (std::find(conns.begin(), conns.end(), s.connection) != conns.end()) {
        per_thread[t].push_back(std::move(s));
        break;
      }
    }
  }
  const std::uint64_t started = now_ns();
  std::vector<std::future<void>> finished;
  for (std::size_t t = 0; t < workers_.size(); ++t) {
    Worker& w = *workers_[t];
    w.senders = std::move(per_thread[t]);
    w.until_ns = until_ns;
    w.finished = std::promise<void>();
    finished.push_back(w.finished.get_future());
    boost::asio::post(w.io, [this, &w] {
      auto tick = std::make_shared<std::function<void()>>();
      *tick = [this, &w, tick] {
        const std::uint64_t now = now_ns();
        if (now >= w.until_ns || stopping_) {
          for (auto& c : w.connections)
            c->flush_ack();
          w.finished.set_value();
          return;
        }
        for (auto& s : w.senders) {
          while (s.next_due_ns <= now) {  // open loop: catch up with the schedule
            s.connection->send(s.chat_id, s.next_due_ns);
            s.next_due_ns += s.interval_ns;
          }
        }
        // Heartbeat a slice of the connections per 1 ms tick, so that each
        // one is pinged once per period and the pings are spread evenly.
        const std::size_t n = w.connections.size();
        const auto period = static_cast<std::size_t>(std::max<long>(1, config_.heartbeat.count()));
        w.heartbeat_debt += n;
        while (n && w.heartbeat_debt >= period) {
          w.heartbeat_debt -= period;
          w.connections[w.heartbeat_cursor++ % n]->heartbeat();
        }
        const auto ack_ns = static_cast<std::uint64_t>(config_.ack_every.count()) * 1'000'000;
        if (ack_ns && now / ack_ns != (now - 1'000'000) / ack_ns) {
          for (auto& c : w.connections)
            c->flush_ack();  // as a real app batches its acks
        }
        w.tick.expires_after(std::chrono::milliseconds(1));
        w.tick.async_wait([tick](boost::system::error_code ec) {
          if (!ec) (*tick)();
        });
      };
      (*tick)();
    });
  }
  while (std::any_of(finished.begin(), finished.end(), [](auto& f) {
    return f.wait_for(std::chrono::seconds(1)) != std::future_status::ready;
  })) {
    progress_line(started);
  }
}

bool Driver::wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (stopping_ || std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

void Driver::close_all() {
  for (auto& w : workers_) {
    std::promise<void> closed;
    auto f = closed.get_future();
    boost::asio::post(w->io, [&w = *w, &closed] {
      for (auto& c : w.connections)
        c->close();
      w.connections.clear();
      closed.set_value();
    });
    f.wait();
  }
}

void Driver::progress_line(std::uint64_t started_ns) {
  if (!config_.progress) return;
  static std::uint64_t last_sent = 0, last_delivered = 0;
  const std::uint64_t sent = total(&ThreadStats::sent), delivered = total(&ThreadStats::delivered);
  std::fprintf(
      stderr,
      "chat-bench: t=%4.0fs conns=%llu sent/s=%llu delivered/s=%llu acked=%llu errors=%llu "
      "gaps=%llu\n",
      static_cast<double>(now_ns() - started_ns) / 1e9,
      static_cast<unsigned long long>(total(&ThreadStats::connected)),
      static_cast<unsigned long long>(sent - last_sent),
      static_cast<unsigned long long>(delivered - last_delivered),
      static_cast<unsigned long long>(total(&ThreadStats::acked)),
      static_cast<unsigned long long>(total(&ThreadStats::errors)),
      static_cast<unsigned long long>(total(&ThreadStats::gaps)));
  last_sent = sent;
  last_delivered = delivered;
}

}  // namespace chat::bench

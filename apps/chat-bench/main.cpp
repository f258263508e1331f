// chat-bench: the load generator for chatd. See `chat-bench --help`,
// bench/run (the standard suite) and docs/benchmarks.md.
//
//   chat-bench <connect|direct|group|storm|history> [options]
//
// It needs fixtures made by `chatd --provision-users N [--provision-group-size G]`
// on the server's data dir (before the server starts), passed as --users.
#include <boost/asio/ip/address.hpp>
#include <boost/program_options.hpp>

#include <csignal>
#include <iostream>

#include "report.hpp"
#include "scenarios.hpp"

namespace po = boost::program_options;
using namespace chat::bench;

namespace {

Driver* g_driver = nullptr;
void on_signal(int) {
  if (g_driver) g_driver->stop();  // a clean stop: the run ends and reports what it measured
}

}  // namespace

int main(int argc, char** argv) {
  (void)process_start_ns();
  ScenarioOptions o;
  DriverConfig dc;
  std::string scenario, server = "127.0.0.1:8080", users_file = "users.jsonl", json_out;
  long heartbeat_ms = 25'000, ack_ms = 250;
  bool check = false, quiet = false;

  po::options_description desc(
      "chat-bench <connect|direct|group|storm|history> [options]\n\n"
      "  connect  hold --count idle authenticated sockets (heartbeats on) for --duration s\n"
      "  direct   --count pairs, both sides sending, --rate msg/s in total (open loop)\n"
      "  group    --count groups (size from the fixtures), one sender each, --rate msg/s\n"
      "  storm    --count devices reconnect at once, each with a --backlog to catch up on\n"
      "  history  page history of --count chats from up to 8 reader threads\n\nOptions");
  // clang-format off
  desc.add_options()
    ("help,h", "this help")
    ("scenario", po::value(&scenario), "the scenario (positional)")
    ("server", po::value(&server)->default_value(server), "chatd HOST:PORT")
    ("users", po::value(&users_file)->default_value(users_file), "fixtures from chatd --provision-users")
    ("count", po::value(&o.count)->default_value(o.count), "connections / pairs / groups / devices / chats")
    ("offset", po::value(&o.user_offset)->default_value(0), "first user index to use (split fixtures between processes)")
    ("rate", po::value(&o.rate)->default_value(o.rate), "messages per second in total (direct, group)")
    ("duration", po::value(&o.duration_s)->default_value(o.duration_s), "measured seconds")
    ("warmup", po::value(&o.warmup_s)->default_value(o.warmup_s), "seconds before measuring")
    ("backlog", po::value(&o.backlog)->default_value(o.backlog), "storm: messages waiting per device")
    ("threads", po::value(&dc.threads)->default_value(1), "generator threads (each runs many sockets)")
    ("source-ips", po::value(&dc.source_ips)->default_value(16), "bind sockets to 127.0.0.2..N+1 (0: don't bind)")
    ("heartbeat-ms", po::value(&heartbeat_ms)->default_value(heartbeat_ms), "ping period per socket")
    ("ack-ms", po::value(&ack_ms)->default_value(ack_ms), "ack period per socket (also every 256 events)")
    ("server-pid", po::value(&o.server_pid)->default_value(0), "chatd's pid for CPU/RSS (0: find a process named chatd)")
    ("json-out", po::value(&json_out), "also append the JSON result line to this file")
    ("check", po::bool_switch(&check), "exit 1 unless every sent message was acked and delivered exactly once per recipient, in order")
    ("quiet", po::bool_switch(&quiet), "no progress lines");
  // clang-format on
  po::positional_options_description pos;
  pos.add("scenario", 1);
  try {
    po::variables_map vm;
    po::store(po::command_line_parser(argc, argv).options(desc).positional(pos).run(), vm);
    po::notify(vm);
    if (vm.count("help") || scenario.empty()) {
      std::cout << desc << "\n";
      return vm.count("help") ? 0 : 2;
    }
    const auto colon = server.rfind(':');
    o.host = server.substr(0, colon);
    o.port = static_cast<unsigned short>(std::stoi(server.substr(colon + 1)));
    dc.server = {boost::asio::ip::make_address(o.host), o.port};
    dc.heartbeat = std::chrono::milliseconds(heartbeat_ms);
    dc.ack_every = std::chrono::milliseconds(ack_ms);
    dc.progress = !quiet;
    if (o.server_pid == 0) o.server_pid = find_server_pid();

    const Fixtures fixtures = load_fixtures(users_file);
    Driver driver(dc);
    g_driver = &driver;
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);

    RunInfo info;
    if (scenario == "connect") {
      info = run_connect(driver, fixtures, o);
    } else if (scenario == "direct") {
      info = run_direct(driver, fixtures, o);
    } else if (scenario == "group") {
      info = run_group(driver, fixtures, o);
    } else if (scenario == "storm") {
      info = run_storm(driver, fixtures, o);
    } else if (scenario == "history") {
      info = run_history(driver, fixtures, o);
    } else {
      std::cerr << "chat-bench: unknown scenario '" << scenario << "'\n";
      return 2;
    }
    // Let in-flight acks and deliveries land before counting.
    const std::uint64_t per_message =
        info.extra.contains("recipients_per_message")
            ? info.extra.at("recipients_per_message").to_number<std::uint64_t>()
            : 0;
    if (per_message) {
      driver.wait_until(
          [&] {
            return driver.total(&ThreadStats::acked) == driver.total(&ThreadStats::sent) &&
                   driver.total(&ThreadStats::delivered) ==
                       driver.total(&ThreadStats::acked) * per_message;
          },
          std::chrono::seconds(10));
    }
    auto report = make_report(driver, info);
    print_report(report, json_out);
    if (!check) return 0;

    const auto n = [&](const char* k) { return report.at(k).to_number<std::uint64_t>(); };
    bool ok = n("errors") == 0 && n("gaps") == 0 && n("duplicates") == 0;
    if (per_message) {
      ok = ok && n("sent") > 0 && n("acked") == n("sent") &&
           n("delivered") == n("acked") * per_message;
    }
    if (scenario == "storm") {
      ok = ok && report.at("caught_up").as_bool() && n("delivered") >= n("devices") * o.backlog;
    }
    if (scenario == "connect") ok = ok && n("ready") == o.count && n("disconnects") == 0;
    if (scenario == "history") ok = ok && n("pages") > 0 && n("history_errors") == 0;
    std::cerr << "chat-bench: check " << (ok ? "passed" : "FAILED") << "\n";
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "chat-bench: " << e.what() << "\n";
    return 2;
  }
}

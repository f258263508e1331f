#include "report.hpp"

#include <boost/json.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>

namespace chat::bench {
namespace json = boost::json;
namespace {

json::object latency(const Histogram& h) {
  return json::object{{"count", h.count()},         {"p50", h.percentile(50)},
                      {"p90", h.percentile(90)},    {"p99", h.percentile(99)},
                      {"p999", h.percentile(99.9)}, {"max", h.max()},
                      {"buckets", h.encode()}};
}

}  // namespace

json::object make_report(Driver& driver, const RunInfo& info) {
  Histogram deliver, ack;
  for (const auto& s : driver.stats()) {
    deliver.merge(s->deliver_us);
    ack.merge(s->ack_us);
  }
  const double secs = std::max(info.measured_s, 1e-9);
  json::object r{
      {"scenario", info.scenario},
      {"measured_s", info.measured_s},
      {"offered_rate", info.offered_rate},
      {"sent", driver.total(&ThreadStats::sent)},
      {"acked", driver.total(&ThreadStats::acked)},
      {"delivered", driver.total(&ThreadStats::delivered)},
      {"echoes", driver.total(&ThreadStats::echoes)},
      {"stale", driver.total(&ThreadStats::stale)},
      {"errors", driver.total(&ThreadStats::errors)},
      {"gaps", driver.total(&ThreadStats::gaps)},
      {"duplicates", driver.total(&ThreadStats::duplicates)},
      {"disconnects", driver.total(&ThreadStats::disconnects)},
      {"connections", driver.total(&ThreadStats::connected)},
      {"deliveries_per_s", static_cast<double>(deliver.count()) / secs},
      {"acks_per_s", static_cast<double>(ack.count()) / secs},
      {"deliver_us", latency(deliver)},
      {"ack_us", latency(ack)},
      {"server_cpu_s", info.server_after.cpu_s - info.server_before.cpu_s},
      {"server_rss_kb", info.server_after.rss_kb},
      {"server_rss_before_kb", info.server_before.rss_kb},
      {"tcp_mem_kb", info.server_after.tcp_mem_kb},
  };
  for (const auto& [k, v] : info.extra)
    r[k] = v;
  return r;
}

void print_report(const json::object& r, const std::string& json_out) {
  auto num = [&](const char* k) { return r.at(k).to_number<double>(); };
  auto lat = [&](const char* k) {
    const auto& o = r.at(k).as_object();
    char buf[200];
    std::snprintf(buf, sizeof buf,
                  "p50 %.2f ms  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f  (n=%.0f)",
                  o.at("p50").to_number<double>() / 1000, o.at("p90").to_number<double>() / 1000,
                  o.at("p99").to_number<double>() / 1000, o.at("p999").to_number<double>() / 1000,
                  o.at("max").to_number<double>() / 1000, o.at("count").to_number<double>());
    return std::string(buf);
  };
  std::fprintf(stderr,
               "\n== %s: %.1f s measured, offered %.0f msg/s\n"
               "   sent %.0f  acked %.0f  delivered %.0f  errors %.0f  gaps %.0f  dups %.0f\n"
               "   deliveries/s %.0f   acks/s %.0f\n"
               "   send->deliver %s\n"
               "   send->ack     %s\n"
               "   server: %.2f CPU s, RSS %.0f MiB (before %.0f MiB)\n",
               std::string(r.at("scenario").as_string()).c_str(), num("measured_s"),
               num("offered_rate"), num("sent"), num("acked"), num("delivered"), num("errors"),
               num("gaps"), num("duplicates"), num("deliveries_per_s"), num("acks_per_s"),
               lat("deliver_us").c_str(), lat("ack_us").c_str(), num("server_cpu_s"),
               num("server_rss_kb") / 1024, num("server_rss_before_kb") / 1024);
  const std::string line = json::serialize(r);
  std::cout << line << std::endl;
  if (!json_out.empty()) std::ofstream(json_out, std::ios::app) << line << '\n';
}

}  // namespace chat::bench

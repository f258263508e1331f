// The benchmark scenarios (see README of bench/ and docs/benchmarks.md):
//
//   connect  N idle authenticated sockets with heartbeats, held for T seconds
//   direct   P pairs, both sides sending, at a fixed total rate (open loop)
//   group    K groups of size G, one sender each, fixed total rate: fan-out
//   storm    M devices reconnect at once, each with a backlog of B messages
//   history  R reader threads paging GET .../messages
//
// Each returns what it measured; main() adds the counters and prints.
#pragma once

#include <string>

#include "driver.hpp"
#include "report.hpp"

namespace chat::bench {

struct ScenarioOptions {
  std::string host;
  unsigned short port = 8080;
  std::size_t user_offset = 0;  // first user/chat index (several processes split the fixtures)
  std::size_t count = 100;      // connections / pairs / groups / devices / readers
  double rate = 1000;           // messages per second, total (direct, group)
  double duration_s = 10;
  double warmup_s = 2;
  std::size_t backlog = 100;  // storm
  int server_pid = 0;
};

RunInfo run_connect(Driver& d, const Fixtures& f, const ScenarioOptions& o);
RunInfo run_direct(Driver& d, const Fixtures& f, const ScenarioOptions& o);
RunInfo run_group(Driver& d, const Fixtures& f, const ScenarioOptions& o);
RunInfo run_storm(Driver& d, const Fixtures& f, const ScenarioOptions& o);
RunInfo run_history(Driver& d, const Fixtures& f, const ScenarioOptions& o);

}  // namespace chat::bench

// The result of one scenario run: a human summary on stderr and one JSON
// line on stdout (and appended to --json-out), with the histograms' buckets
// so that bench/run can merge the runs of several generator processes.
#pragma once

#include <boost/json/object.hpp>

#include <string>

#include "driver.hpp"
#include "server_probe.hpp"

namespace chat::bench {

struct RunInfo {
  std::string scenario;
  double measured_s = 0;    // the measured window (after warm-up)
  double offered_rate = 0;  // messages/s the schedule offered (0: n/a)
  ServerSample server_before, server_after;
  boost::json::object extra;  // scenario-specific numbers
};

boost::json::object make_report(Driver& driver, const RunInfo& info);
void print_report(const boost::json::object& report, const std::string& json_out);

}  // namespace chat::bench

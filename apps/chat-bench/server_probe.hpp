// What the server process costs, read from /proc (same host): CPU seconds
// (user + system) and resident memory, plus the kernel's TCP memory.
#pragma once

#include <cstdint>
#include <string>

namespace chat::bench {

struct ServerSample {
  double cpu_s = 0;              // utime + stime
  std::uint64_t rss_kb = 0;      // VmRSS
  std::uint64_t tcp_mem_kb = 0;  // /proc/net/sockstat "TCP: ... mem" (pages -> KiB), host-wide
};

// 0 when no chatd process is found.
int find_server_pid();
ServerSample sample_server(int pid);

}  // namespace chat::bench

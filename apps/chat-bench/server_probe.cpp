#include "server_probe.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace chat::bench {

int find_server_pid() {
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream comm(entry.path() / "comm");
    std::string c;
    if (std::getline(comm, c) && c == "chatd") return std::stoi(name);
  }
  return 0;
}

ServerSample sample_server(int pid) {
  ServerSample s;
  if (pid > 0) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string content((std::istreambuf_iterator<char>(stat)), {});
    // Fields after the command (which may contain spaces) start after ')'.
    const auto paren = content.rfind(')');
    std::istringstream rest(paren == std::string::npos ? std::string{} : content.substr(paren + 1));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
      if (i == 14) utime = std::stoull(field);
      if (i == 15) stime = std::stoull(field);
    }
    s.cpu_s = static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line)) {
      if (line.rfind("VmRSS:", 0) == 0) s.rss_kb = std::stoull(line.substr(6));
    }
  }
  std::ifstream sockstat("/proc/net/sockstat");
  std::string line;
  while (std::getline(sockstat, line)) {
    if (line.rfind("TCP:", 0) != 0) continue;
    const auto at = line.find(" mem ");
    if (at != std::string::npos) {
      s.tcp_mem_kb =
          std::stoull(line.substr(at + 5)) * static_cast<std::uint64_t>(getpagesize()) / 1024;
    }
  }
  return s;
}

}  // namespace chat::bench

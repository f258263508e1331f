#include "fixtures.hpp"

#include <boost/json.hpp>

#include <fstream>
#include <stdexcept>

namespace chat::bench {
namespace json = boost::json;

Fixtures load_fixtures(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    throw std::runtime_error("cannot read " + path + " (make it with chatd --provision-users)");
  Fixtures f;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const json::object o = json::parse(line).as_object();
    if (o.contains("token")) {
      const auto i = static_cast<std::size_t>(o.at("i").to_number<std::uint64_t>());
      if (f.users.size() <= i) f.users.resize(i + 1);
      f.users[i] = User{json::value_to<std::string>(o.at("user_id")),
                        json::value_to<std::string>(o.at("device_id")),
                        json::value_to<std::string>(o.at("token"))};
      continue;
    }
    const bool direct = o.contains("direct");
    Chat c{json::value_to<std::string>(o.at("chat_id")), {}};
    for (const auto& m : o.at(direct ? "direct" : "group").as_array()) {
      c.members.push_back(static_cast<std::size_t>(m.to_number<std::uint64_t>()));
    }
    (direct ? f.direct : f.groups).push_back(std::move(c));
  }
  // Chats complete asynchronously during provisioning: put them in a stable order.
  auto by_first = [](const Chat& a, const Chat& b) {
    return a.members.front() < b.members.front();
  };
  std::sort(f.direct.begin(), f.direct.end(), by_first);
  std::sort(f.groups.begin(), f.groups.end(), by_first);
  return f;
}

}  // namespace chat::bench

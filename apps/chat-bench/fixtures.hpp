// The users and chats that `chatd --provision-users` created (users.jsonl).
#pragma once

#include <string>
#include <vector>

namespace chat::bench {

struct User {
  std::string user_id, device_id, token;
};
struct Chat {
  std::string chat_id;
  std::vector<std::size_t> members;  // indexes into Fixtures::users
};
struct Fixtures {
  std::vector<User> users;
  std::vector<Chat> direct;  // users 2i and 2i+1
  std::vector<Chat> groups;
};

// Throws std::runtime_error on a missing or malformed file.
Fixtures load_fixtures(const std::string& path);

}  // namespace chat::bench

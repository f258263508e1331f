// Who is calling: the device a bearer token belongs to.
#pragma once

#include <string>

namespace chat::core {

struct Principal {
  std::string user_id;
  std::string device_id;
  std::string token_hash;
};

}  // namespace chat::core

// chatd's configuration: command-line flags, CHATD_* environment variables and
// an optional config file (--config), in that order of precedence.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/config.hpp"
#include "net/media_service.hpp"
#include "net/push_service.hpp"
#include "net/server_context.hpp"
#include "store/store.hpp"

namespace chat::app {

struct Options {
  std::string listen_host = "0.0.0.0";
  unsigned short listen_port = 8080;
  std::string data_dir = "./data";
  std::size_t threads = 0;  // 0: one per core
  store::Durability durability = store::Durability::sync;
  std::string sms = "log";  // log | webhook
  std::string sms_webhook_url;
  bool compact = false;
  // Maintenance: provision bench fixtures (see provision.hpp) and exit.
  std::size_t provision_users = 0;
  std::size_t provision_group_size = 0;
  std::string provision_out = "users.jsonl";
  std::string
      web_dir;  // the web client (web/); empty: none  // maintenance: compact the data dir and exit
  core::CoreConfig core;
  net::NetConfig net;
  net::MediaServiceConfig media;  // root is <data>/media
  net::PushServiceConfig push;    // vapid key in <data>/push
};

// Parses argv (+ environment + config file). Prints help or an error and
// returns nullopt with `exit_code` set when the process should exit.
std::optional<Options> parse_options(int argc, char** argv, int& exit_code);

}  // namespace chat::app

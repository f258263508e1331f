#include "options.hpp"

#include <boost/program_options.hpp>

#include <charconv>
#include <fstream>
#include <iostream>

namespace chat::app {
namespace po = boost::program_options;
namespace {

// CHATD_DATA -> "data", CHATD_WS_IDLE_TIMEOUT_MS -> "ws-idle-timeout-ms".
std::string env_to_option(const std::string& env, const po::options_description& desc) {
  constexpr std::string_view kPrefix = "CHATD_";
  if (env.rfind(kPrefix, 0) != 0) return {};
  std::string name = env.substr(kPrefix.size());
  for (auto& c : name)
    c = c == '_' ? '-' : static_cast<char>(std::tolower(c));
  return desc.find_nothrow(name, false) ? name : std::string{};
}

bool split_listen(const std::string& listen, std::string& host, unsigned short& port) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  const std::string p = listen.substr(colon + 1);
  unsigned value = 0;
  auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
  if (ec != std::errc{} || end != p.data() + p.size() || value > 65535) return false;
  port = static_cast<unsigned short>(value);
  return true;
}

}  // namespace

std::optional<Options> parse_options(int argc, char** argv, int& exit_code) {
  Options o;
  std::string listen, durability, config_file;
  std::int64_t otp_ttl_s = 300, auth_ms = 10'000, idle_ms = 60'000;
  std::int64_t media_url_ttl_s = 3600, media_unsent_ttl_s = 86'400, media_sweep_s = 600;
  bool push_allow_private = false;
  std::string push_preview = "true";

  po::options_description desc(
      "chatd: a real-time chat server (see README.md and docs/operations.md)\n\n"
      "Every flag may also be set as an environment variable CHATD_<FLAG> (CHATD_DATA,\n"
      "CHATD_WS_IDLE_TIMEOUT_MS, ...) or as `flag = value` in the --config file.\n"
      "Precedence: flag, then environment, then config file, then the default.\n\nOptions");
  // clang-format off
  desc.add_options()
    ("help,h", "print this help and exit")
    ("config", po::value(&config_file), "read options from this file (`name = value` lines)")
    ("listen", po::value(&listen)->default_value("0.0.0.0:8080"),
     "HOST:PORT to serve HTTP and WebSocket on (port 0: any free port, printed at start)")
    ("data", po::value(&o.data_dir)->default_value("./data"), "data directory (RocksDB)")
    ("compact", po::bool_switch(&o.compact),
     "maintenance: fully compact the data dir (so overwritten data such as deleted messages "
     "leaves the disk) and exit; chatd must not be running on it")
    ("provision-users", po::value(&o.provision_users)->default_value(0),
     "maintenance: create N users with tokens (+ direct chats between users 2i and 2i+1) in "
     "the data dir for load tests, write them to --provision-out, and exit")
    ("provision-group-size", po::value(&o.provision_group_size)->default_value(0),
     "with --provision-users: also create groups of this many consecutive users")
    ("provision-out", po::value(&o.provision_out)->default_value("users.jsonl"),
     "with --provision-users: output file (contains tokens: a secret)")
    ("dev", po::bool_switch(&o.core.dev_mode),
     "development mode: OTP codes are returned in responses (never use in production)")
    ("web-dir", po::value(&o.web_dir)->default_value(CHAT_DEFAULT_WEB_DIR),
     "directory of the web client served at / (empty: no web client)")
    ("threads", po::value(&o.threads)->default_value(0), "worker threads; 0 = one per core")
    ("durability", po::value(&durability)->default_value("sync"),
     "sync: fsync before every ack (survives power loss); batch: fsync every 100 ms "
     "(survives a chatd crash, may lose the last 100 ms on power loss); none: never fsync")
    ("sms", po::value(&o.sms)->default_value("log"),
     "where OTP codes go: log (stderr) or webhook (POST {\"phone\",\"code\"} to --sms-webhook-url)")
    ("sms-webhook-url", po::value(&o.sms_webhook_url), "http:// URL for --sms webhook")
    ("otp-ttl-seconds", po::value(&otp_ttl_s)->default_value(300), "lifetime of an OTP code")
    ("ws-auth-timeout-ms", po::value(&auth_ms)->default_value(10'000),
     "close a WebSocket that has not authenticated within this time")
    ("ws-idle-timeout-ms", po::value(&idle_ms)->default_value(60'000),
     "close a WebSocket silent for this long (clients ping every 30 s)")
    ("ws-max-queued-bytes", po::value(&o.net.ws_max_queued_bytes)->default_value(4u << 20),
     "per-connection send queue bound; a client that falls this far behind is closed (1013) "
     "and resumes from its cursor")
    ("max-body-bytes", po::value(&o.core.limits.max_body_bytes)->default_value(64 * 1024),
     "largest message body; REST request bodies may be 2x this + 4 KiB (JSON escaping)")
    ("max-frame-bytes", po::value(&o.core.limits.max_frame_bytes)->default_value(1024 * 1024),
     "largest WebSocket frame (a larger one closes the socket with 1009)")
    ("max-connections", po::value(&o.net.max_connections)->default_value(0),
     "open client connections beyond which accepting pauses (clients wait in the backlog); "
     "0 = the open-files limit (raised to its hard limit at start) minus what the store needs")
    ("max-group-members", po::value(&o.core.limits.max_group_members)->default_value(1024),
     "largest group, creator included")
    ("max-media-bytes", po::value(&o.core.limits.max_media_bytes)->default_value(100ull << 20),
     "largest media upload (a larger Content-Length is refused with 413 before any byte is "
     "read; a chunked body is cut off there)")
    ("max-image-pixels", po::value(&o.media.limits.max_image_pixels)->default_value(100'000'000),
     "largest image (width x height) accepted; checked from the header, before decoding")
    ("media-url-ttl-seconds", po::value(&media_url_ttl_s)->default_value(3600),
     "how long a signed media URL (GET /v1/media/{id}/url) stays valid")
    ("media-unsent-ttl-seconds", po::value(&media_unsent_ttl_s)->default_value(86'400),
     "uploads not sent in any message within this time are removed")
    ("media-sweep-seconds", po::value(&media_sweep_s)->default_value(600),
     "the media garbage collector runs at least this often (and soon after a delete)")
    ("media-threads", po::value(&o.media.pool_threads)->default_value(2),
     "threads that sniff, probe and thumbnail uploads (never the socket threads)")
    ("push-delay-ms", po::value(&o.core.push.delay_ms)->default_value(3000),
     "a message a device has not acknowledged this long after it arrived (and that found "
     "the device offline) is pushed; several in one chat within the delay make one push")
    ("push-preview", po::value(&push_preview)->default_value("true"),
     "true: pushes carry the first 100 characters of the message; false: never (server-wide)")
    ("push-contact", po::value(&o.push.contact)->default_value("mailto:postmaster@localhost"),
     "the VAPID `sub` claim: a mailto: or https: URL where push services can reach the operator")
    ("push-allow-private", po::bool_switch(&push_allow_private),
     "allow push targets on http:// and on loopback, private and link-local addresses "
     "(always allowed with --dev); otherwise they are refused, checked at connect time")
    ("push-ca-file", po::value(&o.push.http.ca_file),
     "PEM CA file that push connections trust instead of the system's (tests, private relays)")
    ("fcm-credentials", po::value(&o.push.fcm_credentials),
     "Firebase service-account JSON file; without it `fcm` targets are refused")
    ("fcm-base-url", po::value(&o.push.fcm_base_url)->default_value("https://fcm.googleapis.com"),
     "FCM HTTP v1 API base URL")
    ("apns-key", po::value(&o.push.apns_key),
     "APNs token-auth key (.p8); without it `apns` targets are refused")
    ("apns-key-id", po::value(&o.push.apns_key_id), "the .p8 key's id (10 characters)")
    ("apns-team-id", po::value(&o.push.apns_team_id), "the Apple developer team id")
    ("apns-topic", po::value(&o.push.apns_topic),
     "default apns-topic (the app's bundle id) for targets that name none")
    ("apns-base-url", po::value(&o.push.apns_base_url)->default_value("https://api.push.apple.com"),
     "APNs provider API base URL");
  // clang-format on

  try {
    po::variables_map vm;
    po::store(po::parse_command_line(argc, argv, desc), vm);
    po::store(po::parse_environment(
                  desc, [&](const std::string& env) { return env_to_option(env, desc); }),
              vm);
    if (vm.count("help")) {
      std::cout << desc << "\n";
      exit_code = 0;
      return std::nullopt;
    }
    if (vm.count("config")) {
      std::ifstream file(vm["config"].as<std::string>());
      if (!file)
        throw std::runtime_error("cannot read config file " + vm["config"].as<std::string>());
      po::store(po::parse_config_file(file, desc), vm);
    }
    po::notify(vm);

    if (!split_listen(listen, o.listen_host, o.listen_port)) {
      throw std::runtime_error("--listen must be HOST:PORT, got '" + listen + "'");
    }
    if (durability == "sync") {
      o.durability = store::Durability::sync;
    } else if (durability == "batch") {
      o.durability = store::Durability::batch;
    } else if (durability == "none") {
      o.durability = store::Durability::none;
    } else {
      throw std::runtime_error("--durability must be sync, batch or none");
    }
    if (o.sms != "log" && o.sms != "webhook")
      throw std::runtime_error("--sms must be log or webhook");
    if (o.sms == "webhook" && o.sms_webhook_url.empty()) {
      throw std::runtime_error("--sms webhook needs --sms-webhook-url");
    }
    if (otp_ttl_s <= 0 || auth_ms <= 0 || idle_ms <= 0) {
      throw std::runtime_error("timeouts must be positive");
    }
    if (o.core.limits.max_body_bytes == 0 || o.core.limits.max_frame_bytes < 1024 ||
        o.core.limits.max_group_members < 2 || o.net.ws_max_queued_bytes < 4096) {
      throw std::runtime_error("limits too small (see --help)");
    }
    if (media_url_ttl_s <= 0 || media_unsent_ttl_s <= 0 || media_sweep_s <= 0) {
      throw std::runtime_error("media times must be positive");
    }
    if (o.core.limits.max_media_bytes == 0 || o.media.limits.max_image_pixels == 0) {
      throw std::runtime_error("media limits must be positive");
    }
    o.media.root = std::filesystem::path(o.data_dir) / "media";
    o.media.url_ttl_ms = media_url_ttl_s * 1000;
    o.media.sweep_interval = std::chrono::seconds(media_sweep_s);
    o.core.media.unsent_ttl_ms = media_unsent_ttl_s * 1000;
    if (push_preview != "true" && push_preview != "false") {
      throw std::runtime_error("--push-preview must be true or false");
    }
    if (o.core.push.delay_ms < 0) throw std::runtime_error("--push-delay-ms must be >= 0");
    if (!o.push.apns_key.empty() && (o.push.apns_key_id.empty() || o.push.apns_team_id.empty())) {
      throw std::runtime_error("--apns-key needs --apns-key-id and --apns-team-id");
    }
    o.core.push.previews = push_preview == "true";
    o.push.http.allow_private = push_allow_private || o.core.dev_mode;
    o.push.vapid_key_path = std::filesystem::path(o.data_dir) / "push" / "vapid.pem";
    o.core.otp_ttl_ms = otp_ttl_s * 1000;
    o.net.ws_auth_timeout = std::chrono::milliseconds(auth_ms);
    o.net.ws_idle_timeout = std::chrono::milliseconds(idle_ms);
    o.net.max_frame_bytes = o.core.limits.max_frame_bytes;
    o.net.max_request_bytes = 2 * o.core.limits.max_body_bytes + 4096;
    return o;
  } catch (const std::exception& e) {
    std::cerr << "chatd: " << e.what() << "\n(see chatd --help)\n";
    exit_code = 2;
    return std::nullopt;
  }
}

}  // namespace chat::app

// The domain's knobs. Defaults are PROTOCOL.md's; apps/chatd fills them from
// flags, environment and the config file (see chatd.conf.example).
#pragma once

#include <cstddef>
#include <cstdint>

namespace chat::core {

struct Limits {
  std::size_t max_body_bytes = 64 * 1024;        // a message body, and a REST request body
  std::size_t max_frame_bytes = 1024 * 1024;     // one WebSocket frame
  std::size_t max_group_members = 1024;          // including the creator
  std::uint64_t max_media_bytes = 100ull << 20;  // one media file
  std::size_t max_media_per_message = 10;
  std::size_t max_title_chars = 128;  // chat titles, user and device names
  std::size_t max_client_msg_id_chars = 64;
  std::size_t max_history_page = 200;  // `limit` above this is treated as this
  std::size_t default_history_page = 50;
};

// Media lifecycle (PROTOCOL.md, "Media"); see core/media_library.hpp.
struct MediaConfig {
  std::int64_t unsent_ttl_ms = 24ll * 3600 * 1000;  // uploads never sent are removed after this
};

// Push notifications (PROTOCOL.md, "Push notifications"); see core/push_outbox.hpp.
struct PushConfig {
  std::int64_t delay_ms = 3'000;                 // --push-delay-ms
  bool previews = true;                          // --push-preview (server-wide)
  std::int64_t give_up_ms = 24ll * 3600 * 1000;  // a row first due longer ago is dropped
  std::int64_t first_retry_ms = 1'000;           // doubled per attempt, capped at 1 h
};

struct CoreConfig {
  Limits limits;
  MediaConfig media;
  PushConfig push;
  bool dev_mode = false;                 // OTP codes in responses and the log
  std::int64_t otp_ttl_ms = 300'000;     // a code lives 5 minutes
  int otp_max_wrong_tries = 5;           // then the code is dead (429)
  int otp_max_codes_per_window = 5;      // SMS pumping guard, per phone
  std::int64_t otp_window_ms = 600'000;  // ... per 10 minutes
};

}  // namespace chat::core

// Steps shared by the conversation-state tests (receipts, unread, delete,
// reply_to, presence, typing): reading every frame of a time window, waiting
// for a frame, polling REST until a condition holds, and the shapes of the
// state events.
//
// Header-only (inline) so that the test support library stays as it is.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "fixtures.hpp"

namespace chat::test::state {

using Clock = std::chrono::steady_clock;
using Frames = std::vector<json::object>;
using Pred = std::function<bool(const json::object&)>;

inline std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline std::int64_t elapsed_ms(Clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - since).count();
}

inline std::chrono::milliseconds left_until(Clock::time_point deadline) {
  return std::max(std::chrono::milliseconds(0),
                  std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
}

// A random token no other test text contains (for erasure scans and bodies).
inline std::string unique_text(std::string_view prefix) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s(prefix);
  for (int i = 0; i < 24; ++i)
    s += kHex[rng() % 16];
  return s;
}

inline bool has_type(const json::object& f, std::string_view type) {
  const auto* t = f.if_contains("type");
  return t != nullptr && t->is_string() && t->as_string() == type;
}

inline bool is_closed_or_timeout(const json::object& f) {
  return has_type(f, "timeout") || has_type(f, "closed");
}

inline std::string str(const json::object& f, std::string_view key) {
  const auto* v = f.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

// Every frame arriving within `window` (stops early when the socket closes).
inline Frames drain(WsClient& ws, std::chrono::milliseconds window) {
  const auto deadline = Clock::now() + window;
  Frames out;
  for (;;) {
    const auto left = left_until(deadline);
    if (left.count() == 0 && ws.queued() == 0) break;
    json::object f = ws.next(left);
    if (has_type(f, "timeout")) break;
    if (has_type(f, "closed")) break;
    out.push_back(std::move(f));
  }
  return out;
}

// The frames of `frames` that satisfy `pred`.
inline Frames only(const Frames& frames, const Pred& pred) {
  Frames out;
  for (const auto& f : frames) {
    if (pred(f)) out.push_back(f);
  }
  return out;
}

// Reads frames until `pred` holds or the timeout; every frame read on the way
// (the matching one included) is appended to `seen` when given.
inline json::object wait_for(WsClient& ws, const Pred& pred, std::chrono::milliseconds timeout,
                             Frames* seen = nullptr) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    json::object f = ws.next(left_until(deadline));
    if (is_closed_or_timeout(f)) return f;
    if (seen != nullptr) seen->push_back(f);
    if (pred(f)) return f;
  }
}

// Polls `check` every `step` until it holds (true) or the timeout (false).
inline bool eventually(const std::function<bool()>& check, std::chrono::milliseconds timeout,
                       std::chrono::milliseconds step = std::chrono::milliseconds(50)) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (check()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(step);
  }
}

// ---- Event shapes -------------------------------------------------------------

inline std::int64_t offset_of(const json::object& event) {
  return client::int_field(event, "offset");
}

// A `receipt` event: what it says, for comparing lists of them.
struct Receipt {
  std::string chat_id;
  std::string user_id;
  std::string status;
  std::int64_t up_to_seq = 0;
  friend bool operator==(const Receipt&, const Receipt&) = default;
  friend std::ostream& operator<<(std::ostream& os, const Receipt& r) {
    return os << "{" << r.user_id << " " << r.status << " up_to " << r.up_to_seq << " in "
              << r.chat_id << "}";
  }
};

inline bool is_receipt(const json::object& f) {
  return has_type(f, "receipt");
}

inline Receipt receipt_of(const json::object& f) {
  return {client::string_field(f, "chat_id"), client::string_field(f, "user_id"),
          client::string_field(f, "status"), client::int_field(f, "up_to_seq")};
}

inline std::vector<Receipt> receipts_in(const Frames& frames) {
  std::vector<Receipt> out;
  for (const auto& f : frames) {
    if (is_receipt(f)) out.push_back(receipt_of(f));
  }
  return out;
}

inline Pred receipt_where(const std::string& chat_id, const std::string& user_id,
                          const std::string& status, std::int64_t up_to_seq) {
  return [=](const json::object& f) {
    return is_receipt(f) && receipt_of(f) == Receipt{chat_id, user_id, status, up_to_seq};
  };
}

inline Pred message_event_where(const std::string& chat_id, std::int64_t seq) {
  return [=](const json::object& f) { return is_message_event_of(f, chat_id) && seq_of(f) == seq; };
}

inline Pred deleted_where(const std::string& chat_id, std::int64_t seq) {
  return [=](const json::object& f) {
    return has_type(f, "deleted") && str(f, "chat_id") == chat_id && f.contains("seq") &&
           client::int_field(f, "seq") == seq;
  };
}

inline Pred presence_of(const std::string& user_id) {
  return [=](const json::object& f) {
    return has_type(f, "presence") && str(f, "user_id") == user_id;
  };
}

inline Pred typing_where(const std::string& chat_id, const std::string& user_id) {
  return [=](const json::object& f) {
    return has_type(f, "typing") && str(f, "chat_id") == chat_id && str(f, "user_id") == user_id;
  };
}

// ---- REST steps -----------------------------------------------------------------

// POST a text message; returns its seq (throws on anything but 201).
inline std::int64_t post_text(HttpClient& http, const Account& from, const std::string& chat,
                              const std::string& body) {
  auto r =
      http.post("/v1/chats/" + chat + "/messages",
                {{"client_msg_id", client::random_client_msg_id()}, {"body", body}}, from.token);
  if (r.status != 201) throw std::runtime_error("post message: " + describe(r));
  return client::int_field(r.json().as_object(), "seq");
}

// The entry of `chat` in GET /v1/chats of `who` (throws when absent).
inline json::object chat_entry(HttpClient& http, const Account& who, const std::string& chat) {
  auto r = http.get("/v1/chats", who.token);
  if (r.status != 200) throw std::runtime_error("GET /v1/chats: " + describe(r));
  const json::value r_body = r.json();
  for (const auto& c : r_body.as_object().at("chats").as_array()) {
    if (c.as_object().at("chat_id") == chat.c_str()) return c.as_object();
  }
  throw std::runtime_error("chat " + chat + " not in GET /v1/chats: " + r.body);
}

inline std::int64_t unread_of(HttpClient& http, const Account& who, const std::string& chat) {
  return client::int_field(chat_entry(http, who, chat), "unread");
}

inline HttpResponse put_status(HttpClient& http, const Account& who, const std::string& chat,
                               std::int64_t seq, const std::string& status) {
  return http.put("/v1/chats/" + chat + "/messages/" + std::to_string(seq) + "/status",
                  {{"status", status}}, who.token);
}

// GET .../receipts as user_id -> (delivered_ts, read_ts), each null or a number.
struct MemberMarks {
  json::value delivered_ts;
  json::value read_ts;
};
inline std::map<std::string, MemberMarks> receipts_of(HttpClient& http, const Account& who,
                                                      const std::string& chat, std::int64_t seq) {
  auto r =
      http.get("/v1/chats/" + chat + "/messages/" + std::to_string(seq) + "/receipts", who.token);
  if (r.status != 200) throw std::runtime_error("GET receipts: " + describe(r));
  std::map<std::string, MemberMarks> out;
  const json::value r_body = r.json();
  for (const auto& e : r_body.as_object().at("receipts").as_array()) {
    const auto& o = e.as_object();
    out[client::string_field(o, "user_id")] = {o.at("delivered_ts"), o.at("read_ts")};
  }
  return out;
}

inline HttpResponse set_privacy(HttpClient& http, const Account& who, const std::string& setting) {
  return http.patch("/v1/me", {{"last_seen_privacy", setting}}, who.token);
}

// GET /v1/presence for the given users, as user_id -> entry.
inline std::map<std::string, json::object> rest_presence(HttpClient& http, const Account& viewer,
                                                         const std::vector<std::string>& ids) {
  std::string list;
  for (const auto& id : ids)
    list += (list.empty() ? "" : ",") + id;
  auto r = http.get("/v1/presence?user_ids=" + list, viewer.token);
  if (r.status != 200) throw std::runtime_error("GET /v1/presence: " + describe(r));
  std::map<std::string, json::object> out;
  const json::value r_body = r.json();
  for (const auto& e : r_body.as_object().at("presence").as_array()) {
    out[client::string_field(e.as_object(), "user_id")] = e.as_object();
  }
  return out;
}

// ---- WebSocket steps -------------------------------------------------------------

// Reads until the `message` event of (chat, seq) arrives and returns its offset
// (throws when it does not arrive in time).
inline std::int64_t offset_of_message(
    WsClient& ws, const std::string& chat, std::int64_t seq,
    std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  auto f = wait_for(ws, message_event_where(chat, seq), timeout);
  if (!is_message_event_of(f, chat)) {
    throw std::runtime_error("message " + chat + "/" + std::to_string(seq) +
                             " did not arrive: " + json::serialize(f));
  }
  return offset_of(f);
}

inline json::object ws_read(WsClient& ws, const std::string& chat, std::int64_t seq) {
  return ws.call({{"type", "read"}, {"chat_id", chat}, {"seq", seq}});
}

inline json::object ws_ack(WsClient& ws, std::int64_t offset) {
  return ws.call({{"type", "ack"}, {"offset", offset}});
}

// ---- The server binary --------------------------------------------------------

// chatd, built next to the test executables (build/apps/chatd/chatd next to
// build/tests/integration/it_*). CHATD_BIN overrides.
inline std::string chatd_binary() {
  if (const char* env = std::getenv("CHATD_BIN"); env != nullptr && *env != '\0') return env;
  const auto self = std::filesystem::canonical("/proc/self/exe");
  return (self.parent_path() / ".." / ".." / "apps" / "chatd" / "chatd")
      .lexically_normal()
      .string();
}

}  // namespace chat::test::state

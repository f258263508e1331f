// A blocking WebSocket client for tests and tools.
//
// One socket, used by one thread. The client always keeps one read pending, but
// runs its private io_context only inside its own calls: frames that arrive
// while a call is running (even send_text) are queued in arrival order and
// handed out by the next read. A client nobody calls reads nothing, which is
// what a slow-consumer test needs (the kernel buffers fill, then the server's).
//
// Reads return a status, not an exception: a timeout and the server closing the
// socket are ordinary outcomes a test asserts on (close_code() tells 1008 from
// 1009 from 1013).
//
// Beast lives in ws_client.cpp only (pimpl).
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace chat::client {

enum class WsStatus : std::uint8_t {
  frame,    // a data frame arrived (text or binary)
  timeout,  // nothing arrived in time; the socket is still open
  closed,   // the socket is closed: see close_code() / close_reason()
};

struct WsFrame {
  WsStatus status = WsStatus::timeout;
  std::string data;
  bool binary = false;
};

class WsClient {
 public:
  using Millis = std::chrono::milliseconds;
  static constexpr Millis kDefaultTimeout{10'000};

  // Close code recorded when the socket ended without a close frame (reset, EOF).
  static constexpr int kAbnormalClosure = 1006;

  WsClient();
  ~WsClient();  // drops the socket without a close handshake when still open
  WsClient(WsClient&&) noexcept;
  WsClient& operator=(WsClient&&) noexcept;

  // Caps the kernel's receive buffer of the next connect() (SO_RCVBUF; 0, the
  // default, leaves Linux's autotuning on). A slow-consumer test sets it small
  // so the server's send queue, not the kernel, absorbs what the client leaves unread.
  void set_receive_buffer(int bytes);

  // Opens the socket and does the upgrade. Returns the HTTP status of the
  // upgrade answer: 101 when connected, the server's status when it refused
  // (e.g. 401 for a bad bearer header), 0 when no answer arrived in time.
  // `bearer` (when not empty) goes in an `Authorization: Bearer` header.
  int connect(std::string_view host, std::uint16_t port, std::string_view target = "/v1/ws",
              std::string_view bearer = {}, Millis timeout = kDefaultTimeout);

  // Sends one frame (never fragmented). False when the socket is closed or the
  // write failed or timed out (the socket is then closed).
  bool send_text(std::string_view text, Millis timeout = kDefaultTimeout);
  bool send_binary(std::string_view bytes, Millis timeout = kDefaultTimeout);
  bool send_json(const boost::json::value& frame, Millis timeout = kDefaultTimeout);

  // Writes `bytes` verbatim to the TCP connection, beneath the WebSocket
  // framing, for malformed and oversized frame tests (see encode_frame). A
  // failure here leaves the pending read alone, so a close frame the server
  // sent in answer is still read.
  bool send_raw(std::string_view bytes, Millis timeout = kDefaultTimeout);
  // One client frame (FIN set, masked with a zero key, so the payload goes
  // out unchanged): opcode 1 text, 2 binary, 8 close, 9 ping.
  static std::string encode_frame(int opcode, std::string_view payload);

  // Sends a WebSocket ping frame and waits for its pong (frames arriving
  // meanwhile are queued). False on timeout or close.
  bool ping(Millis timeout = kDefaultTimeout);

  // The next data frame, or timeout / closed. Queued frames come first, so the
  // frames sent before a close are all read before `closed` is reported.
  WsFrame read_frame(Millis timeout = kDefaultTimeout);
  // The next text frame; nullopt on timeout or close (binary frames are skipped).
  std::optional<std::string> read(Millis timeout = kDefaultTimeout);

  // The next frame parsed as a JSON object. Outcomes that are not a server
  // frame come back as client-made objects so a failing assertion prints them:
  // {"type":"timeout"}, {"type":"closed","code":N,"reason":"..."},
  // {"type":"unparseable","raw":"..."}.
  boost::json::object next(Millis timeout = kDefaultTimeout);
  // The next frame for which `match` holds; frames before it are discarded.
  // Timeout and close come back as in next().
  boost::json::object next_where(const std::function<bool(const boost::json::object&)>& match,
                                 Millis timeout = kDefaultTimeout);
  // The next frame of that `type` ("message", "chat", ...), discarding others.
  boost::json::object next_of_type(std::string_view type, Millis timeout = kDefaultTimeout);

  // A request/reply round trip: gives `request` an "id" when it has none, sends
  // it and returns the reply echoing that id (`ok`, `error`, `pong`; events
  // never carry an id). Frames that arrive
  // first (events) stay queued, in order, for the following reads. Timeout and
  // close come back as in next().
  boost::json::object call(boost::json::object request, Millis timeout = kDefaultTimeout);

  // Starts the close handshake with `code` and waits for the server's answer.
  void close(int code = 1000, Millis timeout = Millis{5'000});

  bool is_open() const;
  // Valid once closed: the code of the server's close frame, or kAbnormalClosure.
  int close_code() const;
  const std::string& close_reason() const;
  // Frames received and not yet handed out.
  std::size_t queued() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace chat::client

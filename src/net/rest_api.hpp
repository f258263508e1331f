// The REST API (PROTOCOL.md): a table of routes, each a small handler that
// parses the body (proto/), calls the domain (core/) and renders the answer.
//
// Handlers may complete asynchronously: writes finish on the storage writer
// thread after their fsync, long polls when an event arrives. Every handler
// completes its call exactly once; `Respond` takes care of getting back to
// the connection's thread.
#pragma once

#include <boost/asio/io_context.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "core/chat_core.hpp"
#include "net/http_types.hpp"
#include "net/media_service.hpp"
#include "net/metrics.hpp"
#include "net/push_service.hpp"
#include "net/static_files.hpp"

namespace chat::net {

struct RestCall {
  HttpRequest req;
  std::vector<std::string> params;  // the {placeholders} of the route, in order
  core::Principal who;              // for authenticated routes
  Respond respond;
  boost::asio::io_context* io = nullptr;  // the connection's thread (long polls wait on it)
};

class RestApi {
 public:
  RestApi(core::ChatCore& core, Metrics& metrics, const StaticFiles& web, MediaService& media,
          PushService& push)
      : core_(core), metrics_(metrics), web_(web), media_(media), push_(push) {}

  void handle(HttpRequest req, boost::asio::io_context& io, Respond respond);

  // Shared by the WebSocket and long-poll paths.
  HttpResponse error(const Error& e);

 private:
  using Handler = void (RestApi::*)(RestCall&);
  struct Route {
    std::string_view method;
    std::string_view pattern;  // "/v1/chats/{}/members/{}"
    bool needs_auth;
    Handler handler;
  };
  static const std::vector<Route>& routes();
  static bool match(std::string_view pattern, std::string_view path,
                    std::vector<std::string>& params);

  // Accounts.
  void request_otp(RestCall& c);
  void verify(RestCall& c);
  void logout(RestCall& c);
  void get_me(RestCall& c);
  void patch_me(RestCall& c);
  void get_user(RestCall& c);
  void find_user(RestCall& c);
  // Chats.
  void create_chat(RestCall& c);
  void list_chats(RestCall& c);
  void get_chat(RestCall& c);
  void add_members(RestCall& c);
  void remove_member(RestCall& c);
  void set_role(RestCall& c);
  void set_title(RestCall& c);
  // Messages.
  void send_message(RestCall& c);
  void history(RestCall& c);
  void delete_message(RestCall& c);
  void set_status(RestCall& c);
  void receipts(RestCall& c);
  // Presence.
  void presence(RestCall& c);
  // Media (uploads and downloads stream in http_session; this is the JSON part).
  void media_urls(RestCall& c);
  // Push.
  void vapid_key(RestCall& c);
  void put_push_target(RestCall& c);
  void delete_push_target(RestCall& c);
  void chat_settings(RestCall& c);
  // Events (long poll).
  void poll_events(RestCall& c);
  void ack_events(RestCall& c);
  // Operations.
  void healthz(RestCall& c);
  void metrics(RestCall& c);
  void discover(RestCall& c);
  void limits(RestCall& c);

  void fail(RestCall& c, const Error& e) { c.respond(error(e)); }

  core::ChatCore& core_;
  Metrics& metrics_;
  const StaticFiles& web_;
  MediaService& media_;
  PushService& push_;
};

}  // namespace chat::net

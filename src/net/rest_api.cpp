#include "net/rest_api.hpp"

#include <boost/json.hpp>

#include <charconv>
#include <optional>

#include "net/long_poll.hpp"
#include "net/media_service.hpp"
#include "net/query.hpp"
#include "proto/fields.hpp"
#include "proto/render.hpp"
#include "proto/requests.hpp"

namespace chat::net {
namespace json = boost::json;
namespace {

HttpResponse json_response(int status, std::string body) {
  return HttpResponse{status, std::move(body), "application/json", {}};
}

HttpResponse no_content() {
  return HttpResponse{204, {}, {}, {}};
}

// `push`: the device's push target kind, never the target itself (it holds secrets).
std::string profile_json(const core::Profile& p, const core::PushOutbox& push) {
  json::array devices;
  for (const auto& d : p.devices) {
    const auto kind = push.target_kind(d.user_id, d.device_id);
    devices.push_back(json::object{
        {"device_id", d.device_id},
        {"name", d.name},
        {"created_ts", d.created_ts},
        {"last_active_ts", d.last_active_ts},
        {"push", kind ? json::value(json::object{{"kind", *kind}}) : json::value(nullptr)}});
  }
  return json::serialize(json::object{{"user_id", p.user.user_id},
                                      {"phone", p.user.phone},
                                      {"name", p.user.name},
                                      {"last_seen_privacy", p.user.last_seen_privacy},
                                      {"devices", std::move(devices)}});
}

json::value nullable(const std::optional<std::int64_t>& v) {
  return v ? json::value(*v) : json::value(nullptr);
}

json::object presence_object(const core::PresenceView& v) {
  return json::object{{"user_id", v.user_id},
                      {"online", v.online ? json::value(*v.online) : json::value(nullptr)},
                      {"last_seen", nullable(v.last_seen)}};
}

// A seq from a path segment; not a number (or out of range) cannot exist: 404.
std::optional<std::uint64_t> path_seq(const std::string& s) {
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc{} || end != s.data() + s.size() || n == 0 || n > proto::kMaxSeq) {
    return std::nullopt;
  }
  return n;
}

// A user's settings of one chat (PATCH /v1/chats/{id}/settings; GET /v1/chats).
std::string settings_json(const core::ChatSettings& s) {
  return json::serialize(json::object{
      {"muted_until", s.muted_until ? json::value(*s.muted_until) : json::value(nullptr)},
      {"preview", s.preview}});
}

// Completes `c` with the chat object: 201 for a new chat, else 200.
core::Chats::Done chat_reply(RestApi& api, Respond respond) {
  return [&api, respond = std::move(respond)](Result<core::ChatView> r) {
    if (!r) return respond(api.error(r.error()));
    respond(json_response(r->created ? 201 : 200, *r->json));
  };
}

}  // namespace

const std::vector<RestApi::Route>& RestApi::routes() {
  static const std::vector<Route> table = {
      {"POST", "/v1/auth/otp", false, &RestApi::request_otp},
      {"POST", "/v1/auth/verify", false, &RestApi::verify},
      {"POST", "/v1/auth/logout", true, &RestApi::logout},
      {"GET", "/v1/me", true, &RestApi::get_me},
      {"PATCH", "/v1/me", true, &RestApi::patch_me},
      {"GET", "/v1/users", true, &RestApi::find_user},
      {"GET", "/v1/users/{}", true, &RestApi::get_user},
      {"POST", "/v1/chats", true, &RestApi::create_chat},
      {"GET", "/v1/chats", true, &RestApi::list_chats},
      {"GET", "/v1/chats/{}", true, &RestApi::get_chat},
      {"PATCH", "/v1/chats/{}", true, &RestApi::set_title},
      {"POST", "/v1/chats/{}/members", true, &RestApi::add_members},
      {"DELETE", "/v1/chats/{}/members/{}", true, &RestApi::remove_member},
      {"PATCH", "/v1/chats/{}/members/{}", true, &RestApi::set_role},
      {"POST", "/v1/chats/{}/messages", true, &RestApi::send_message},
      {"GET", "/v1/chats/{}/messages", true, &RestApi::history},
      {"DELETE", "/v1/chats/{}/messages/{}", true, &RestApi::delete_message},
      {"PUT", "/v1/chats/{}/messages/{}/status", true, &RestApi::set_status},
      {"GET", "/v1/chats/{}/messages/{}/receipts", true, &RestApi::receipts},
      {"GET", "/v1/presence", true, &RestApi::presence},
      {"GET", "/v1/media/{}/url", true, &RestApi::media_urls},
      {"GET", "/v1/push/vapid", false, &RestApi::vapid_key},
      {"PUT", "/v1/devices/{}/push", true, &RestApi::put_push_target},
      {"DELETE", "/v1/devices/{}/push", true, &RestApi::delete_push_target},
      {"PATCH", "/v1/chats/{}/settings", true, &RestApi::chat_settings},
      {"GET", "/v1/events", true, &RestApi::poll_events},
      {"POST", "/v1/events/ack", true, &RestApi::ack_events},
      {"GET", "/healthz", false, &RestApi::healthz},
      {"GET", "/metrics", false, &RestApi::metrics},
      {"GET", "/v1/discover", false, &RestApi::discover},
      {"GET", "/v1/limits", false, &RestApi::limits},
  };
  return table;
}

bool RestApi::match(std::string_view pattern, std::string_view path,
                    std::vector<std::string>& params) {
  params.clear();
  while (!pattern.empty() && !path.empty()) {
    if (pattern.starts_with("{}")) {
      const std::size_t end = path.find('/');
      std::string_view segment = path.substr(0, end);
      if (segment.empty()) return false;
      params.emplace_back(segment);
      pattern.remove_prefix(2);
      path.remove_prefix(segment.size());
      continue;
    }
    if (pattern.front() != path.front()) return false;
    pattern.remove_prefix(1);
    path.remove_prefix(1);
  }
  return pattern.empty() && path.empty();
}

HttpResponse RestApi::error(const Error& e) {
  metrics_.count_error(e.code);
  HttpResponse r = json_response(http_status(e.code), proto::error_body(e));
  if (e.code == ErrorCode::rate_limited) {
    r.headers.emplace_back("Retry-After", std::to_string((e.retry_after_ms + 999) / 1000));
  }
  return r;
}

void RestApi::handle(HttpRequest req, boost::asio::io_context& io, Respond respond) {
  metrics_.http_requests.fetch_add(1, std::memory_order_relaxed);
  RestCall call{std::move(req), {}, {}, std::move(respond), &io};
  const Route* found = nullptr;
  bool path_known = false;
  for (const auto& route : routes()) {
    if (!match(route.pattern, call.req.path, call.params)) continue;
    path_known = true;
    if (route.method == call.req.method) {
      found = &route;
      break;
    }
  }
  if (!found && call.req.method == "GET" && !call.req.path.starts_with("/v1/")) {
    if (auto file = web_.get(call.req.path)) return call.respond(std::move(*file));
  }
  if (!found) {
    return fail(call, path_known ? bad_request("method " + call.req.method + " not allowed here")
                                 : not_found("no such endpoint"));
  }
  if (found->needs_auth) {
    auto who = core_.accounts().authenticate(call.req.bearer);
    if (!who) return fail(call, who.error());
    call.who = std::move(*who);
  }
  try {
    (this->*found->handler)(call);
  } catch (const std::exception& e) {
    // A store read failed (I/O error): the request fails, the server goes on.
    fail(call, internal_error(std::string("internal error: ") + e.what()));
  }
}

// ---- Accounts ---------------------------------------------------------------

void RestApi::request_otp(RestCall& c) {
  auto req = proto::parse_otp_request(c.req.body);
  if (!req) return fail(c, req.error());
  auto issued = core_.accounts().request_otp(req->phone);
  if (!issued) return fail(c, issued.error());
  json::object o{{"expires_in", issued->expires_in_s}};
  if (issued->dev_code) o["dev_code"] = *issued->dev_code;
  c.respond(json_response(202, json::serialize(o)));
}

void RestApi::verify(RestCall& c) {
  auto req = proto::parse_verify_request(c.req.body);
  if (!req) return fail(c, req.error());
  core_.accounts().verify(*req, [this, respond = c.respond](Result<core::SignedIn> r) {
    if (!r) return respond(error(r.error()));
    respond(json_response(200, json::serialize(json::object{{"user_id", r->user_id},
                                                            {"device_id", r->device_id},
                                                            {"token", r->token},
                                                            {"new_user", r->new_user}})));
  });
}

void RestApi::logout(RestCall& c) {
  core_.accounts().logout(c.who, [respond = c.respond] { respond(no_content()); });
}

void RestApi::get_me(RestCall& c) {
  auto p = core_.accounts().profile(c.who);
  if (!p) return fail(c, p.error());
  c.respond(json_response(200, profile_json(*p, core_.push())));
}

void RestApi::patch_me(RestCall& c) {
  auto req = proto::parse_patch_me(c.req.body);
  if (!req) return fail(c, req.error());
  core_.accounts().update_profile(
      c.who, *req, [this, respond = c.respond](Result<core::Profile> p) {
        if (!p) return respond(error(p.error()));
        core_.presence().privacy_changed(p->user.user_id, p->user.last_seen_privacy);
        respond(json_response(200, profile_json(*p, core_.push())));
      });
}

void RestApi::get_user(RestCall& c) {
  auto u = core_.accounts().user(c.params[0]);
  if (!u) return fail(c, u.error());
  json::object o = presence_object(core_.presence().view(c.who.user_id, u->user_id));
  o["name"] = u->name;
  c.respond(json_response(200, json::serialize(o)));
}

void RestApi::find_user(RestCall& c) {
  auto phone = query_param(c.req.query, "phone");
  if (!phone) return fail(c, phone.error());
  if (!*phone) return fail(c, bad_request("phone is required"));
  auto u = core_.accounts().user_by_phone(**phone);
  if (!u) return fail(c, u.error());
  json::object o = presence_object(core_.presence().view(c.who.user_id, u->user_id));
  o["name"] = u->name;
  c.respond(json_response(200, json::serialize(o)));
}

// ---- Chats ------------------------------------------------------------------

void RestApi::create_chat(RestCall& c) {
  auto req = proto::parse_create_chat(c.req.body);
  if (!req) return fail(c, req.error());
  core_.chats().create(c.who, *req, chat_reply(*this, c.respond));
}

void RestApi::list_chats(RestCall& c) {
  std::string body = "{\"chats\":[";
  bool first = true;
  for (const auto& entry : core_.chats().list(c.who)) {
    if (!first) body += ',';
    first = false;
    // The chat object, extended with the chat list's own fields.
    body.append(entry.chat_json, 0, entry.chat_json.size() - 1);
    body += ",\"unread\":" + std::to_string(entry.unread);
    body += ",\"read_seq\":" + std::to_string(entry.read_seq);
    body += ",\"last_message\":";
    body += entry.last_message ? proto::message_json(*entry.last_message) : "null";
    body += ",\"settings\":";
    body += settings_json(core_.push().chat_settings(c.who.user_id, entry.chat_id));
    body += '}';
  }
  body += "]}";
  c.respond(json_response(200, std::move(body)));
}

void RestApi::get_chat(RestCall& c) {
  auto view = core_.chats().get(c.who, c.params[0]);
  if (!view) return fail(c, view.error());
  c.respond(json_response(200, *view->json));
}

void RestApi::add_members(RestCall& c) {
  auto req = proto::parse_add_members(c.req.body);
  if (!req) return fail(c, req.error());
  core_.chats().add_members(c.who, c.params[0], req->user_ids, chat_reply(*this, c.respond));
}

void RestApi::remove_member(RestCall& c) {
  core_.chats().remove_member(c.who, c.params[0], c.params[1],
                              [this, respond = c.respond](Result<core::ChatView> r) {
                                if (!r) return respond(error(r.error()));
                                respond(no_content());
                              });
}

void RestApi::set_role(RestCall& c) {
  auto req = proto::parse_set_role(c.req.body);
  if (!req) return fail(c, req.error());
  core_.chats().set_role(c.who, c.params[0], c.params[1], req->admin, chat_reply(*this, c.respond));
}

void RestApi::set_title(RestCall& c) {
  auto req = proto::parse_set_title(c.req.body);
  if (!req) return fail(c, req.error());
  core_.chats().set_title(c.who, c.params[0], req->title, chat_reply(*this, c.respond));
}

// ---- Messages ---------------------------------------------------------------

void RestApi::send_message(RestCall& c) {
  auto req = proto::parse_send_body(c.req.body, c.params[0]);
  if (!req) return fail(c, req.error());
  core_.send_message(c.who, *req, [this, respond = c.respond](Result<core::SendOutcome> r) {
    if (!r) return respond(error(r.error()));
    respond(json_response(r->created ? 201 : 200, *r->message_json));
  });
}

void RestApi::history(RestCall& c) {
  core::HistoryQuery q;
  for (auto [name, slot] : {std::pair{"before", &q.before}, std::pair{"after", &q.after}}) {
    auto v = query_number(c.req.query, name);
    if (!v) return fail(c, v.error());
    *slot = *v;
  }
  auto since = query_number(c.req.query, "since_ts");
  if (!since) return fail(c, since.error());
  if (*since) q.since_ts = static_cast<std::int64_t>(**since);
  auto limit = query_number(c.req.query, "limit");
  if (!limit) return fail(c, limit.error());
  if (*limit) q.limit = static_cast<std::size_t>(std::min<std::uint64_t>(**limit, 1u << 20));

  auto page = core_.history().page(c.who, c.params[0], q);
  if (!page) return fail(c, page.error());
  std::string body = "{\"messages\":[";
  for (std::size_t i = 0; i < page->size(); ++i) {
    if (i) body += ',';
    body += proto::message_json((*page)[i]);
  }
  body += "]}";
  c.respond(json_response(200, std::move(body)));
}

void RestApi::delete_message(RestCall& c) {
  auto seq = path_seq(c.params[1]);
  if (!seq) return fail(c, not_found("message not found"));
  core_.deletion().delete_message(c.who, c.params[0], *seq, [this, respond = c.respond](Status s) {
    if (!s) return respond(error(s.error()));
    respond(no_content());
  });
}

void RestApi::set_status(RestCall& c) {
  auto seq = path_seq(c.params[1]);
  if (!seq) return fail(c, not_found("message not found"));
  auto req = proto::parse_status_body(c.req.body);
  if (!req) return fail(c, req.error());
  const auto status = req->read ? core::ReceiptStatus::read : core::ReceiptStatus::delivered;
  core_.receipts().mark(c.who, c.params[0], status, *seq, [this, respond = c.respond](Status s) {
    if (!s) return respond(error(s.error()));
    respond(no_content());
  });
}

void RestApi::receipts(RestCall& c) {
  auto seq = path_seq(c.params[1]);
  if (!seq) return fail(c, not_found("message not found"));
  auto list = core_.receipts().of_message(c.who, c.params[0], *seq);
  if (!list) return fail(c, list.error());
  json::array out;
  for (const auto& r : *list) {
    out.push_back(json::object{{"user_id", r.user_id},
                               {"delivered_ts", nullable(r.delivered_ts)},
                               {"read_ts", nullable(r.read_ts)}});
  }
  c.respond(json_response(200, json::serialize(json::object{{"receipts", std::move(out)}})));
}

// ---- Presence ---------------------------------------------------------------

void RestApi::presence(RestCall& c) {
  auto ids = query_param(c.req.query, "user_ids");
  if (!ids) return fail(c, ids.error());
  if (!*ids) return fail(c, bad_request("user_ids is required"));
  std::vector<std::string> users;
  std::string_view rest = **ids;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    if (auto id = rest.substr(0, comma); !id.empty()) users.emplace_back(id);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
  }
  if (users.size() > core::Presence::kMaxSubscriptions) {
    return fail(c, bad_request("at most " + std::to_string(core::Presence::kMaxSubscriptions) +
                               " user_ids"));
  }
  json::array out;
  for (const auto& id : users)
    out.push_back(presence_object(core_.presence().view(c.who.user_id, id)));
  c.respond(json_response(200, json::serialize(json::object{{"presence", std::move(out)}})));
}

// ---- Events -----------------------------------------------------------------

void RestApi::poll_events(RestCall& c) {
  auto after = query_number(c.req.query, "after");
  if (!after) return fail(c, after.error());
  auto timeout = query_number(c.req.query, "timeout_ms");
  if (!timeout) return fail(c, timeout.error());
  const auto position = core_.events().position(c.who);
  const std::uint64_t from = after->value_or(position.cursor);
  if (from > position.head) return fail(c, bad_request("after is beyond the stream head"));
  // Capped below typical proxy timeouts (60 s); the protocol suggests 25 s.
  const std::uint64_t wait_ms = std::min<std::uint64_t>(timeout->value_or(25'000), 55'000);
  start_long_poll(core_, *c.io, c.who, from, std::chrono::milliseconds(wait_ms), c.respond);
}

void RestApi::ack_events(RestCall& c) {
  auto req = proto::parse_ack_body(c.req.body);
  if (!req) return fail(c, req.error());
  core_.events().ack(c.who, req->offset, [this, respond = c.respond](Status s) {
    if (!s) return respond(error(s.error()));
    respond(no_content());
  });
}

// ---- Media ------------------------------------------------------------------

void RestApi::media_urls(RestCall& c) {
  auto urls = media_.signed_urls(c.who, c.params[0]);
  if (!urls) return fail(c, urls.error());
  c.respond(json_response(200, std::move(*urls)));
}

// ---- Push -------------------------------------------------------------------

void RestApi::vapid_key(RestCall& c) {
  c.respond(
      json_response(200, json::serialize(json::object{{"public_key", push_.vapid_public_key()}})));
}

void RestApi::put_push_target(RestCall& c) {
  auto target = push_.parse_target(c.req.body);
  if (!target) return fail(c, target.error());
  core_.push().set_target(c.who, c.params[0], std::move(target->first), std::move(target->second),
                          [this, respond = c.respond](Status s) {
                            if (!s) return respond(error(s.error()));
                            respond(no_content());
                          });
}

void RestApi::delete_push_target(RestCall& c) {
  core_.push().delete_target(c.who, c.params[0], [this, respond = c.respond](Status s) {
    if (!s) return respond(error(s.error()));
    respond(no_content());
  });
}

// PATCH /v1/chats/{id}/settings {"muted_until"?: ms|null, "preview"?: bool}:
// fields left out keep their value.
void RestApi::chat_settings(RestCall& c) {
  boost::system::error_code ec;
  json::value body = json::parse(c.req.body, ec);
  if (ec || !body.is_object()) return fail(c, bad_request("body must be a JSON object"));
  core::ChatSettings s = core_.push().chat_settings(c.who.user_id, c.params[0]);
  for (const auto& [key, value] : body.as_object()) {
    if (key == "muted_until") {
      if (value.is_null()) {
        s.muted_until.reset();
      } else if (value.is_int64() && value.as_int64() >= 0) {
        s.muted_until = value.as_int64();
      } else if (value.is_uint64() && value.as_uint64() <= proto::kMaxSeq) {
        s.muted_until = static_cast<std::int64_t>(value.as_uint64());
      } else {
        return fail(c, bad_request("muted_until must be a time in ms or null"));
      }
    } else if (key == "preview") {
      if (!value.is_bool()) return fail(c, bad_request("preview must be true or false"));
      s.preview = value.as_bool();
    } else {
      return fail(c, bad_request("unknown field '" + std::string(key) + "'"));
    }
  }
  core_.push().set_chat_settings(c.who, c.params[0], s,
                                 [this, respond = c.respond](Result<core::ChatSettings> r) {
                                   if (!r) return respond(error(r.error()));
                                   respond(json_response(200, settings_json(*r)));
                                 });
}

// ---- Operations -------------------------------------------------------------

void RestApi::healthz(RestCall& c) {
  c.respond(json_response(200, "{\"status\":\"ok\"}"));
}

void RestApi::metrics(RestCall& c) {
  c.respond(HttpResponse{200, metrics_.render(core_), "text/plain; version=0.0.4", {}});
}

void RestApi::discover(RestCall& c) {
  // A single node sends clients back to the address they reached it by.
  const std::string host = c.req.host.empty() ? "localhost" : c.req.host;
  c.respond(
      json_response(200, json::serialize(json::object{{"ws_url", "ws://" + host + "/v1/ws"}})));
}

void RestApi::limits(RestCall& c) {
  const auto& l = core_.config().limits;
  c.respond(json_response(
      200, json::serialize(
               json::object{{"max_body_bytes", l.max_body_bytes},
                            {"max_frame_bytes", l.max_frame_bytes},
                            {"max_group_members", l.max_group_members},
                            {"max_media_bytes", l.max_media_bytes},
                            {"max_media_per_message", l.max_media_per_message},
                            {"max_image_pixels", media_.config().limits.max_image_pixels},
                            {"thumbnail_max_side", media_.config().limits.thumbnail_max_side},
                            {"media_url_ttl_seconds", media_.config().url_ttl_ms / 1000},
                            {"media_unsent_ttl_seconds", core_.config().media.unsent_ttl_ms / 1000},
                            {"max_title_chars", l.max_title_chars},
                            {"max_client_msg_id_chars", l.max_client_msg_id_chars},
                            {"max_history_page", l.max_history_page}})));
}

}  // namespace chat::net

#include "fixtures.hpp"

#include <map>
#include <stdexcept>

namespace chat::test {

namespace {

[[noreturn]] void fail(const std::string& what, const HttpResponse& r) {
  throw std::runtime_error(what + ": " + describe(r));
}

const json::object& as_object(const json::value& v, const std::string& what) {
  if (!v.is_object()) throw std::runtime_error(what + ": not an object: " + json::serialize(v));
  return v.as_object();
}

}  // namespace

std::string describe(const HttpResponse& r) {
  return std::to_string(r.status) + " " + r.body;
}

std::string create_direct(HttpClient& http, const Account& me, const std::string& peer_user_id) {
  auto r = http.post("/v1/chats", {{"type", "direct"}, {"user_id", peer_user_id}}, me.token);
  if (r.status != 200 && r.status != 201) fail("create direct chat", r);
  return client::string_field(as_object(r.json(), "create direct chat"), "chat_id");
}

std::string create_group(HttpClient& http, const Account& creator, const std::string& title,
                         const std::vector<std::string>& member_user_ids) {
  json::array members;
  for (const auto& id : member_user_ids)
    members.emplace_back(id);
  auto r = http.post("/v1/chats", {{"type", "group"}, {"title", title}, {"members", members}},
                     creator.token);
  if (r.status != 201) fail("create group", r);
  return client::string_field(as_object(r.json(), "create group"), "chat_id");
}

std::vector<json::object> full_history(HttpClient& http, const Account& reader,
                                       const std::string& chat_id) {
  std::vector<json::object> out;
  std::int64_t after = 0;
  for (;;) {
    auto r =
        http.get("/v1/chats/" + chat_id + "/messages?after=" + std::to_string(after) + "&limit=200",
                 reader.token);
    if (r.status != 200) fail("history", r);
    const json::value body = r.json();
    const auto& page = as_object(body, "history").at("messages").as_array();
    if (page.empty()) return out;
    for (const auto& m : page) {
      out.push_back(as_object(m, "history message"));
      after = client::int_field(out.back(), "seq");
    }
  }
}

json::object ws_send(WsClient& ws, const std::string& chat_id, const std::string& body,
                     const std::string& client_msg_id) {
  return ws.call(
      {{"type", "send"}, {"chat_id", chat_id}, {"client_msg_id", client_msg_id}, {"body", body}});
}

std::vector<SentMessage> send_many(WsClient& ws, const std::string& chat_id, int count,
                                   const std::function<std::string(int)>& body_of, int window,
                                   const std::function<void(json::object)>& on_event,
                                   std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<SentMessage> sent(static_cast<std::size_t>(count));
  // Request ids are strings ("s<i>"), so they never collide with call()'s numbers.
  std::map<std::string, int> in_flight;
  int next = 0, acked = 0;
  while (acked < count) {
    while (next < count && static_cast<int>(in_flight.size()) < window) {
      auto& m = sent[static_cast<std::size_t>(next)];
      m.client_msg_id = client::random_client_msg_id();
      m.body = body_of(next);
      const std::string id = "s" + std::to_string(next);
      if (!ws.send_json({{"type", "send"},
                         {"id", id},
                         {"chat_id", chat_id},
                         {"client_msg_id", m.client_msg_id},
                         {"body", m.body}})) {
        throw std::runtime_error("send_many: socket closed (code " +
                                 std::to_string(ws.close_code()) + ")");
      }
      in_flight.emplace(id, next++);
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      throw std::runtime_error("send_many: timed out with " + std::to_string(acked) + " of " +
                               std::to_string(count) + " acked");
    }
    json::object f = ws.next(left);
    const auto& type = f["type"];
    if (type == "timeout" || type == "closed") {
      throw std::runtime_error("send_many: " + json::serialize(f) + " after " +
                               std::to_string(acked) + " acks");
    }
    const auto* id = f.if_contains("id");
    if (id == nullptr) {
      if (on_event) on_event(std::move(f));
      continue;
    }
    auto it = id->is_string() ? in_flight.find(std::string(id->as_string())) : in_flight.end();
    if (it == in_flight.end() || type != "ok") {
      throw std::runtime_error("send_many: unexpected reply " + json::serialize(f));
    }
    auto& m = sent[static_cast<std::size_t>(it->second)];
    m.seq = client::int_field(f, "seq");
    m.message_id = client::string_field(f, "message_id");
    in_flight.erase(it);
    ++acked;
  }
  return sent;
}

std::int64_t seq_of(const json::object& message_event) {
  return client::int_field(message_of(message_event), "seq");
}

const json::object& message_of(const json::object& message_event) {
  return message_event.at("message").as_object();
}

bool is_message_event_of(const json::object& frame, const std::string& chat_id) {
  const auto* type = frame.if_contains("type");
  const auto* m = frame.if_contains("message");
  return type != nullptr && *type == "message" && m != nullptr && m->is_object() &&
         m->as_object().contains("chat_id") && m->as_object().at("chat_id") == chat_id.c_str();
}

std::vector<json::object> collect_messages(
    WsClient& ws, const std::string& chat_id,
    const std::function<bool(const std::vector<json::object>&)>& done,
    std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<json::object> out;
  while (!done(out)) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    json::object f = ws.next(left);
    if (f["type"] == "timeout" || f["type"] == "closed") break;
    if (is_message_event_of(f, chat_id)) out.push_back(std::move(f));
  }
  return out;
}

std::vector<json::object> collect_messages_until_seq(WsClient& ws, const std::string& chat_id,
                                                     std::int64_t seq,
                                                     std::chrono::milliseconds timeout) {
  return collect_messages(
      ws, chat_id,
      [seq](const std::vector<json::object>& got) {
        return !got.empty() && seq_of(got.back()) >= seq;
      },
      timeout);
}

std::string server_still_serves(const ChatServer& server) {
  try {
    auto http = server.http();
    auto health = http.get("/healthz");
    if (health.status != 200) return "GET /healthz: " + describe(health);
    const Account a = server.new_account(), b = server.new_account();
    const std::string chat = create_direct(http, a, b.user_id);
    auto wa = server.connect_ws(a.token);
    auto wb = server.connect_ws(b.token);
    auto ok = ws_send(*wa, chat, "still here");
    if (ok["type"] != "ok") return "send after bad input: " + json::serialize(ok);
    auto got =
        wb->next_where([&](const json::object& f) { return is_message_event_of(f, chat); }, 5s);
    if (got["type"] != "message" || message_of(got).at("body") != "still here") {
      return "delivery after bad input: " + json::serialize(got);
    }
    return "";
  } catch (const std::exception& e) {
    return std::string("server no longer serves: ") + e.what();
  }
}

}  // namespace chat::test

// Delete for everyone (PROTOCOL.md "Messages"): REST DELETE and WS `delete`;
// allowed to the sender and to group admins, 403 for other members, 404 for
// non-members and missing messages; one `deleted` event to every member
// device; history (and replays) show the message as deleted; and after a
// compaction the deleted text is nowhere in the data directory.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <fstream>
#include <sstream>

#include "state_fixtures.hpp"

namespace chat::test {
namespace {

using namespace state;

HttpResponse del(HttpClient& http, const Account& who, const std::string& chat, std::int64_t seq) {
  return http.del("/v1/chats/" + chat + "/messages/" + std::to_string(seq), who.token);
}

json::object ws_delete(WsClient& ws, const std::string& chat, std::int64_t seq) {
  return ws.call({{"type", "delete"}, {"chat_id", chat}, {"seq", seq}});
}

json::object history_entry(HttpClient& http, const Account& who, const std::string& chat,
                           std::int64_t seq) {
  for (auto& m : full_history(http, who, chat)) {
    if (client::int_field(m, "seq") == seq) return m;
  }
  return {};
}

void expect_deleted(const json::object& m, const std::string& sender) {
  ASSERT_FALSE(m.empty());
  EXPECT_EQ(m.at("deleted"), true) << m;
  EXPECT_TRUE(m.at("body").is_null()) << m;
  EXPECT_EQ(m.at("sender"), sender.c_str()) << "a deleted message keeps its place: " << m;
}

TEST(Delete, EveryMemberDeviceGetsOneDeletedEventAndHistoryShowsIt) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account(),
                carol = server.new_account();
  const Account bob2 = client::add_device(http, bob, "bob-2");
  const std::string chat = create_group(http, alice, "g", {bob.user_id, carol.user_id});
  auto wa = server.connect_ws(alice.token), wb1 = server.connect_ws(bob.token),
       wb2 = server.connect_ws(bob2.token), wc = server.connect_ws(carol.token);
  const auto seq = client::int_field(ws_send(*wb1, chat, "regrettable"), "seq");
  ASSERT_EQ(seq, 2);
  post_text(http, carol, chat, "stays");  // 3

  auto r = del(http, bob2, chat, seq);
  ASSERT_EQ(r.status, 204) << describe(r);
  EXPECT_TRUE(r.body.empty());

  for (auto* ws : {wa.get(), wb1.get(), wb2.get(), wc.get()}) {
    const auto message_offset = offset_of_message(*ws, chat, seq);
    Frames seen;
    auto ev = wait_for(*ws, deleted_where(chat, seq), 5s, &seen);
    ASSERT_TRUE(has_type(ev, "deleted")) << ev;
    EXPECT_GT(offset_of(ev), message_offset);
    for (auto& f : drain(*ws, 300ms))
      seen.push_back(std::move(f));
    EXPECT_EQ(only(seen, [](const json::object& f) { return has_type(f, "deleted"); }).size(), 1u);
  }

  for (const auto* who : {&alice, &bob, &carol}) {
    auto history = full_history(http, *who, chat);
    ASSERT_EQ(history.size(), 3u) << "the message keeps its seq; nothing is renumbered";
    expect_deleted(history[1], bob.user_id);
    EXPECT_EQ(client::int_field(history[1], "seq"), 2);
    EXPECT_EQ(history[2].at("body"), "stays");
    EXPECT_EQ(history[2].at("deleted"), false);
  }
}

TEST(Delete, OverWebSocketAndTwiceIsOneEvent) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account();
  const std::string chat = create_direct(http, alice, bob.user_id);
  auto wa = server.connect_ws(alice.token), wb = server.connect_ws(bob.token);
  const auto seq = client::int_field(ws_send(*wa, chat, "oops"), "seq");

  auto ok = ws_delete(*wa, chat, seq);
  EXPECT_EQ(ok["type"], "ok") << ok;
  auto again = ws_delete(*wa, chat, seq);
  EXPECT_EQ(again["type"], "ok") << "deleting a deleted message succeeds: " << again;
  auto rest = del(http, alice, chat, seq);
  EXPECT_EQ(rest.status, 204) << describe(rest);

  for (auto* ws : {wa.get(), wb.get()}) {
    Frames seen;
    auto ev = wait_for(*ws, deleted_where(chat, seq), 5s, &seen);
    ASSERT_TRUE(has_type(ev, "deleted")) << ev;
    for (auto& f : drain(*ws, 500ms))
      seen.push_back(std::move(f));
    EXPECT_EQ(only(seen, [](const json::object& f) { return has_type(f, "deleted"); }).size(), 1u)
        << "a second delete emits nothing";
  }
  expect_deleted(history_entry(http, bob, chat, seq), alice.user_id);

  // The last message of the chat list shows it deleted too.
  auto entry = chat_entry(http, bob, chat);
  ASSERT_TRUE(entry.at("last_message").is_object()) << entry;
  expect_deleted(entry.at("last_message").as_object(), alice.user_id);
}

TEST(Delete, OnlySenderOrGroupAdmin) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account(),
                carol = server.new_account(), dave = server.new_account();
  const std::string group = create_group(http, alice, "g", {bob.user_id, carol.user_id});
  const auto bobs = post_text(http, bob, group, "bob's");
  const auto carols = post_text(http, carol, group, "carol's");
  const auto alices = post_text(http, alice, group, "alice's");

  auto r = del(http, carol, group, bobs);
  EXPECT_EQ(r.status, 403) << describe(r);
  EXPECT_EQ(r.error_code(), "forbidden");
  r = del(http, bob, group, alices);
  EXPECT_EQ(r.status, 403) << "a member cannot delete the admin's message: " << describe(r);
  r = del(http, dave, group, bobs);
  EXPECT_EQ(r.status, 404) << describe(r);
  EXPECT_EQ(r.error_code(), "not_found");
  r = del(http, alice, group, 99);
  EXPECT_EQ(r.status, 404) << describe(r);
  r = http.del("/v1/chats/" + group + "/messages/abc", alice.token);
  EXPECT_EQ(r.status, 404) << describe(r);
  r = del(http, alice, group, 0);
  EXPECT_EQ(r.status, 404) << describe(r);
  r = http.del("/v1/chats/" + group + "/messages/2");
  EXPECT_EQ(r.status, 401) << describe(r);
  // Still there after the refusals.
  EXPECT_EQ(history_entry(http, alice, group, bobs).at("body"), "bob's");

  // The admin may delete anyone's message; the sender its own.
  r = del(http, alice, group, bobs);
  EXPECT_EQ(r.status, 204) << describe(r);
  expect_deleted(history_entry(http, carol, group, bobs), bob.user_id);
  r = del(http, carol, group, carols);
  EXPECT_EQ(r.status, 204) << describe(r);
  expect_deleted(history_entry(http, bob, group, carols), carol.user_id);
  // Deleting again: fine for who may, still forbidden for who may not.
  r = del(http, carol, group, carols);
  EXPECT_EQ(r.status, 204) << describe(r);
  r = del(http, bob, group, carols);
  EXPECT_EQ(r.status, 403) << "the permission comes before 'already deleted': " << describe(r);

  // An admin no more: bob becomes admin, alice is demoted, and loses the right.
  auto promote = http.patch("/v1/chats/" + group + "/members/" + bob.user_id, {{"role", "admin"}},
                            alice.token);
  ASSERT_EQ(promote.status, 200) << describe(promote);
  auto demote = http.patch("/v1/chats/" + group + "/members/" + alice.user_id, {{"role", "member"}},
                           bob.token);
  ASSERT_EQ(demote.status, 200) << describe(demote);
  const auto bobs2 = post_text(http, bob, group, "bob's second");
  r = del(http, alice, group, bobs2);
  EXPECT_EQ(r.status, 403) << describe(r);
  r = del(http, bob, group, alices);
  EXPECT_EQ(r.status, 204) << "the new admin may: " << describe(r);

  // Direct chats have no admins: only the sender.
  const std::string direct = create_direct(http, alice, bob.user_id);
  const auto d1 = post_text(http, alice, direct, "direct");
  r = del(http, bob, direct, d1);
  EXPECT_EQ(r.status, 403) << describe(r);
  r = del(http, carol, direct, d1);
  EXPECT_EQ(r.status, 404) << describe(r);
  r = del(http, alice, direct, d1);
  EXPECT_EQ(r.status, 204) << describe(r);

  // The same rules over the WebSocket.
  const auto d2 = post_text(http, alice, direct, "direct 2");
  auto wb = server.connect_ws(bob.token), wc = server.connect_ws(carol.token);
  auto e = ws_delete(*wb, direct, d2);
  EXPECT_EQ(e["type"], "error") << e;
  EXPECT_EQ(e["code"], "forbidden") << e;
  e = ws_delete(*wc, direct, d2);
  EXPECT_EQ(e["code"], "not_found") << e;
  e = ws_delete(*wb, direct, 42);
  EXPECT_EQ(e["code"], "not_found") << e;
  EXPECT_EQ(history_entry(http, bob, direct, d2).at("body"), "direct 2");
}

TEST(Delete, OfflineDeviceSeesTheDeletionAndReplaysNeverShowTheBody) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account();
  const std::string chat = create_direct(http, alice, bob.user_id);
  const std::string secret = unique_text("secret-");
  const auto seq = post_text(http, alice, chat, secret);
  ASSERT_EQ(del(http, alice, chat, seq).status, 204);

  // Bob was offline throughout: catch-up brings the message (as it is now) and the deletion.
  auto wb = server.connect_ws(bob.token);
  Frames seen;
  auto ev = wait_for(*wb, deleted_where(chat, seq), 5s, &seen);
  ASSERT_TRUE(has_type(ev, "deleted")) << ev;
  // A full replay from offset 0 too.
  auto replay = server.connect_ws(bob.token, 0);
  wait_for(*replay, deleted_where(chat, seq), 5s, &seen);
  for (const auto& f : seen) {
    EXPECT_EQ(json::serialize(f).find(secret), std::string::npos) << "deleted text replayed: " << f;
    if (is_message_event_of(f, chat)) expect_deleted(message_of(f), alice.user_id);
  }
  auto history = http.get("/v1/chats/" + chat + "/messages", bob.token);
  EXPECT_EQ(history.body.find(secret), std::string::npos) << history.body;
}

// Reads every regular file under `dir`; returns the paths whose bytes contain `needle`.
std::vector<std::string> files_containing(const std::string& dir, const std::string& needle) {
  std::vector<std::string> out;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    if (bytes.str().find(needle) != std::string::npos) out.push_back(entry.path().string());
  }
  return out;
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v)
    s += x + " ";
  return s;
}

TEST(Delete, CompactionErasesTheDeletedTextFromDisk) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account();
  const std::string chat = create_group(http, alice, "g", {bob.user_id});
  const std::string kept = unique_text("kept-"), gone = unique_text("gone-");
  const std::string gone_ws = unique_text("gone-ws-");
  post_text(http, bob, chat, kept);
  const auto gone_seq = post_text(http, bob, chat, gone);
  auto wa = server.connect_ws(alice.token);
  const auto gone_ws_seq = client::int_field(ws_send(*wa, chat, gone_ws), "seq");
  post_text(http, alice, chat, "after");
  ASSERT_EQ(del(http, bob, chat, gone_seq).status, 204);       // by its sender
  ASSERT_EQ(ws_delete(*wa, chat, gone_ws_seq)["type"], "ok");  // by the sender, over WS
  wa.reset();

  ASSERT_EQ(server.stop(), 0) << "chatd should exit cleanly on SIGTERM";
  const std::string command =
      "'" + chatd_binary() + "' --compact --data '" + server.data_dir() + "' >/dev/null 2>&1";
  const int status = std::system(command.c_str());
  ASSERT_TRUE(WIFEXITED(status)) << command;
  ASSERT_EQ(WEXITSTATUS(status), 0) << command;

  EXPECT_FALSE(files_containing(server.data_dir(), kept).empty())
      << "the kept message must be on disk, or the scan proves nothing";
  EXPECT_EQ(joined(files_containing(server.data_dir(), gone)), "")
      << "the deleted message's text is still on disk";
  EXPECT_EQ(joined(files_containing(server.data_dir(), gone_ws)), "")
      << "the deleted message's text is still on disk";

  // And the server serves the same state afterwards.
  server.start();
  http = server.http();
  auto history = full_history(http, alice, chat);
  ASSERT_EQ(history.size(), 5u);
  EXPECT_EQ(history[1].at("body"), kept.c_str());
  expect_deleted(history[2], bob.user_id);
  expect_deleted(history[3], alice.user_id);
  EXPECT_EQ(history[4].at("body"), "after");
}

}  // namespace
}  // namespace chat::test

// Presence and last seen (PROTOCOL.md "Presence and last seen",
// `presence_subscribe`): online while a device has an authenticated socket;
// going online is announced after 2 s (a shorter flap is never announced),
// going offline at once with last_seen; a silent or vanished client goes
// offline after the idle timeout; REST views (GET /v1/presence, GET
// /v1/users/{id}); last_seen across restarts; subscription limits and
// replacement; and the privacy matrix (3 settings x contact/stranger x the
// viewer's own setting, over REST and over the subscription).
#include <gtest/gtest.h>

#include <set>

#include "state_fixtures.hpp"

namespace chat::test {
namespace {

using namespace state;

json::object subscribe(WsClient& ws, const std::vector<std::string>& ids) {
  json::array list;
  for (const auto& id : ids)
    list.emplace_back(id);
  return ws.call({{"type", "presence_subscribe"}, {"user_ids", std::move(list)}});
}

bool is_online(const json::object& p) {
  return p.at("online") == true;
}
bool is_offline(const json::object& p) {
  return p.at("online") == false;
}
bool is_hidden(const json::object& p) {
  return p.at("online").is_null() && p.at("last_seen").is_null();
}

// As wait_for on `ws`, pinging `ws` and every socket of `also` about every
// 250 ms, so that none of them reaches a short idle timeout meanwhile.
json::object wait_pinging(WsClient& ws, const Pred& pred, std::chrono::milliseconds timeout,
                          const std::vector<WsClient*>& also = {}, Frames* seen = nullptr) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    const auto left = left_until(deadline);
    if (left.count() == 0) return json::object{{"type", "timeout"}};
    json::object f = ws.next(std::min(left, std::chrono::milliseconds(250)));
    if (has_type(f, "closed")) return f;
    if (has_type(f, "timeout")) {
      ws.ping(1s);
      for (auto* other : also)
        other->ping(1s);
      continue;
    }
    if (seen != nullptr) seen->push_back(f);
    if (pred(f)) return f;
  }
}

TEST(Presence, SubscribeGivesTheStateNowThenDebouncedOnlineAndImmediateOffline) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account();
  auto wa = server.connect_ws(alice.token);
  auto ok = subscribe(*wa, {bob.user_id});
  ASSERT_EQ(ok["type"], "ok") << ok;
  auto now = wait_for(*wa, presence_of(bob.user_id), 3s);
  ASSERT_TRUE(has_type(now, "presence")) << now;
  EXPECT_TRUE(is_offline(now)) << now;
  EXPECT_TRUE(now.at("last_seen").is_null()) << "never online: " << now;

  const auto connected_at = Clock::now();
  const auto connected_wall = wall_ms();
  auto wb = server.connect_ws(bob.token);
  // Nothing for the first 1.5 s: going online is debounced.
  EXPECT_TRUE(only(drain(*wa, 1500ms), presence_of(bob.user_id)).empty())
      << "online was announced before 2 s";
  auto online = wait_for(*wa, presence_of(bob.user_id), 3s);
  const auto announced_after = elapsed_ms(connected_at);
  ASSERT_TRUE(has_type(online, "presence")) << online;
  EXPECT_TRUE(is_online(online)) << online;
  EXPECT_GE(announced_after, 1900) << "online announced before 2 s";
  EXPECT_LE(announced_after, 4000);
  ASSERT_TRUE(online.at("last_seen").is_int64()) << online;
  EXPECT_GE(online.at("last_seen").as_int64(), connected_wall - 1000);

  const auto before_close = wall_ms();
  const auto closing_at = Clock::now();
  wb->close();
  auto offline = wait_for(*wa, presence_of(bob.user_id), 3s);
  const auto offline_after = elapsed_ms(closing_at);
  const auto after_close = wall_ms();
  ASSERT_TRUE(has_type(offline, "presence")) << offline;
  EXPECT_TRUE(is_offline(offline)) << offline;
  EXPECT_LE(offline_after, 1500) << "going offline is announced at once";
  ASSERT_TRUE(offline.at("last_seen").is_int64()) << offline;
  const auto last_seen = offline.at("last_seen").as_int64();
  EXPECT_GE(last_seen, before_close - 1000);
  EXPECT_LE(last_seen, after_close + 1000);

  auto rest = rest_presence(http, alice, {bob.user_id});
  EXPECT_TRUE(is_offline(rest[bob.user_id])) << rest[bob.user_id];
  EXPECT_EQ(rest[bob.user_id].at("last_seen"), last_seen) << rest[bob.user_id];
  EXPECT_TRUE(only(drain(*wa, 300ms), presence_of(bob.user_id)).empty()) << "one event per change";
}

TEST(Presence, AFlapShorterThanTwoSecondsIsNeverAnnounced) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account();
  const Account bob2 = client::add_device(http, bob, "bob-2");
  auto wa = server.connect_ws(alice.token);
  ASSERT_EQ(subscribe(*wa, {bob.user_id})["type"], "ok");
  ASSERT_TRUE(is_offline(wait_for(*wa, presence_of(bob.user_id), 3s)));

  {
    auto wb = server.connect_ws(bob.token);
    std::this_thread::sleep_for(500ms);
    wb->close();
  }
  EXPECT_TRUE(only(drain(*wa, 3000ms), presence_of(bob.user_id)).empty())
      << "a connect+disconnect within 2 s was announced";
  // It still counts as having been online: last_seen moved.
  auto rest = rest_presence(http, alice, {bob.user_id});
  EXPECT_TRUE(is_offline(rest[bob.user_id])) << rest[bob.user_id];
  EXPECT_TRUE(rest[bob.user_id].at("last_seen").is_int64()) << rest[bob.user_id];

  // Online for real; then a second device comes and goes: bob stays online, no event.
  auto wb = server.connect_ws(bob.token);
  ASSERT_TRUE(is_online(wait_for(*wa, presence_of(bob.user_id), 4s)));
  {
    auto second = server.connect_ws(bob2.token);
    std::this_thread::sleep_for(300ms);
    second->close();
  }
  EXPECT_TRUE(only(drain(*wa, 2500ms), presence_of(bob.user_id)).empty())
      << "a second device's flap changed nothing, yet was announced";
  EXPECT_TRUE(is_online(rest_presence(http, alice, {bob.user_id})[bob.user_id]));
}

// A subscriber told "online" must hear "offline" when it happens, even when
// the user leaves within the 2 s debounce; and one told "offline" must hear
// "online" once it holds.
TEST(Presence, ASubscriberIsNeverLeftWithAStaleState) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account(),
                carol = server.new_account();
  auto wa = server.connect_ws(alice.token);

  // Bob connects and leaves within the debounce; alice subscribes in between.
  auto wb = server.connect_ws(bob.token);
  ASSERT_EQ(subscribe(*wa, {bob.user_id})["type"], "ok");
  std::this_thread::sleep_for(300ms);
  wb->close();
  wb.reset();
  Frames seen;
  drain(*wa, 3000ms).swap(seen);
  auto bobs = only(seen, presence_of(bob.user_id));
  ASSERT_FALSE(bobs.empty()) << "no presence frame at all after presence_subscribe";
  EXPECT_TRUE(is_offline(bobs.back()))
      << "bob is offline, but the last thing alice heard was " << bobs.back();

  // Carol connects and stays; alice subscribes during the debounce.
  auto wc = server.connect_ws(carol.token);
  ASSERT_EQ(subscribe(*wa, {carol.user_id})["type"], "ok");
  drain(*wa, 3000ms).swap(seen);
  auto carols = only(seen, presence_of(carol.user_id));
  ASSERT_FALSE(carols.empty());
  EXPECT_TRUE(is_online(carols.back())) << "carol is online: " << carols.back();
}

TEST(Presence, SilentOrVanishedClientGoesOfflineAfterTheIdleTimeout) {
  ChatServer server({"--ws-idle-timeout-ms", "1500"});
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account(),
                carol = server.new_account();
  auto wa = server.connect_ws(alice.token);
  ASSERT_EQ(subscribe(*wa, {bob.user_id, carol.user_id})["type"], "ok");
  auto wb = server.connect_ws(bob.token);
  auto wc = server.connect_ws(carol.token);
  std::set<std::string> online;
  Frames seen;
  wait_pinging(
      *wa,
      [&](const json::object& f) {
        if (has_type(f, "presence") && is_online(f)) online.insert(str(f, "user_id"));
        return online.size() == 2;
      },
      6s, {wb.get(), wc.get()}, &seen);
  ASSERT_EQ(online.size(), 2u) << "bob and carol were never announced online";

  // Carol's process dies: the TCP connection ends without a close frame.
  const auto carol_gone = Clock::now();
  wc.reset();
  auto off = wait_pinging(
      *wa, [&](const json::object& f) { return presence_of(carol.user_id)(f) && is_offline(f); },
      5s, {wb.get()});
  ASSERT_TRUE(has_type(off, "presence")) << "carol never went offline: " << off;
  EXPECT_LE(elapsed_ms(carol_gone), 3000);
  EXPECT_TRUE(off.at("last_seen").is_int64()) << off;

  // Bob's client hangs: the socket stays open but nothing more is sent.
  const auto bob_silent = Clock::now();
  const auto bob_silent_wall = wall_ms();
  off = wait_pinging(
      *wa, [&](const json::object& f) { return presence_of(bob.user_id)(f) && is_offline(f); }, 6s);
  const auto after = elapsed_ms(bob_silent);
  ASSERT_TRUE(has_type(off, "presence")) << "a silent client never went offline: " << off;
  EXPECT_GE(after, 1000) << "went offline before the idle timeout";
  EXPECT_LE(after, 4500);
  ASSERT_TRUE(off.at("last_seen").is_int64()) << off;
  EXPECT_GE(off.at("last_seen").as_int64(), bob_silent_wall + 1000);
  // The server closed bob's socket as idle (1001).
  auto closed = wait_for(
      *wb, [](const json::object&) { return false; }, 3s);
  EXPECT_TRUE(has_type(closed, "closed")) << closed;
  EXPECT_EQ(wb->close_code(), 1001);
  // Alice, who kept pinging, is still connected and sees both offline over REST.
  auto rest = rest_presence(http, alice, {bob.user_id, carol.user_id});
  EXPECT_TRUE(is_offline(rest[bob.user_id])) << rest[bob.user_id];
  EXPECT_TRUE(is_offline(rest[carol.user_id])) << rest[carol.user_id];
  EXPECT_TRUE(wa->ping(1s)) << "the pinging client was closed too";
}

TEST(Presence, RestViewsAndUserProfile) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account(),
                carol = server.new_account();
  ASSERT_EQ(http.patch("/v1/me", {{"name", "Bob"}}, bob.token).status, 200);

  const auto before = wall_ms();
  auto wb = server.connect_ws(bob.token);
  std::map<std::string, json::object> p;
  EXPECT_TRUE(eventually(
      [&] {
        p = rest_presence(http, alice, {bob.user_id, carol.user_id});
        return is_online(p[bob.user_id]);
      },
      3s))
      << "online at once over REST (no debounce there): " << p[bob.user_id];
  ASSERT_TRUE(p[bob.user_id].at("last_seen").is_int64()) << p[bob.user_id];
  EXPECT_GE(p[bob.user_id].at("last_seen").as_int64(), before - 1000);
  EXPECT_TRUE(is_offline(p[carol.user_id])) << p[carol.user_id];
  EXPECT_TRUE(p[carol.user_id].at("last_seen").is_null()) << "never online: " << p[carol.user_id];

  auto user = http.get("/v1/users/" + bob.user_id, alice.token);
  ASSERT_EQ(user.status, 200) << describe(user);
  auto u = user.json().as_object();
  EXPECT_EQ(u.at("user_id"), bob.user_id.c_str());
  EXPECT_EQ(u.at("name"), "Bob");
  EXPECT_EQ(u.at("online"), true) << user.body;
  EXPECT_TRUE(u.at("last_seen").is_int64()) << user.body;

  const auto before_close = wall_ms();
  wb->close();
  EXPECT_TRUE(eventually(
      [&] {
        p = rest_presence(http, alice, {bob.user_id});
        return is_offline(p[bob.user_id]);
      },
      3s));
  ASSERT_TRUE(p[bob.user_id].at("last_seen").is_int64()) << p[bob.user_id];
  const auto last_seen = p[bob.user_id].at("last_seen").as_int64();
  EXPECT_GE(last_seen, before_close - 1000);
  EXPECT_LE(last_seen, wall_ms() + 1000);
  u = http.get("/v1/users/" + bob.user_id, alice.token).json().as_object();
  EXPECT_EQ(u.at("online"), false);
  EXPECT_EQ(u.at("last_seen"), last_seen);
  // By phone too.
  auto by_phone = http.get("/v1/users?phone=%2B" + bob.phone.substr(1), alice.token);
  ASSERT_EQ(by_phone.status, 200) << describe(by_phone);
  EXPECT_EQ(by_phone.json().as_object().at("last_seen"), last_seen) << by_phone.body;

  auto missing = http.get("/v1/presence", alice.token);
  EXPECT_EQ(missing.status, 400) << describe(missing);
  std::string many;
  for (int i = 0; i < 501; ++i)
    many += (i ? "," : "") + ("u" + std::to_string(i));
  auto too_many = http.get("/v1/presence?user_ids=" + many, alice.token);
  EXPECT_EQ(too_many.status, 400) << describe(too_many);
  auto anon = http.get("/v1/presence?user_ids=" + bob.user_id);
  EXPECT_EQ(anon.status, 401) << describe(anon);
}

TEST(Presence, LastSeenSurvivesRestarts) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account(),
                carol = server.new_account(), dave = server.new_account();

  auto wb = server.connect_ws(bob.token);
  std::this_thread::sleep_for(100ms);
  wb->close();
  std::int64_t bob_seen = 0;
  ASSERT_TRUE(eventually(
      [&] {
        auto p = rest_presence(http, alice, {bob.user_id})[bob.user_id];
        if (!is_offline(p) || !p.at("last_seen").is_int64()) return false;
        bob_seen = p.at("last_seen").as_int64();
        return true;
      },
      3s));
  // Carol is still connected when the server stops.
  const auto carol_connected = wall_ms();
  auto wc = server.connect_ws(carol.token);
  std::this_thread::sleep_for(300ms);
  ASSERT_EQ(server.stop(), 0);
  const auto stopped = wall_ms();
  wc.reset();

  server.start();
  http = server.http();
  auto p = rest_presence(http, alice, {bob.user_id, carol.user_id});
  EXPECT_TRUE(is_offline(p[bob.user_id])) << p[bob.user_id];
  EXPECT_EQ(p[bob.user_id].at("last_seen"), bob_seen) << p[bob.user_id];
  EXPECT_TRUE(is_offline(p[carol.user_id])) << p[carol.user_id];
  ASSERT_TRUE(p[carol.user_id].at("last_seen").is_int64()) << p[carol.user_id];
  EXPECT_GE(p[carol.user_id].at("last_seen").as_int64(), carol_connected + 250)
      << "online until the shutdown: last seen then";
  EXPECT_LE(p[carol.user_id].at("last_seen").as_int64(), stopped + 1000);

  // Even a crash keeps at least the time the user came online.
  const auto dave_connected = wall_ms();
  auto wd = server.connect_ws(dave.token);
  std::this_thread::sleep_for(200ms);
  server.kill9();
  wd.reset();
  server.start();
  http = server.http();
  p = rest_presence(http, alice, {dave.user_id});
  EXPECT_TRUE(is_offline(p[dave.user_id])) << p[dave.user_id];
  ASSERT_TRUE(p[dave.user_id].at("last_seen").is_int64()) << p[dave.user_id];
  EXPECT_GE(p[dave.user_id].at("last_seen").as_int64(), dave_connected - 1000);
}

TEST(Presence, SubscriptionLimitsAndReplacement) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account(),
                carol = server.new_account();
  auto wa = server.connect_ws(alice.token);

  std::vector<std::string> ids;
  for (int i = 0; i < 501; ++i)
    ids.push_back("u-unknown-" + std::to_string(i));
  auto too_many = subscribe(*wa, ids);
  EXPECT_EQ(too_many["type"], "error") << too_many;
  EXPECT_EQ(too_many["code"], "bad_request") << too_many;
  ids.pop_back();
  auto ok = subscribe(*wa, ids);
  ASSERT_EQ(ok["type"], "ok") << ok;
  std::size_t got = 0;
  wait_for(
      *wa, [&](const json::object& f) { return has_type(f, "presence") && ++got == 500; }, 5s);
  EXPECT_EQ(got, 500u) << "one presence event per user";
  auto bad = wa->call({{"type", "presence_subscribe"}, {"user_ids", "bob"}});
  EXPECT_EQ(bad["code"], "bad_request") << bad;

  // Bob and carol online and announced.
  auto wb = server.connect_ws(bob.token), wc = server.connect_ws(carol.token);
  ASSERT_EQ(subscribe(*wa, {bob.user_id, carol.user_id})["type"], "ok");
  std::set<std::string> online;
  wait_for(
      *wa,
      [&](const json::object& f) {
        // The initial frames may already say online; the announcement comes after 2 s.
        if (has_type(f, "presence") && is_online(f)) online.insert(str(f, "user_id"));
        return false;
      },
      2600ms);
  ASSERT_EQ(online.size(), 2u);

  // Replace the set with carol alone: bob's changes no longer arrive.
  ASSERT_EQ(subscribe(*wa, {carol.user_id})["type"], "ok");
  auto initial = wait_for(*wa, presence_of(carol.user_id), 3s);
  EXPECT_TRUE(is_online(initial)) << initial;
  wb->close();
  EXPECT_TRUE(only(drain(*wa, 800ms), presence_of(bob.user_id)).empty())
      << "bob is no longer subscribed";
  wc->close();
  auto off = wait_for(*wa, presence_of(carol.user_id), 3s);
  EXPECT_TRUE(has_type(off, "presence") && is_offline(off)) << off;

  // An empty set unsubscribes.
  ASSERT_EQ(subscribe(*wa, {})["type"], "ok");
  wc = server.connect_ws(carol.token);
  std::this_thread::sleep_for(100ms);
  wc->close();
  EXPECT_TRUE(only(drain(*wa, 500ms), presence_of(carol.user_id)).empty());
}

// --- Privacy ---------------------------------------------------------------------

const std::vector<std::string> kSettings = {"everyone", "contacts", "nobody"};

bool allows(const std::string& setting, bool contact) {
  return setting == "everyone" || (setting == "contacts" && contact);
}

TEST(PresencePrivacy, MatrixOverRestAndSubscription) {
  ChatServer server;
  auto http = server.http();
  struct Target {
    Account account;
    std::string setting;
    bool contact;
  };
  std::vector<Account> viewers;  // own setting: kSettings[i]
  for (const auto& s : kSettings) {
    viewers.push_back(server.new_account());
    auto r = set_privacy(http, viewers.back(), s);
    ASSERT_EQ(r.status, 200) << describe(r);
    EXPECT_EQ(r.json().as_object().at("last_seen_privacy"), s.c_str());
  }
  std::vector<Target> targets;
  for (const auto& s : kSettings) {
    for (bool contact : {true, false}) {
      targets.push_back({server.new_account(), s, contact});
      ASSERT_EQ(set_privacy(http, targets.back().account, s).status, 200);
    }
  }
  // Contacts share a direct chat; strangers only a group (which does not make them contacts).
  std::vector<std::string> strangers;
  for (const auto& t : targets) {
    if (!t.contact) {
      strangers.push_back(t.account.user_id);
      continue;
    }
    for (const auto& v : viewers)
      create_direct(http, t.account, v.user_id);
  }
  for (const auto& v : viewers)
    strangers.push_back(v.user_id);
  create_group(http, viewers[0], "everyone here", strangers);

  // Every target online.
  std::vector<std::unique_ptr<WsClient>> online;
  std::vector<std::string> target_ids;
  for (const auto& t : targets) {
    online.push_back(server.connect_ws(t.account.token));
    target_ids.push_back(t.account.user_id);
  }
  auto visible_to = [&](std::size_t v, const Target& t) {
    return allows(t.setting, t.contact) && allows(kSettings[v], t.contact);
  };
  auto check = [&](const json::object& p, bool visible, const std::string& where) {
    if (visible) {
      EXPECT_EQ(p.at("online"), true) << where << ": " << p;
      EXPECT_TRUE(p.at("last_seen").is_int64()) << where << ": " << p;
    } else {
      EXPECT_TRUE(is_hidden(p)) << where << ": " << p;
    }
  };
  auto label = [&](std::size_t v, const Target& t, const char* via) {
    return std::string(via) + " viewer(" + kSettings[v] + ") target(" + t.setting + ", " +
           (t.contact ? "contact" : "stranger") + ")";
  };

  // Past the 2 s debounce, so that every view agrees the targets are online.
  std::this_thread::sleep_for(2300ms);
  for (std::size_t v = 0; v < viewers.size(); ++v) {
    auto rest = rest_presence(http, viewers[v], target_ids);
    ASSERT_EQ(rest.size(), targets.size());
    auto ws = server.connect_ws(viewers[v].token);
    ASSERT_EQ(subscribe(*ws, target_ids)["type"], "ok");
    std::map<std::string, json::object> events;
    wait_for(
        *ws,
        [&](const json::object& f) {
          if (has_type(f, "presence")) events[str(f, "user_id")] = f;
          return events.size() == targets.size();
        },
        5s);
    ASSERT_EQ(events.size(), targets.size());
    for (const auto& t : targets) {
      const bool visible = visible_to(v, t);
      check(rest[t.account.user_id], visible, label(v, t, "GET /v1/presence"));
      check(events[t.account.user_id], visible, label(v, t, "presence_subscribe"));
      auto user = http.get("/v1/users/" + t.account.user_id, viewers[v].token);
      ASSERT_EQ(user.status, 200) << describe(user);
      check(user.json().as_object(), visible, label(v, t, "GET /v1/users"));
    }
  }
  // Everyone sees itself, whatever its setting.
  for (const auto& t : targets) {
    auto self = rest_presence(http, t.account, {t.account.user_id})[t.account.user_id];
    EXPECT_EQ(self.at("online"), true) << t.setting << ": " << self;
  }
}

TEST(PresencePrivacy, ChangesApplyAtOnceAndHiddenViewersLearnNothing) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account(),
                carol = server.new_account();
  create_direct(http, alice, bob.user_id);  // alice and bob are contacts; carol a stranger
  ASSERT_EQ(set_privacy(http, bob, "contacts").status, 200);

  auto wa = server.connect_ws(alice.token), wc = server.connect_ws(carol.token);
  ASSERT_EQ(subscribe(*wa, {bob.user_id})["type"], "ok");
  ASSERT_EQ(subscribe(*wc, {bob.user_id})["type"], "ok");
  EXPECT_TRUE(is_offline(wait_for(*wa, presence_of(bob.user_id), 3s)));
  EXPECT_TRUE(is_hidden(wait_for(*wc, presence_of(bob.user_id), 3s)));

  auto wb = server.connect_ws(bob.token);
  EXPECT_TRUE(is_online(wait_for(*wa, presence_of(bob.user_id), 4s)));
  wb->close();
  auto off = wait_for(*wa, presence_of(bob.user_id), 3s);
  EXPECT_TRUE(is_offline(off)) << off;
  // Carol, a stranger, learns nothing of it: not even when it happened.
  for (const auto& f : only(drain(*wc, 500ms), presence_of(bob.user_id))) {
    ADD_FAILURE() << "a hidden user's change reached a viewer it is hidden from: " << f;
  }

  // Bob opens up: carol sees him at once over REST; then closes again.
  ASSERT_EQ(set_privacy(http, bob, "everyone").status, 200);
  auto p = rest_presence(http, carol, {bob.user_id})[bob.user_id];
  EXPECT_TRUE(is_offline(p)) << p;
  EXPECT_EQ(p.at("last_seen"), off.at("last_seen")) << p;
  ASSERT_EQ(set_privacy(http, bob, "nobody").status, 200);
  EXPECT_TRUE(is_hidden(rest_presence(http, alice, {bob.user_id})[bob.user_id]));
  // Reciprocity: alice hides hers, and no longer sees bob's even when he shows it.
  ASSERT_EQ(set_privacy(http, bob, "everyone").status, 200);
  EXPECT_FALSE(is_hidden(rest_presence(http, alice, {bob.user_id})[bob.user_id]));
  ASSERT_EQ(set_privacy(http, alice, "nobody").status, 200);
  EXPECT_TRUE(is_hidden(rest_presence(http, alice, {bob.user_id})[bob.user_id]));
  EXPECT_TRUE(is_hidden(rest_presence(http, bob, {alice.user_id})[alice.user_id]));

  // Subscribers are told when what they may see changes.
  ASSERT_EQ(set_privacy(http, alice, "everyone").status, 200);
  wb = server.connect_ws(bob.token);
  auto on = wait_for(
      *wc, [&](const json::object& f) { return presence_of(bob.user_id)(f) && is_online(f); }, 4s);
  ASSERT_TRUE(has_type(on, "presence")) << "carol never saw bob online: " << on;
  ASSERT_EQ(set_privacy(http, bob, "contacts").status, 200);
  auto hidden = wait_for(*wc, presence_of(bob.user_id), 3s);
  EXPECT_TRUE(has_type(hidden, "presence") && is_hidden(hidden))
      << "carol still shown bob's presence after he hid it: " << hidden;
  ASSERT_EQ(set_privacy(http, carol, "nobody").status, 200);
  ASSERT_EQ(set_privacy(http, bob, "everyone").status, 200);
  for (const auto& f : only(drain(*wc, 500ms), presence_of(bob.user_id))) {
    EXPECT_TRUE(is_hidden(f)) << "carol hides her own, so sees nothing: " << f;
  }
  // Nor any change while hidden.
  wb->close();
  wb = server.connect_ws(bob.token);
  std::this_thread::sleep_for(300ms);
  wb->close();
  for (const auto& f : only(drain(*wc, 500ms), presence_of(bob.user_id))) {
    ADD_FAILURE() << "a change reached a viewer it is hidden from: " << f;
  }
  ASSERT_EQ(set_privacy(http, carol, "everyone").status, 200);
  auto shown = wait_for(*wc, presence_of(bob.user_id), 3s);
  EXPECT_TRUE(has_type(shown, "presence") && is_offline(shown) && shown.at("last_seen").is_int64())
      << "carol shows hers again, and sees bob's (offline by now): " << shown;

  auto bad = set_privacy(http, alice, "friends");
  EXPECT_EQ(bad.status, 400) << describe(bad);
  auto me = http.get("/v1/me", alice.token);
  EXPECT_EQ(me.json().as_object().at("last_seen_privacy"), "everyone")
      << "a refused PATCH changed nothing: " << me.body;
}

}  // namespace
}  // namespace chat::test

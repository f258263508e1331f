// core/media_library and media in the send and delete paths, over a real
// ChatCore and RocksDB store with a manual clock.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <optional>
#include <string>
#include <vector>

#include "base/random.hpp"
#include "core/validation.hpp"
#include "test_support.hpp"

namespace chat::test {
namespace {
namespace json = boost::json;

std::string sha(char c) {
  return std::string(64, c);
}

class MediaLibraryTest : public DomainTest {
 protected:
  store::MediaRecord upload(const core::Principal& who, const std::string& sha256,
                            const std::string& mime = "image/jpeg") {
    store::MediaRecord r;
    r.item.mime = mime;
    r.item.size = 1234;
    r.item.sha256 = sha256;
    r.item.filename = "cat.jpg";
    r.item.width = 640;
    r.item.height = 480;
    r.item.thumbnail = true;
    r.thumbnail_mime = "image/jpeg";
    auto got = await<Result<store::MediaRecord>>(
        [&](auto cb) { core().media().register_upload(who, r, std::move(cb)); });
    if (!got) throw std::runtime_error("register_upload: " + error_text(got.error()));
    return std::move(*got);
  }

  bool can_read(const core::Principal& who, const std::string& media_id) {
    auto r = core().media().readable(who, media_id);
    if (!r) {
      EXPECT_EQ(r.error().code, ErrorCode::not_found) << r.error().message;
    }
    return r.ok();
  }

  proto::SendRequest media_msg(const std::string& chat_id, std::vector<std::string> ids,
                               std::optional<std::string> caption = std::nullopt,
                               std::string client_msg_id = {}) {
    proto::SendRequest req;
    req.chat_id = chat_id;
    req.client_msg_id =
        client_msg_id.empty() ? "media-" + std::to_string(cmid_counter_++) : client_msg_id;
    req.body = std::move(caption);
    req.media = std::move(ids);
    return req;
  }
  std::uint64_t send_media_ok(const core::Principal& who, const std::string& chat_id,
                              std::vector<std::string> ids) {
    auto r = send(who, media_msg(chat_id, std::move(ids)));
    if (!r) throw std::runtime_error("send: " + error_text(r.error()));
    return r->seq;
  }

  Status del(const core::Principal& who, const std::string& chat, std::uint64_t seq) {
    return await<Status>(
        [&](auto cb) { core().deletion().delete_message(who, chat, seq, std::move(cb)); });
  }
  Result<core::ChatView> remove(const core::Principal& who, const std::string& chat,
                                const std::string& user) {
    return await<Result<core::ChatView>>(
        [&](auto cb) { core().chats().remove_member(who, chat, user, std::move(cb)); });
  }

  std::vector<std::string> gc() { return core().media().collect_garbage(); }
  store::Store& store() { return core().sequencer().store(); }
  std::int64_t ttl() const { return config_.media.unsent_ttl_ms; }

  std::string direct(const core::Principal& a, const core::Principal& b) {
    auto r = create_direct(a, b.user_id);
    if (!r) throw std::runtime_error("create direct: " + error_text(r.error()));
    return r->chat_id;
  }
};

TEST_F(MediaLibraryTest, UploadIsReadableByItsUploaderOnly) {
  core::Principal a = new_user(), b = new_user();
  const std::int64_t now = clock_.now_ms();
  auto f = upload(a, sha('a'));
  EXPECT_TRUE(core::plausible_id(f.item.media_id, 'f')) << f.item.media_id;
  EXPECT_EQ(f.uploader, a.user_id);
  EXPECT_EQ(f.created_ts, now);
  EXPECT_FALSE(f.sent);
  EXPECT_EQ(f.item.filename, "cat.jpg");

  auto stored = store().get_media(f.item.media_id);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->item, f.item);

  auto got = core().media().readable(a, f.item.media_id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->item, f.item);
  EXPECT_FALSE(can_read(b, f.item.media_id));
  EXPECT_FALSE(can_read(a, new_id('f')));
  EXPECT_FALSE(can_read(a, "nonsense"));

  // Each upload gets its own id, even for the same bytes.
  EXPECT_NE(upload(a, sha('a')).item.media_id, f.item.media_id);

  store::MediaRecord bad;
  bad.item.mime = "image/png";
  bad.item.sha256 = "ABC";
  auto r = await<Result<store::MediaRecord>>(
      [&](auto cb) { core().media().register_upload(a, bad, std::move(cb)); });
  EXPECT_EQ(r.error().code, ErrorCode::bad_request);
}

TEST_F(MediaLibraryTest, SendWithMediaCarriesItsItemsToTheMembers) {
  core::Principal a = new_user(), b = new_user(), c = new_user();
  const std::string chat = direct(a, b);
  auto photo = upload(a, sha('a'));
  auto clip = upload(a, sha('b'), "audio/ogg");

  auto sent = send(a, media_msg(chat, {photo.item.media_id, clip.item.media_id}));
  ASSERT_TRUE(sent.ok()) << error_text(sent.error());
  auto o = parse_json_object(*sent->message_json);
  EXPECT_EQ(o["kind"], "media");
  EXPECT_EQ(o["body"], "");
  const auto& media = o["media"].as_array();
  ASSERT_EQ(media.size(), 2u);
  auto first = media[0].as_object();
  EXPECT_EQ(first["media_id"].as_string(), photo.item.media_id);
  EXPECT_EQ(first["mime"], "image/jpeg");
  EXPECT_EQ(first["size"].to_number<std::uint64_t>(), 1234u);
  EXPECT_EQ(first["width"].to_number<int>(), 640);
  EXPECT_EQ(first["height"].to_number<int>(), 480);
  EXPECT_EQ(first["filename"], "cat.jpg");
  EXPECT_EQ(first["sha256"].as_string(), sha('a'));
  EXPECT_EQ(first["thumbnail"], true);
  EXPECT_EQ(media[1].as_object().at("media_id").as_string(), clip.item.media_id);

  // The stored row and the recipient's event carry the same items.
  auto row = store().get_message(chat, sent->seq);
  ASSERT_TRUE(row.has_value());
  ASSERT_EQ(row->media.size(), 2u);
  EXPECT_EQ(row->media[0], photo.item);
  auto events = events_of(b.user_id);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().at("message").as_object().at("media"), o["media"]);

  // Sent: readable by the chat's members, nobody else.
  EXPECT_TRUE(store().get_media(photo.item.media_id)->sent);
  EXPECT_TRUE(store().unsent_media_before(clock_.now_ms() + 1, 100).empty());
  EXPECT_EQ(store().media_refs(photo.item.media_id, 10),
            (std::vector<store::MediaRefRecord>{{photo.item.media_id, chat, sent->seq}}));
  for (const auto& id : {photo.item.media_id, clip.item.media_id}) {
    EXPECT_TRUE(can_read(a, id));
    EXPECT_TRUE(can_read(b, id));
    EXPECT_FALSE(can_read(c, id));
  }

  // A caption is the body; without media a body is still required.
  auto captioned = send(a, media_msg(chat, {photo.item.media_id}, "look"));
  ASSERT_TRUE(captioned.ok());
  EXPECT_EQ(parse_json_object(*captioned->message_json)["body"], "look");
  auto empty = text(chat, "no-media", "");
  EXPECT_EQ(send(a, empty).error().code, ErrorCode::bad_request);

  // Survives a restart.
  reopen();
  EXPECT_TRUE(can_read(b, photo.item.media_id));
  EXPECT_FALSE(can_read(c, photo.item.media_id));
}

TEST_F(MediaLibraryTest, ForwardingMakesMediaReadableInTheOtherChat) {
  core::Principal a = new_user(), b = new_user(), c = new_user(), d = new_user();
  const std::string ab = direct(a, b);
  const std::string bc = group_id(b, {c.user_id});
  auto f = upload(a, sha('a'));
  const std::uint64_t in_ab = send_media_ok(a, ab, {f.item.media_id});
  EXPECT_FALSE(can_read(c, f.item.media_id));
  // c cannot forward what it cannot read.
  EXPECT_EQ(send(c, media_msg(bc, {f.item.media_id})).error().code, ErrorCode::not_found);

  // b is a member of ab: it forwards into bc, where c is.
  send_media_ok(b, bc, {f.item.media_id});
  EXPECT_TRUE(can_read(c, f.item.media_id));
  EXPECT_FALSE(can_read(d, f.item.media_id));
  EXPECT_EQ(store().media_refs(f.item.media_id, 10).size(), 2u);

  // The uploader deletes its message: it is in no chat that carries the media
  // any more, so it cannot read it; b and c still can, through bc.
  ASSERT_TRUE(del(a, ab, in_ab).ok());
  EXPECT_FALSE(can_read(a, f.item.media_id));
  EXPECT_TRUE(can_read(b, f.item.media_id));
  EXPECT_TRUE(can_read(c, f.item.media_id));
  EXPECT_TRUE(gc().empty());
  EXPECT_TRUE(store().get_media(f.item.media_id).has_value());
}

TEST_F(MediaLibraryTest, RemovalFromTheGroupEndsAccess) {
  core::Principal admin = new_user(), a = new_user();
  const std::string g = group_id(admin, {a.user_id});
  auto f = upload(a, sha('a'));
  send_media_ok(a, g, {f.item.media_id});
  EXPECT_TRUE(can_read(a, f.item.media_id));
  EXPECT_TRUE(can_read(admin, f.item.media_id));

  ASSERT_TRUE(remove(admin, g, a.user_id).ok());
  // The uploader is no longer a member of any chat that carries it.
  EXPECT_FALSE(can_read(a, f.item.media_id));
  EXPECT_EQ(send(a, media_msg(g, {f.item.media_id})).error().code, ErrorCode::not_found);
  EXPECT_TRUE(can_read(admin, f.item.media_id));
}

TEST_F(MediaLibraryTest, DeleteForEveryoneDropsTheMediaAndItsBlob) {
  core::Principal a = new_user(), b = new_user();
  const std::string chat = direct(a, b);
  std::atomic<int> dropped{0};
  core().media().on_refs_dropped([&] { dropped.fetch_add(1); });

  auto f = upload(a, sha('a'));
  const std::uint64_t seq = send_media_ok(a, chat, {f.item.media_id});
  const std::uint64_t plain = send_ok(a, chat, "no media");
  EXPECT_TRUE(gc().empty());  // nothing to collect yet

  ASSERT_TRUE(del(a, chat, plain).ok());
  EXPECT_EQ(dropped.load(), 0);  // no media, no sweep
  ASSERT_TRUE(del(a, chat, seq).ok());
  EXPECT_EQ(dropped.load(), 1);

  // The message keeps its seq with media: [].
  auto row = store().get_message(chat, seq);
  ASSERT_TRUE(row.has_value());
  EXPECT_TRUE(row->deleted);
  EXPECT_TRUE(row->media.empty());
  EXPECT_TRUE(store().media_refs(f.item.media_id, 10).empty());
  EXPECT_EQ(store().media_candidates(10), std::vector<std::string>{f.item.media_id});
  EXPECT_FALSE(can_read(a, f.item.media_id));  // the uploader included
  EXPECT_FALSE(can_read(b, f.item.media_id));
  EXPECT_EQ(send(a, media_msg(chat, {f.item.media_id})).error().code, ErrorCode::not_found);

  EXPECT_EQ(gc(), std::vector<std::string>{sha('a')});
  EXPECT_FALSE(store().get_media(f.item.media_id).has_value());
  EXPECT_FALSE(store().blob_referenced(sha('a')));
  EXPECT_TRUE(store().media_candidates(10).empty());
  EXPECT_TRUE(gc().empty());  // done once

  // Deleting again changes nothing and does not sweep again.
  ASSERT_TRUE(del(a, chat, seq).ok());
  EXPECT_EQ(dropped.load(), 1);
}

TEST_F(MediaLibraryTest, BlobStaysWhileAnotherMessageCarriesTheMedia) {
  core::Principal a = new_user(), b = new_user();
  const std::string chat = direct(a, b);
  auto f = upload(a, sha('a'));
  const std::uint64_t first = send_media_ok(a, chat, {f.item.media_id});
  const std::uint64_t second = send_media_ok(b, chat, {f.item.media_id});  // forwarded again

  ASSERT_TRUE(del(a, chat, first).ok());
  EXPECT_TRUE(gc().empty());
  EXPECT_TRUE(can_read(a, f.item.media_id));
  EXPECT_TRUE(can_read(b, f.item.media_id));
  EXPECT_TRUE(store().media_candidates(10).empty());  // looked at, kept

  ASSERT_TRUE(del(b, chat, second).ok());
  EXPECT_EQ(gc(), std::vector<std::string>{sha('a')});
  EXPECT_FALSE(can_read(a, f.item.media_id));
}

TEST_F(MediaLibraryTest, BlobStaysWhileAnotherRecordSharesIt) {
  core::Principal a = new_user(), b = new_user();
  const std::string chat = direct(a, b);
  auto f1 = upload(a, sha('a'));
  auto f2 = upload(b, sha('a'));  // same bytes, another upload
  const std::uint64_t seq = send_media_ok(a, chat, {f1.item.media_id});
  ASSERT_TRUE(del(a, chat, seq).ok());

  EXPECT_TRUE(gc().empty());  // f1 is gone, but f2 names the blob
  EXPECT_FALSE(store().get_media(f1.item.media_id).has_value());
  EXPECT_TRUE(store().blob_referenced(sha('a')));
  EXPECT_TRUE(can_read(b, f2.item.media_id));

  clock_.advance(ttl());  // f2 was never sent
  EXPECT_EQ(gc(), std::vector<std::string>{sha('a')});
  EXPECT_FALSE(store().get_media(f2.item.media_id).has_value());
}

TEST_F(MediaLibraryTest, UnsentUploadsExpire) {
  core::Principal a = new_user(), b = new_user();
  const std::string chat = direct(a, b);
  auto old_upload = upload(a, sha('a'));
  auto sent_upload = upload(a, sha('b'));
  send_media_ok(a, chat, {sent_upload.item.media_id});
  clock_.advance(ttl() / 2);
  auto recent = upload(a, sha('c'));

  clock_.advance(ttl() / 2 - 1);  // just inside the TTL of the first upload
  EXPECT_TRUE(can_read(a, old_upload.item.media_id));
  EXPECT_TRUE(gc().empty());
  EXPECT_TRUE(store().get_media(old_upload.item.media_id).has_value());

  clock_.advance(1);  // TTL reached: gone for sends and reads before any sweep
  EXPECT_FALSE(can_read(a, old_upload.item.media_id));
  EXPECT_EQ(send(a, media_msg(chat, {old_upload.item.media_id})).error().code,
            ErrorCode::not_found);
  clock_.advance(1);
  EXPECT_EQ(gc(), std::vector<std::string>{sha('a')});
  EXPECT_FALSE(store().get_media(old_upload.item.media_id).has_value());

  // A sent upload never expires; a recent one is kept.
  clock_.advance(10 * ttl() / 100);
  EXPECT_TRUE(gc().empty());
  EXPECT_TRUE(can_read(b, sent_upload.item.media_id));
  EXPECT_TRUE(can_read(a, recent.item.media_id));
  clock_.advance(ttl());
  EXPECT_EQ(gc(), std::vector<std::string>{sha('c')});
  EXPECT_TRUE(can_read(b, sent_upload.item.media_id));
}

TEST_F(MediaLibraryTest, MediaSendIsIdempotent) {
  core::Principal a = new_user(), b = new_user();
  const std::string chat = direct(a, b);
  auto f = upload(a, sha('a'));
  auto req = media_msg(chat, {f.item.media_id}, "cap", "retry-me");
  auto first = send(a, req);
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(first->created);
  auto again = send(a, req);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->seq, first->seq);
  EXPECT_EQ(*again->message_json, *first->message_json);
  EXPECT_EQ(store().media_refs(f.item.media_id, 10).size(), 1u);

  // Even once the media is no longer readable, a retry gets the original.
  ASSERT_TRUE(del(a, chat, first->seq).ok());
  auto late = send(a, req);
  ASSERT_TRUE(late.ok()) << error_text(late.error());
  EXPECT_FALSE(late->created);
  EXPECT_EQ(late->seq, first->seq);
}

TEST_F(MediaLibraryTest, BadMediaListsStoreNothing) {
  core::Principal a = new_user(), b = new_user();
  const std::string chat = direct(a, b);
  const std::uint64_t head = core().events().head(a.user_id);
  std::vector<std::string> ids;
  for (std::size_t i = 0; i <= config_.limits.max_media_per_message; ++i)
    ids.push_back(upload(a, sha('a')).item.media_id);

  EXPECT_EQ(send(a, media_msg(chat, ids)).error().code, ErrorCode::too_large);
  ids.pop_back();  // the limit is inclusive
  auto dup = ids;
  dup.back() = dup.front();
  EXPECT_EQ(send(a, media_msg(chat, dup)).error().code, ErrorCode::bad_request);
  EXPECT_EQ(send(a, media_msg(chat, {ids[0], new_id('f')})).error().code, ErrorCode::not_found);
  EXPECT_EQ(core().events().head(a.user_id), head);
  for (const auto& id : ids) {
    EXPECT_FALSE(store().get_media(id)->sent);
    EXPECT_TRUE(store().media_refs(id, 1).empty());
  }

  auto ok = send(a, media_msg(chat, ids));
  ASSERT_TRUE(ok.ok()) << error_text(ok.error());
  EXPECT_EQ(parse_json_object(*ok->message_json)["media"].as_array().size(), ids.size());
}

TEST_F(MediaLibraryTest, ASweepBetweenResolveAndSendRefusesTheSend) {
  core::Principal a = new_user(), b = new_user();
  const std::string chat = direct(a, b);
  auto f = upload(a, sha('a'));
  const std::uint64_t seq = send_media_ok(a, chat, {f.item.media_id});
  // Resolved while readable (as a send does, outside the lock) ...
  auto items = core().media().resolve_for_send(b, {f.item.media_id});
  ASSERT_TRUE(items.ok());
  // ... then the carrying message is deleted and swept ...
  ASSERT_TRUE(del(a, chat, seq).ok());
  EXPECT_EQ(gc(), std::vector<std::string>{sha('a')});
  // ... so the send's transaction must refuse it.
  std::optional<Status> held;
  core().sequencer().transact(
      [&](core::Transaction& tx) { held = core().media().hold_for_send(tx, *items); });
  ASSERT_TRUE(held.has_value());
  ASSERT_FALSE(held->ok());
  EXPECT_EQ(held->error().code, ErrorCode::not_found);

  // A media held by a send in flight is not collected, even if it expires
  // meanwhile. The writer is kept from completing the send's transaction by a
  // completion queued before it that waits.
  auto g = upload(a, sha('b'));
  auto g_items = core().media().resolve_for_send(a, {g.item.media_id});
  ASSERT_TRUE(g_items.ok());
  std::promise<void> release;
  auto released = release.get_future().share();
  // Never leave the writer blocked, whatever fails below.
  struct Release {
    std::promise<void>& p;
    bool done = false;
    void operator()() {
      if (!done) p.set_value();
      done = true;
    }
    ~Release() { (*this)(); }
  } unblock{release};
  core().sequencer().transact(
      [&](core::Transaction& tx) { tx.on_committed([released] { released.wait(); }); });
  core().sequencer().transact([&](core::Transaction& tx) {
    held = core().media().hold_for_send(tx, *g_items);
    tx.put(store::PutMedia{*store().get_media(g.item.media_id)});  // something to commit
  });
  ASSERT_TRUE(held->ok());
  clock_.advance(ttl());
  auto sweep = std::async(std::launch::async, [&] { return gc(); });
  // The sweep decides under the lock, then waits for its commit (behind the blocked one).
  EXPECT_EQ(sweep.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout);
  unblock();
  EXPECT_TRUE(wait_ready(sweep).empty());
  EXPECT_TRUE(store().get_media(g.item.media_id).has_value());
  // Once the hold is over (here: a send that never recorded), it is collected.
  EXPECT_EQ(gc(), std::vector<std::string>{sha('b')});
}

TEST_F(MediaLibraryTest, AnotherUsersUnsentUploadIsNotFound) {
  core::Principal a = new_user(), b = new_user();
  const std::string chat = direct(a, b);
  auto theirs = upload(b, sha('a'));
  EXPECT_EQ(send(a, media_msg(chat, {theirs.item.media_id})).error().code, ErrorCode::not_found);
  EXPECT_FALSE(can_read(a, theirs.item.media_id));
  EXPECT_TRUE(can_read(b, theirs.item.media_id));
  EXPECT_FALSE(store().get_media(theirs.item.media_id)->sent);
}

}  // namespace
}  // namespace chat::test

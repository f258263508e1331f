// Media lifecycle over the real binary, checked on the disk itself: delete for
// everyone erases the blob (unless another live message or upload still needs
// the bytes), uploads never sent are removed after their TTL, the same bytes
// are stored once, a sweep never removes a blob under a concurrent upload of
// the same bytes, and ten concurrent 100 MiB uploads and downloads stream
// through a bounded amount of the server's memory.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "media_support.hpp"

namespace chat::test {
namespace {

using namespace state;
using namespace media_support;

std::int64_t seq_of_sent(const HttpResponse& r) {
  if (r.status != 201) throw std::runtime_error("send: " + describe(r));
  return client::int_field(r.json().as_object(), "seq");
}

bool gone_soon(const std::filesystem::path& p) {
  return eventually([&] { return !std::filesystem::exists(p); }, 10s);
}

TEST(MediaLifecycle, SameBytesAreStoredOnceWithSeparateIds) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account();
  const auto a = upload_ok(http, alice, fixture("photo.png"), "image/png");
  const auto b = upload_ok(http, bob, fixture("photo.png"), "image/png");
  EXPECT_NE(id_of(a), id_of(b));
  EXPECT_EQ(a.at("sha256"), b.at("sha256"));
  EXPECT_EQ(count_files(std::filesystem::path(server.data_dir()) / "media" / "blobs"), 1u);
  EXPECT_EQ(count_files(std::filesystem::path(server.data_dir()) / "media" / "thumbs"), 1u);
}

TEST(MediaLifecycle, DeleteForEveryoneErasesTheBlobFromDiskAndAllAccess) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account();
  const std::string chat = create_direct(http, alice, bob.user_id);
  const std::string png = fixture("photo.png");
  const auto m = upload_ok(http, alice, png, "image/png");
  const std::string url = "/v1/media/" + id_of(m);
  const auto seq = seq_of_sent(send_media(http, alice, chat, {id_of(m)}));
  const std::string signed_url =
      client::string_field(get_media(http, url + "/url", bob.token).json().as_object(), "url");
  const auto blob = blob_file(server, sha256_hex(png));
  ASSERT_TRUE(std::filesystem::exists(blob));

  auto del = http.del("/v1/chats/" + chat + "/messages/" + std::to_string(seq), alice.token);
  ASSERT_EQ(del.status, 204) << describe(del);

  // Nobody reads it any more, the uploader included, by token or signed URL.
  EXPECT_EQ(get_media(http, url, alice.token).status, 404);
  EXPECT_EQ(get_media(http, url, bob.token).status, 404);
  EXPECT_EQ(get_media(http, url + "/thumbnail", bob.token).status, 404);
  EXPECT_EQ(http.get(signed_url).status, 404);
  // And it cannot be sent again.
  EXPECT_EQ(send_media(http, alice, chat, {id_of(m)}).status, 404);
  // The bytes leave the disk, thumbnail included.
  EXPECT_TRUE(gone_soon(blob)) << blob;
  EXPECT_TRUE(eventually(
      [&] {
        return count_files(std::filesystem::path(server.data_dir()) / "media" / "thumbs") == 0;
      },
      5s));
  auto history = full_history(http, bob, chat);
  EXPECT_TRUE(history.back().at("media").as_array().empty());
}

TEST(MediaLifecycle, ABlobStaysWhileAnotherMessageOrUploadNeedsIt) {
  ChatServer server({"--media-sweep-seconds", "1"});
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account(),
                carol = server.new_account();
  const std::string ab = create_direct(http, alice, bob.user_id);
  const std::string bc = create_direct(http, bob, carol.user_id);
  const std::string png = fixture("photo.png");
  const auto m = upload_ok(http, alice, png, "image/png");
  const auto seq = seq_of_sent(send_media(http, alice, ab, {id_of(m)}));
  const auto fwd = seq_of_sent(send_media(http, bob, bc, {id_of(m)}));  // forwarded
  // Carol's own upload of the same bytes: another record, same blob.
  const auto own = upload_ok(http, carol, png, "image/png");
  const auto blob = blob_file(server, sha256_hex(png));

  ASSERT_EQ(http.del("/v1/chats/" + ab + "/messages/" + std::to_string(seq), alice.token).status,
            204);
  std::this_thread::sleep_for(2500ms);  // more than one sweep
  EXPECT_TRUE(std::filesystem::exists(blob));
  EXPECT_EQ(get_media(http, "/v1/media/" + id_of(m), carol.token).status, 200)
      << "the forwarded copy is still live";
  EXPECT_EQ(get_media(http, "/v1/media/" + id_of(m), alice.token).status, 404)
      << "Alice is in no chat where a live message carries it";

  ASSERT_EQ(http.del("/v1/chats/" + bc + "/messages/" + std::to_string(fwd), bob.token).status,
            204);
  std::this_thread::sleep_for(2500ms);
  EXPECT_TRUE(std::filesystem::exists(blob)) << "Carol's unsent upload names the same bytes";
  EXPECT_EQ(get_media(http, "/v1/media/" + id_of(own), carol.token).status, 200);
  EXPECT_EQ(get_media(http, "/v1/media/" + id_of(m), carol.token).status, 404);
}

TEST(MediaLifecycle, UploadsNeverSentAreRemovedAfterTheirTtl) {
  ChatServer server({"--media-unsent-ttl-seconds", "2", "--media-sweep-seconds", "1"});
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account();
  const std::string chat = create_direct(http, alice, bob.user_id);
  const auto unsent = upload_ok(http, alice, fixture("doc.pdf"), "application/pdf");
  const auto sent = upload_ok(http, alice, fixture("photo.png"), "image/png");
  seq_of_sent(send_media(http, alice, chat, {id_of(sent)}));

  const auto unsent_blob = blob_file(server, sha256_hex(fixture("doc.pdf")));
  ASSERT_TRUE(std::filesystem::exists(unsent_blob));
  EXPECT_TRUE(gone_soon(unsent_blob));
  EXPECT_EQ(get_media(http, "/v1/media/" + id_of(unsent), alice.token).status, 404);
  EXPECT_EQ(send_media(http, alice, chat, {id_of(unsent)}).status, 404);
  // The sent one stays.
  EXPECT_TRUE(std::filesystem::exists(blob_file(server, sha256_hex(fixture("photo.png")))));
  EXPECT_EQ(get_media(http, "/v1/media/" + id_of(sent), bob.token).status, 200);
}

// Uploads of the same bytes race deletes of messages carrying them, with the
// sweep running every second: every upload that was answered 201 must still
// be readable afterwards, with the right bytes.
TEST(MediaLifecycle, SweepNeverRemovesABlobUnderAConcurrentUploadOfTheSameBytes) {
  ChatServer server({"--media-sweep-seconds", "1"});
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account();
  const std::string chat = create_direct(http, alice, bob.user_id);
  const std::string pdf = fixture("doc.pdf");
  std::atomic<bool> stop{false};
  std::thread deleter([&] {
    auto h = server.http();
    while (!stop) {
      auto m = upload_ok(h, bob, pdf, "application/pdf");
      const auto seq = seq_of_sent(send_media(h, bob, chat, {id_of(m)}));
      h.del("/v1/chats/" + chat + "/messages/" + std::to_string(seq), bob.token);
    }
  });
  std::vector<std::string> kept;
  for (int i = 0; i < 40; ++i) {
    kept.push_back(id_of(upload_ok(http, alice, pdf, "application/pdf")));
    std::this_thread::sleep_for(50ms);
  }
  stop = true;
  deleter.join();
  std::this_thread::sleep_for(1500ms);  // let a sweep run after the last delete
  for (const auto& id : kept) {
    auto r = get_media(http, "/v1/media/" + id, alice.token);
    ASSERT_EQ(r.status, 200) << id << " " << describe(r);
    ASSERT_EQ(r.body, pdf);
  }
}

// Ten 100 MiB uploads at once, then ten downloads at once: chatd's RSS must
// not grow by more than 64 MiB (bodies stream to and from disk).
TEST(MediaLifecycle, TenConcurrent100MiBUploadsAndDownloadsKeepRssBounded) {
  ChatServer server({"--media-threads", "2"});
  auto http = server.http();
  const Account alice = server.new_account();
  constexpr std::uint64_t kSize = 100ull << 20;
  constexpr int kParallel = 10;
  std::this_thread::sleep_for(500ms);
  const long baseline = rss_kib(server.pid());
  ASSERT_GT(baseline, 0);
  std::atomic<long> peak{baseline};
  std::atomic<bool> sampling{true};
  std::thread sampler([&] {
    while (sampling) {
      const long now = rss_kib(server.pid());
      long seen = peak.load();
      while (now > seen && !peak.compare_exchange_weak(seen, now)) {
      }
      std::this_thread::sleep_for(20ms);
    }
  });

  std::vector<std::string> ids(kParallel), failures(kParallel);
  std::vector<std::thread> threads;
  for (int i = 0; i < kParallel; ++i) {
    threads.emplace_back([&, i] {
      // Each file is shifted by 8 bytes, so ten distinct blobs are written.
      const std::string head = "POST /v1/media HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                               alice.token + "\r\nContent-Type: application/octet-stream\r\n" +
                               "Content-Length: " + std::to_string(kSize);
      auto r = stream_request(server.port(), head, kSize,
                              [i](char* out, std::size_t n, std::uint64_t off) {
                                filler(out, n, off + static_cast<std::uint64_t>(i) * 8);
                              });
      if (r.status != 201) {
        failures[i] = "upload: " + r.head + r.body;
        return;
      }
      ids[i] = client::string_field(json::parse(r.body).as_object(), "media_id");
    });
  }
  for (auto& t : threads)
    t.join();
  threads.clear();
  for (int i = 0; i < kParallel; ++i)
    ASSERT_EQ(failures[i], "") << i;
  const long after_uploads = peak.load();

  std::vector<std::string> hashes(kParallel);
  for (int i = 0; i < kParallel; ++i) {
    threads.emplace_back([&, i] {
      const std::string head = "GET /v1/media/" + ids[i] +
                               " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + alice.token;
      auto r = stream_request(server.port(), head, 0, {});
      hashes[i] = r.status == 200 && r.body_bytes == kSize ? r.sha256 : "status " + r.head;
    });
  }
  for (auto& t : threads)
    t.join();
  sampling = false;
  sampler.join();

  // Same bytes back (checked for one file; all ten are the same size and status).
  const std::string expected0 = sha256_of_filler(kSize);
  EXPECT_EQ(hashes[0], expected0);
  for (int i = 1; i < kParallel; ++i)
    EXPECT_EQ(hashes[i].size(), 64u) << hashes[i];
  const long growth_mib = (peak.load() - baseline) / 1024;
  std::printf("rss baseline %ld KiB, after uploads %ld KiB, peak %ld KiB (+%ld MiB)\n", baseline,
              after_uploads, peak.load(), growth_mib);
  EXPECT_LE(growth_mib, 64) << "RSS grew with the files";
}

}  // namespace
}  // namespace chat::test

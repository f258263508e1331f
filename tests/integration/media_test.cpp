// Media over the real binary (PROTOCOL.md "Media"): upload and type sniffing,
// thumbnails, the decompression bomb, size limits, access for uploader,
// members and strangers, signed URLs, Range / ETag, documents served as
// attachments, sending and forwarding, removal from a group, metrics and
// limits. Lifecycle (erasure on disk, GC, RSS bound) is in media_lifecycle_test.
#include <gtest/gtest.h>

#include "media_support.hpp"

namespace chat::test {
namespace {

using namespace state;
using namespace media_support;

TEST(Media, UploadReportsSniffedTypeDimensionsHashAndServesTheBytesBack) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account();
  const std::string png = fixture("photo.png");

  auto up = upload(http, alice, png, "image/png", "holiday%20photo.png");
  ASSERT_EQ(up.status, 201) << describe(up);
  const auto m = up.json().as_object();
  EXPECT_EQ(m.at("mime"), "image/png");
  EXPECT_EQ(m.at("size").to_number<std::int64_t>(), static_cast<std::int64_t>(png.size()));
  EXPECT_EQ(m.at("sha256"), sha256_hex(png).c_str());
  EXPECT_EQ(m.at("width").to_number<int>(), 640);
  EXPECT_EQ(m.at("height").to_number<int>(), 480);
  EXPECT_EQ(m.at("thumbnail"), true);
  EXPECT_EQ(m.at("filename"), "holiday photo.png");
  EXPECT_FALSE(m.contains("duration_ms"));

  auto got = get_media(http, "/v1/media/" + id_of(m), alice.token);
  ASSERT_EQ(got.status, 200) << describe(got);
  EXPECT_EQ(got.body, png);
  EXPECT_EQ(got.header("Content-Type"), "image/png");
  EXPECT_EQ(got.header("ETag"), "\"" + sha256_hex(png) + "\"");
  EXPECT_EQ(got.header("Cache-Control"), "private");
  EXPECT_EQ(got.header("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(got.header("Content-Disposition"), "") << "images are shown inline";

  auto thumb = get_media(http, "/v1/media/" + id_of(m) + "/thumbnail", alice.token);
  ASSERT_EQ(thumb.status, 200) << describe(thumb);
  EXPECT_EQ(thumb.header("Content-Type"), "image/jpeg");
  EXPECT_EQ(thumb.body.substr(0, 3), std::string("\xFF\xD8\xFF", 3)) << "a JPEG";
  EXPECT_LT(thumb.body.size(), png.size());
}

TEST(Media, ThumbnailIsAtMost320PixelsOnTheLongSide) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account();
  const auto m = upload_ok(http, alice, fixture("photo.jpg"), "image/jpeg");  // 1200 x 900
  auto thumb = get_media(http, "/v1/media/" + id_of(m) + "/thumbnail", alice.token);
  ASSERT_EQ(thumb.status, 200);
  // The JPEG's SOF0/SOF2 segment holds height then width.
  const std::string& j = thumb.body;
  std::size_t i = 2;
  int w = 0, h = 0;
  while (i + 9 < j.size()) {
    const auto marker = static_cast<unsigned char>(j[i + 1]);
    const std::size_t len =
        (static_cast<unsigned char>(j[i + 2]) << 8) | static_cast<unsigned char>(j[i + 3]);
    if (marker == 0xC0 || marker == 0xC2) {
      h = (static_cast<unsigned char>(j[i + 5]) << 8) | static_cast<unsigned char>(j[i + 6]);
      w = (static_cast<unsigned char>(j[i + 7]) << 8) | static_cast<unsigned char>(j[i + 8]);
      break;
    }
    i += 2 + len;
  }
  EXPECT_EQ(w, 320);
  EXPECT_EQ(h, 240);
}

TEST(Media, TypeIsSniffedFromTheBytesNotTheClaim) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account();

  // Claims PNG, is JPEG: kept as what it is.
  auto jpeg = upload_ok(http, alice, fixture("photo.jpg"), "image/png");
  EXPECT_EQ(jpeg.at("mime"), "image/jpeg");
  EXPECT_EQ(jpeg.at("width").to_number<int>(), 1200);

  // Claims an image, is no image at all: refused, and nothing is kept.
  auto pdf_as_png = upload(http, alice, fixture("doc.pdf"), "image/png");
  EXPECT_EQ(pdf_as_png.status, 415) << describe(pdf_as_png);
  EXPECT_EQ(pdf_as_png.error_code(), "unsupported");
  EXPECT_FALSE(std::filesystem::exists(blob_file(server, sha256_hex(fixture("doc.pdf")))));

  // An honest document.
  auto pdf = upload_ok(http, alice, fixture("doc.pdf"), "application/pdf", "report.pdf");
  EXPECT_EQ(pdf.at("mime"), "application/pdf");
  EXPECT_EQ(pdf.at("thumbnail"), false);
  EXPECT_FALSE(pdf.contains("width"));

  // Anything claimed: the sniffed type wins (a "text/plain" PNG is an image).
  auto png = upload_ok(http, alice, fixture("photo.png"), "text/plain");
  EXPECT_EQ(png.at("mime"), "image/png");
  EXPECT_EQ(png.at("thumbnail"), true);
}

TEST(Media, SvgAndHtmlAreDocumentsServedAsInertAttachments) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account();
  for (const auto& [file, claimed] :
       {std::pair{"evil.svg", "image/svg+xml"}, std::pair{"page.html", "text/html"}}) {
    SCOPED_TRACE(file);
    auto m = upload_ok(http, alice, fixture(file), claimed, file);
    EXPECT_EQ(m.at("thumbnail"), false) << "SVG is never an image";
    EXPECT_FALSE(m.contains("width"));
    auto got = get_media(http, "/v1/media/" + id_of(m), alice.token);
    ASSERT_EQ(got.status, 200);
    EXPECT_EQ(got.header("Content-Disposition").rfind("attachment", 0), 0u)
        << got.header("Content-Disposition");
    EXPECT_NE(got.header("Content-Disposition").find(file), std::string::npos);
    EXPECT_EQ(got.header("X-Content-Type-Options"), "nosniff");
    EXPECT_NE(got.header("Content-Security-Policy").find("sandbox"), std::string::npos);
    EXPECT_EQ(got.body, fixture(file));
    auto thumb = get_media(http, "/v1/media/" + id_of(m) + "/thumbnail", alice.token);
    EXPECT_EQ(thumb.status, 404);
  }
}

TEST(Media, DecompressionBombIsRefusedFromItsHeader) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account();
  const std::string bomb = fixture("bomb.png");  // 74 bytes claiming 50,000 x 50,000 pixels
  auto r = upload(http, alice, bomb, "image/png");
  EXPECT_EQ(r.status, 413) << describe(r);
  EXPECT_EQ(r.error_code(), "too_large");
  EXPECT_LT(rss_kib(server.pid()), 512 * 1024) << "the pixels were never allocated";
  EXPECT_EQ(server_still_serves(server), "");
}

TEST(Media, OversizedUploadsAreRefusedWithoutReadingOrKeepingThem) {
  ChatServer server({"--max-media-bytes", "1048576"});
  auto http = server.http();
  const Account alice = server.new_account();

  // Content-Length over the limit: 413 at once, though no body byte was sent.
  const auto t0 = std::chrono::steady_clock::now();
  auto r =
      http.raw("POST /v1/media HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + alice.token +
                   "\r\nContent-Type: application/octet-stream\r\nContent-Length: 2000000\r\n\r\n",
               5s);
  EXPECT_EQ(r.status, 413) << describe(r);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s) << "answered without waiting for the body";

  // Chunked: cut off at the limit.
  const std::uint64_t big = 3 << 20;
  std::string head = "POST /v1/media HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + alice.token +
                     "\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked";
  // Each piece goes out as one chunk: "<hex>\r\n<bytes>\r\n" (the filler writes the bytes).
  std::string chunked;
  for (std::uint64_t done = 0; done < big;) {
    const std::size_t n = 64 * 1024;
    char size_line[32];
    std::snprintf(size_line, sizeof size_line, "%zx\r\n", n);
    chunked += size_line;
    std::string bytes(n, '\0');
    filler(bytes.data(), n, done);
    chunked += bytes + "\r\n";
    done += n;
  }
  chunked += "0\r\n\r\n";
  auto s = stream_request(server.port(), head, chunked.size(),
                          [&](char* out, std::size_t n, std::uint64_t off) {
                            std::memcpy(out, chunked.data() + off, n);
                          });
  EXPECT_EQ(s.status, 413) << s.head;

  // Exactly at the limit is fine.
  std::string exact(1 << 20, '\0');
  filler(exact.data(), exact.size(), 0);
  auto ok = upload(http, alice, exact, "application/octet-stream");
  EXPECT_EQ(ok.status, 201) << describe(ok);

  // Nothing of the refused uploads is left on disk, not even a temp file.
  EXPECT_EQ(count_files(std::filesystem::path(server.data_dir()) / "media" / "tmp"), 0u);
  EXPECT_EQ(count_files(std::filesystem::path(server.data_dir()) / "media" / "blobs"), 1u);

  auto limits = http.get("/v1/limits").json().as_object();
  EXPECT_EQ(limits.at("max_media_bytes").to_number<std::int64_t>(), 1048576);
  EXPECT_EQ(limits.at("max_media_per_message").to_number<int>(), 10);
  EXPECT_EQ(limits.at("max_image_pixels").to_number<std::int64_t>(), 100'000'000);
  EXPECT_EQ(server_still_serves(server), "");
}

TEST(Media, UploadNeedsAToken) {
  ChatServer server;
  auto http = server.http();
  client::RequestOptions o;
  o.content_type = "image/png";
  auto r = http.request("POST", "/v1/media", fixture("photo.png"), o);
  EXPECT_EQ(r.status, 401) << describe(r);
  auto bad = http.get("/v1/media/f0123456789abcdef");
  EXPECT_EQ(bad.status, 401) << describe(bad);
}

TEST(Media, StrangersGetNotFoundForEverythingEvenForIdsThatExist) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account(), mallory = server.new_account();
  const auto m = upload_ok(http, alice, fixture("photo.png"), "image/png");
  const std::string id = id_of(m);
  for (const std::string& target :
       std::vector<std::string>{"/v1/media/" + id, "/v1/media/" + id + "/thumbnail",
                                "/v1/media/" + id + "/url", "/v1/media/f0000000000000000",
                                "/v1/media/f0000000000000000/url", "/v1/media/..%2f..%2fetc"}) {
    SCOPED_TRACE(target);
    auto r = get_media(http, target, mallory.token);
    EXPECT_EQ(r.status, 404) << describe(r);
    EXPECT_EQ(r.body.find(m.at("sha256").as_string().c_str()), std::string::npos);
  }
  // Nor can a stranger send it (forwarding needs read access).
  const std::string chat = create_direct(http, mallory, alice.user_id);
  auto send = send_media(http, mallory, chat, {id});
  EXPECT_EQ(send.status, 404) << describe(send);
}

TEST(Media, RangeAndConditionalRequests) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account();
  const std::string png = fixture("photo.png");
  const std::string url = "/v1/media/" + id_of(upload_ok(http, alice, png, "image/png"));
  const std::string size = std::to_string(png.size());

  auto first = get_media(http, url, alice.token, {{"Range", "bytes=0-9"}});
  ASSERT_EQ(first.status, 206) << describe(first);
  EXPECT_EQ(first.body, png.substr(0, 10));
  EXPECT_EQ(first.header("Content-Range"), "bytes 0-9/" + size);

  auto tail = get_media(http, url, alice.token, {{"Range", "bytes=-5"}});
  ASSERT_EQ(tail.status, 206);
  EXPECT_EQ(tail.body, png.substr(png.size() - 5));

  auto from = get_media(http, url, alice.token, {{"Range", "bytes=100-"}});
  ASSERT_EQ(from.status, 206);
  EXPECT_EQ(from.body, png.substr(100));
  EXPECT_EQ(from.header("Content-Range"),
            "bytes 100-" + std::to_string(png.size() - 1) + "/" + size);

  auto past = get_media(http, url, alice.token, {{"Range", "bytes=" + size + "-"}});
  EXPECT_EQ(past.status, 416);
  EXPECT_EQ(past.header("Content-Range"), "bytes */" + size);

  const std::string etag = "\"" + sha256_hex(png) + "\"";
  auto cached = get_media(http, url, alice.token, {{"If-None-Match", etag}});
  EXPECT_EQ(cached.status, 304);
  EXPECT_TRUE(cached.body.empty());
  auto stale = get_media(http, url, alice.token, {{"If-None-Match", "\"other\""}});
  EXPECT_EQ(stale.status, 200);
  EXPECT_EQ(stale.body, png);
  // HEAD: the same head (length, ETag), and no body follows on the connection.
  const std::string head = "HEAD " + url + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                           alice.token + "\r\nConnection: close";
  auto h = stream_request(server.port(), head, 0, {});
  EXPECT_EQ(h.status, 200) << h.head;
  EXPECT_NE(h.head.find("Content-Length: " + size), std::string::npos) << h.head;
  EXPECT_NE(h.head.find(etag), std::string::npos) << h.head;
  EXPECT_EQ(h.body_bytes, 0u) << "the server closed after the head, sending no body";

  // Still serving, on keep-alive connections, after all of it.
  EXPECT_EQ(server_still_serves(server), "");
}

TEST(Media, SendingCarriesTheMetadataAndOpensTheMediaToMembersOnly) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account(),
                carol = server.new_account();
  const std::string chat = create_direct(http, alice, bob.user_id);
  auto wb = server.connect_ws(bob.token);
  const auto png = upload_ok(http, alice, fixture("photo.png"), "image/png", "p.png");
  const auto pdf = upload_ok(http, alice, fixture("doc.pdf"), "application/pdf", "doc.pdf");

  // Before it is sent, only the uploader can read it.
  EXPECT_EQ(get_media(http, "/v1/media/" + id_of(png), bob.token).status, 404);

  auto sent = send_media(http, alice, chat, {id_of(png), id_of(pdf)}, "look");
  ASSERT_EQ(sent.status, 201) << describe(sent);
  const auto msg = sent.json().as_object();
  EXPECT_EQ(msg.at("kind"), "media");
  EXPECT_EQ(msg.at("body"), "look");
  const auto& items = msg.at("media").as_array();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].at("media_id"), png.at("media_id"));
  EXPECT_EQ(items[0].at("mime"), "image/png");
  EXPECT_EQ(items[0].at("width").to_number<int>(), 640);
  EXPECT_EQ(items[0].at("size"), png.at("size"));
  EXPECT_EQ(items[1].at("mime"), "application/pdf");
  EXPECT_EQ(items[1].at("filename"), "doc.pdf");

  // Bob gets the same message live, and in history.
  auto event = wait_for(*wb, message_event_where(chat, client::int_field(msg, "seq")), 5s);
  ASSERT_FALSE(is_closed_or_timeout(event));
  EXPECT_EQ(message_of(event).at("media"), msg.at("media"));
  EXPECT_EQ(full_history(http, bob, chat).back().at("media"), msg.at("media"));

  // Bob, a member, reads both; Carol, no member, reads neither.
  auto bob_png = get_media(http, "/v1/media/" + id_of(png), bob.token);
  EXPECT_EQ(bob_png.status, 200);
  EXPECT_EQ(bob_png.body, fixture("photo.png"));
  EXPECT_EQ(get_media(http, "/v1/media/" + id_of(pdf), bob.token).body, fixture("doc.pdf"));
  EXPECT_EQ(get_media(http, "/v1/media/" + id_of(png), carol.token).status, 404);
}

TEST(Media, SendRulesCountsDuplicatesAndUnknownIds) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account();
  const std::string chat = create_direct(http, alice, bob.user_id);
  const auto png = upload_ok(http, alice, fixture("photo.png"), "image/png");
  const auto bobs = upload_ok(http, bob, fixture("doc.pdf"), "application/pdf");

  EXPECT_EQ(send_media(http, alice, chat, {"f0000000000000000"}).status, 404);
  EXPECT_EQ(send_media(http, alice, chat, {id_of(bobs)}).status, 404)
      << "another user's unsent upload is not the sender's to send";
  EXPECT_EQ(send_media(http, alice, chat, {id_of(png), id_of(png)}).status, 400);
  std::vector<std::string> eleven(11, id_of(png));
  EXPECT_EQ(send_media(http, alice, chat, eleven).status, 413);
  // A caption is optional; the same upload may be sent twice.
  EXPECT_EQ(send_media(http, alice, chat, {id_of(png)}).status, 201);
  EXPECT_EQ(send_media(http, alice, chat, {id_of(png)}, "again").status, 201);
  // Over WebSocket too.
  auto ws = server.connect_ws(alice.token);
  auto ok = ws->call({{"type", "send"},
                      {"chat_id", chat},
                      {"client_msg_id", client::random_client_msg_id()},
                      {"media", json::array{json::value(id_of(png))}}});
  EXPECT_EQ(ok.at("type"), "ok") << ok;
}

TEST(Media, ForwardingOpensItToTheOtherChatAndLeavingAGroupClosesIt) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account(), bob = server.new_account(),
                carol = server.new_account(), dave = server.new_account();
  const std::string group = create_group(http, alice, "g", {bob.user_id, carol.user_id});
  const auto png = upload_ok(http, alice, fixture("photo.png"), "image/png");
  const std::string url = "/v1/media/" + id_of(png);
  ASSERT_EQ(send_media(http, alice, group, {id_of(png)}).status, 201);
  EXPECT_EQ(get_media(http, url, carol.token).status, 200);

  // Bob forwards it to Dave, who is in none of Alice's chats.
  const std::string bob_dave = create_direct(http, bob, dave.user_id);
  EXPECT_EQ(get_media(http, url, dave.token).status, 404);
  ASSERT_EQ(send_media(http, bob, bob_dave, {id_of(png)}).status, 201);
  EXPECT_EQ(get_media(http, url, dave.token).status, 200);

  // Carol leaves the group (removed by the admin): no longer a member, no access.
  auto removed = http.del("/v1/chats/" + group + "/members/" + carol.user_id, alice.token);
  ASSERT_EQ(removed.status / 100, 2) << describe(removed);
  EXPECT_EQ(get_media(http, url, carol.token).status, 404);
  EXPECT_EQ(get_media(http, url + "/url", carol.token).status, 404);
  EXPECT_EQ(get_media(http, url, bob.token).status, 200);
}

TEST(Media, SignedUrlsWorkWithoutATokenAndNotWhenAlteredOrExpired) {
  ChatServer server({"--media-url-ttl-seconds", "2"});
  auto http = server.http();
  const Account alice = server.new_account();
  const std::string png = fixture("photo.png");
  const auto m = upload_ok(http, alice, png, "image/png");
  auto urls = get_media(http, "/v1/media/" + id_of(m) + "/url", alice.token);
  ASSERT_EQ(urls.status, 200) << describe(urls);
  const auto u = urls.json().as_object();
  const std::string url = client::string_field(u, "url");
  const std::string thumb = client::string_field(u, "thumbnail_url");
  EXPECT_EQ(url.rfind("/v1/media/" + id_of(m) + "?exp=", 0), 0u) << url;
  EXPECT_GT(client::int_field(u, "expires_ts"), wall_ms());

  auto plain = http.get(url);
  ASSERT_EQ(plain.status, 200) << describe(plain);
  EXPECT_EQ(plain.body, png);
  EXPECT_EQ(http.get(thumb).status, 200);

  // Altered: another signature, another expiry, the thumbnail's signature on the original.
  std::string bad_sig = url;
  bad_sig.back() = bad_sig.back() == '0' ? '1' : '0';
  EXPECT_EQ(http.get(bad_sig).status, 403);
  const auto exp_at = url.find("exp=") + 4;
  std::string later = url;
  later[exp_at] = later[exp_at] == '9' ? '8' : static_cast<char>(later[exp_at] + 1);
  EXPECT_EQ(http.get(later).status, 403);
  const std::string thumb_sig = thumb.substr(thumb.find("?"));
  EXPECT_EQ(http.get("/v1/media/" + id_of(m) + thumb_sig).status, 403);
  EXPECT_EQ(http.get("/v1/media/" + id_of(m) + "?exp=1&sig=").status, 403);

  std::this_thread::sleep_for(2500ms);
  EXPECT_EQ(http.get(url).status, 403) << "expired";
}

TEST(Media, AudioReportsItsDuration) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account();
  // 1.5 s of 8 kHz 16-bit mono silence as a WAV file.
  const std::uint32_t rate = 8000, samples = 12000, data_bytes = samples * 2;
  std::string wav = "RIFF";
  auto le32 = [&](std::uint32_t v) {
    for (int i = 0; i < 4; ++i)
      wav.push_back(static_cast<char>(v >> (8 * i)));
  };
  auto le16 = [&](std::uint16_t v) {
    for (int i = 0; i < 2; ++i)
      wav.push_back(static_cast<char>(v >> (8 * i)));
  };
  le32(36 + data_bytes);
  wav += "WAVEfmt ";
  le32(16);
  le16(1);
  le16(1);
  le32(rate);
  le32(rate * 2);
  le16(2);
  le16(16);
  wav += "data";
  le32(data_bytes);
  wav.append(data_bytes, '\0');
  auto m = upload_ok(http, alice, wav, "audio/wav", "voice.wav");
  EXPECT_EQ(std::string(m.at("mime").as_string()).substr(0, 6), "audio/") << m;
  ASSERT_TRUE(m.contains("duration_ms")) << m;
  EXPECT_NEAR(m.at("duration_ms").to_number<double>(), 1500.0, 50.0);
  EXPECT_EQ(m.at("thumbnail"), false);
  auto got = get_media(http, "/v1/media/" + id_of(m), alice.token);
  EXPECT_EQ(got.header("Content-Disposition"), "") << "audio plays inline";
}

TEST(Media, MetricsCountUploadsBytesAndThumbnails) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account();
  const std::string png = fixture("photo.png");
  upload_ok(http, alice, png, "image/png");
  upload_ok(http, alice, fixture("doc.pdf"), "application/pdf");
  const std::string text = http.get("/metrics").body;
  auto value = [&](const std::string& name) {
    const auto at = text.find("\n" + name + " ");
    return at == std::string::npos ? -1 : std::stoll(text.substr(at + name.size() + 2));
  };
  EXPECT_EQ(value("chatd_media_uploads_total"), 2);
  EXPECT_EQ(value("chatd_media_upload_bytes_total"),
            static_cast<long long>(png.size() + fixture("doc.pdf").size()));
  EXPECT_EQ(value("chatd_media_thumbnails_total"), 1);
}

TEST(Media, UploadsAndSignedUrlsSurviveARestart) {
  ChatServer server;
  auto http = server.http();
  const Account alice = server.new_account();
  const auto m = upload_ok(http, alice, fixture("photo.png"), "image/png");
  const std::string url = client::string_field(
      get_media(http, "/v1/media/" + id_of(m) + "/url", alice.token).json().as_object(), "url");
  server.kill9();
  server.start();
  auto http2 = server.http();
  EXPECT_EQ(get_media(http2, "/v1/media/" + id_of(m), alice.token).body, fixture("photo.png"));
  EXPECT_EQ(http2.get(url).status, 200) << "the signing key is kept in the data dir";
}

}  // namespace
}  // namespace chat::test

#include "net/media_service.hpp"

#include <boost/json.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>

#include "base/utf8.hpp"
#include "media/byte_range.hpp"
#include "media/sniff.hpp"
#include "net/query.hpp"
#include "proto/render.hpp"

namespace chat::net {
namespace json = boost::json;
namespace {

// RFC 6266: an ASCII fallback plus the exact name as RFC 8187 UTF-8.
std::string attachment_disposition(const std::string& filename) {
  if (filename.empty()) return "attachment";
  std::string ascii, encoded;
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : filename) {
    ascii.push_back(c >= 0x20 && c < 0x7f && c != '"' && c != '\\' ? static_cast<char>(c) : '_');
    if (std::isalnum(c) || c == '.' || c == '-' || c == '_') {
      encoded.push_back(static_cast<char>(c));
    } else {
      encoded.push_back('%');
      encoded.push_back(kHex[c >> 4]);
      encoded.push_back(kHex[c & 15]);
    }
  }
  return "attachment; filename=\"" + ascii + "\"; filename*=UTF-8''" + encoded;
}

bool etag_matches(std::string_view if_none_match, std::string_view etag) {
  if (if_none_match.empty()) return false;
  // A list of entity tags, weak ones included (If-None-Match uses weak comparison).
  std::size_t pos = 0;
  while (pos < if_none_match.size()) {
    std::size_t comma = if_none_match.find(',', pos);
    if (comma == std::string_view::npos) comma = if_none_match.size();
    std::string_view tag = if_none_match.substr(pos, comma - pos);
    while (!tag.empty() && tag.front() == ' ')
      tag.remove_prefix(1);
    while (!tag.empty() && tag.back() == ' ')
      tag.remove_suffix(1);
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == "*" || tag == etag) return true;
    pos = comma + 1;
  }
  return false;
}

}  // namespace

MediaDownload& MediaDownload::operator=(MediaDownload&& o) noexcept {
  if (this != &o) {
    if (fd >= 0) ::close(fd);
    status = o.status;
    content_type = std::move(o.content_type);
    headers = std::move(o.headers);
    fd = std::exchange(o.fd, -1);
    offset = o.offset;
    length = o.length;
  }
  return *this;
}

MediaDownload::~MediaDownload() {
  if (fd >= 0) ::close(fd);
}

std::string clean_filename(std::string_view raw) {
  // Keep the last path component only: a name is a label, never a path.
  if (auto slash = raw.find_last_of("/\\"); slash != std::string_view::npos)
    raw = raw.substr(slash + 1);
  std::string out;
  for (unsigned char c : raw) {
    if (c < 0x20 || c == 0x7f) continue;
    out.push_back(static_cast<char>(c));
  }
  if (out == "." || out == "..") out.clear();
  if (out.size() > 255) out.resize(255);
  // Cutting may split a UTF-8 sequence: drop bytes until it is valid again.
  while (!out.empty() && !valid_utf8(out))
    out.pop_back();
  return out;
}

MediaService::MediaService(core::ChatCore& core, Metrics& metrics, MediaServiceConfig config)
    : core_(core),
      metrics_(metrics),
      config_(std::move(config)),
      blobs_(config_.root),
      signer_(media::UrlSigner::load_or_create(config_.root / "url-signing.key")),
      pool_(blobs_, config_.limits, std::max<std::size_t>(1, config_.pool_threads)) {
  core_.media().on_refs_dropped([this] { request_sweep(); });
  sweeper_ = std::thread([this] { sweep_loop(); });
}

MediaService::~MediaService() {
  {
    std::lock_guard lock(sweep_mutex_);
    stopping_ = true;
  }
  sweep_wake_.notify_all();
  sweeper_.join();
  core_.media().on_refs_dropped(nullptr);
  std::unique_lock lock(pending_mutex_);
  pending_done_.wait(lock, [this] { return pending_ == 0; });
}

void MediaService::finish_upload(std::unique_ptr<media::UploadSink> sink, core::Principal who,
                                 std::string claimed_mime, std::string filename,
                                 std::function<void(Result<std::string>)> done) {
  {
    std::lock_guard lock(pending_mutex_);
    ++pending_;
  }
  done = [this, done = std::move(done)](Result<std::string> r) {
    done(std::move(r));
    std::lock_guard lock(pending_mutex_);
    if (--pending_ == 0) pending_done_.notify_all();
  };
  // The fsync and the rename happen on the pool, off the socket thread.
  auto shared_sink = std::shared_ptr<media::UploadSink>(std::move(sink));
  pool_.post([this, shared_sink, who = std::move(who), claimed_mime = std::move(claimed_mime),
              filename = std::move(filename), done = std::move(done)]() mutable {
    auto sha = shared_sink->finish();
    if (!sha) return done(sha.take_error());
    auto committed = blobs_.commit(*shared_sink, *sha);
    if (!committed) return done(committed.take_error());
    const std::uint64_t size = shared_sink->size();
    shared_sink.reset();
    const std::string sha256 = *sha;
    pool_.inspect(
        sha256, claimed_mime,
        [this, sha256, size, who = std::move(who), filename = std::move(filename),
         done = std::move(done)](Result<media::Inspection> inspected) mutable {
          metrics_.media_thumbnails.store(pool_.thumbnails_made(), std::memory_order_relaxed);
          if (!inspected) {
            // Refused (not an image, a bomb): no record will name the blob.
            blobs_.unpin(sha256);
            blobs_.remove_if_unreferenced(sha256, [this](const std::string& s) {
              return core_.sequencer().store().blob_referenced(s);
            });
            return done(inspected.take_error());
          }
          store::MediaRecord record;
          record.item.mime = inspected->mime;
          record.item.size = size;
          record.item.sha256 = sha256;
          record.item.filename = filename;
          record.item.width = inspected->width;
          record.item.height = inspected->height;
          record.item.duration_ms = inspected->duration_ms;
          record.item.thumbnail = inspected->thumbnail;
          record.thumbnail_mime = inspected->thumbnail_mime;
          record.uploader = who.user_id;
          core_.media().register_upload(
              who, std::move(record),
              [this, sha256, size, done = std::move(done)](Result<store::MediaRecord> stored) {
                blobs_.unpin(sha256);  // the record is durable: the sweep sees it now
                if (!stored) return done(stored.take_error());
                metrics_.media_uploads.fetch_add(1, std::memory_order_relaxed);
                metrics_.media_upload_bytes.fetch_add(size, std::memory_order_relaxed);
                done(proto::media_item_json(stored->item));
              });
        });
  });
}

Result<store::MediaRecord> MediaService::signed_access(std::string_view media_id, media::Variant v,
                                                       std::string_view query) const {
  auto exp = query_number(query, "exp");
  auto sig = query_param(query, "sig");
  if (!exp || !sig || !*exp || !*sig) return forbidden("invalid signature");
  const auto exp_ms = static_cast<std::int64_t>(**exp);
  if (!signer_.verify(media_id, v, exp_ms, **sig)) return forbidden("invalid signature");
  if (exp_ms < core_.sequencer().clock().now_ms()) return forbidden("signed URL expired");
  // A valid signature names media someone could read when it was made; it
  // stops working as soon as nobody can (deleted for everyone, swept).
  auto& store = core_.sequencer().store();
  auto record = store.get_media(std::string(media_id));
  if (!record) return not_found("media not found");
  if (record->sent && store.media_refs(record->item.media_id, 1).empty()) {
    return not_found("media not found");
  }
  return std::move(*record);
}

Result<MediaDownload> MediaService::open_download(const MediaDownloadRequest& req) {
  const media::Variant variant =
      req.thumbnail ? media::Variant::thumbnail : media::Variant::original;
  const std::string media_id(req.media_id);
  auto has_sig = query_param(req.query, "sig");
  if (!has_sig) return has_sig.take_error();

  std::optional<store::MediaRecord> record;
  if (*has_sig) {
    auto r = signed_access(media_id, variant, req.query);
    if (!r) return r.take_error();
    record = std::move(*r);
  } else {
    if (req.bearer.empty()) return unauthorized("a bearer token or a signed URL is required");
    auto who = core_.accounts().authenticate(req.bearer);
    if (!who) return who.take_error();
    auto r = core_.media().readable(*who, media_id);
    if (!r) return r.take_error();
    record = std::move(*r);
  }
  if (req.thumbnail && !record->item.thumbnail) return not_found("media has no thumbnail");

  const std::string& sha = record->item.sha256;
  const auto path = req.thumbnail ? blobs_.thumb_path(sha) : blobs_.blob_path(sha);
  MediaDownload d;
  d.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (d.fd < 0) return not_found("media not found");  // swept between the check and the open
  struct stat st {};
  if (::fstat(d.fd, &st) != 0) return internal_error("cannot stat media file");
  const auto size = static_cast<std::uint64_t>(st.st_size);

  d.content_type = req.thumbnail ? record->thumbnail_mime : record->item.mime;
  const std::string etag = "\"" + sha + (req.thumbnail ? "-thumbnail\"" : "\"");
  d.headers = {{"ETag", etag},
               {"Cache-Control", "private"},
               {"X-Content-Type-Options", "nosniff"},
               {"Accept-Ranges", "bytes"},
               // Belt and braces: even a document opened directly is an inert,
               // sandboxed page with no access to this origin.
               {"Content-Security-Policy", "sandbox; default-src 'none'"}};
  if (!req.thumbnail && !media::inline_safe(d.content_type)) {
    d.headers.emplace_back("Content-Disposition", attachment_disposition(record->item.filename));
  }
  if (etag_matches(req.if_none_match, etag)) {
    d.status = 304;
    return d;
  }
  const auto range = media::parse_byte_range(req.range, size);
  switch (range.kind) {
    case media::ByteRange::Kind::whole:
      d.status = 200;
      d.offset = 0;
      d.length = size;
      break;
    case media::ByteRange::Kind::partial:
      d.status = 206;
      d.offset = range.first;
      d.length = range.length();
      d.headers.emplace_back("Content-Range", "bytes " + std::to_string(range.first) + "-" +
                                                  std::to_string(range.last) + "/" +
                                                  std::to_string(size));
      break;
    case media::ByteRange::Kind::unsatisfiable:
      d.status = 416;
      d.headers.emplace_back("Content-Range", "bytes */" + std::to_string(size));
      break;
  }
  metrics_.media_downloads.fetch_add(1, std::memory_order_relaxed);
  return d;
}

Result<std::string> MediaService::signed_urls(const core::Principal& who,
                                              const std::string& media_id) {
  auto record = core_.media().readable(who, media_id);
  if (!record) return record.take_error();
  const std::int64_t exp = core_.sequencer().clock().now_ms() + config_.url_ttl_ms;
  auto url = [&](media::Variant v, std::string_view suffix) {
    return "/v1/media/" + media_id + std::string(suffix) + "?exp=" + std::to_string(exp) +
           "&sig=" + signer_.sign(media_id, v, exp);
  };
  json::object o{{"url", url(media::Variant::original, "")}};
  if (record->item.thumbnail) o["thumbnail_url"] = url(media::Variant::thumbnail, "/thumbnail");
  o["expires_ts"] = exp;
  return json::serialize(o);
}

void MediaService::sweep() {
  const auto orphans = core_.media().collect_garbage();
  for (const auto& sha : orphans) {
    if (blobs_.remove_if_unreferenced(sha, [this](const std::string& s) {
          return core_.sequencer().store().blob_referenced(s);
        })) {
      metrics_.media_blobs_removed.fetch_add(1, std::memory_order_relaxed);
    }
  }
}

void MediaService::request_sweep() {
  {
    std::lock_guard lock(sweep_mutex_);
    sweep_requested_ = true;
  }
  sweep_wake_.notify_all();
}

void MediaService::sweep_loop() {
  std::unique_lock lock(sweep_mutex_);
  while (!stopping_) {
    sweep_wake_.wait_for(lock, config_.sweep_interval,
                         [this] { return stopping_ || sweep_requested_; });
    if (stopping_) break;
    sweep_requested_ = false;
    lock.unlock();
    try {
      sweep();
    } catch (const std::exception& e) {
      // A store read failed; the next pass tries again (candidates are durable).
      std::fprintf(stderr, "chatd: media sweep failed: %s\n", e.what());
    }
    lock.lock();
  }
}

}  // namespace chat::net

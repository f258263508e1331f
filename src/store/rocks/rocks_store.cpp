#include "store/rocks/rocks_store.hpp"

#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/options_util.h>
#include <rocksdb/write_batch.h>

#include <array>
#include <type_traits>

#include "store/rocks/codec.hpp"
#include "store/rocks/keys.hpp"

namespace chat::store {
namespace {

using rocks::append_be64;
using rocks::key2;
using rocks::key3;
using rocks::key_seq;
using rocks::prefix;
using rocks::read_be64;

enum Cf : std::size_t {
  kUsers,
  kPhones,
  kDevices,
  kTokens,
  kCursors,
  kChats,
  kMembers,
  kDirect,
  kMessages,
  kIdem,
  kEvents,
  kChatVersions,
  kLastSeen,
  kMedia,
  kMediaBlobs,
  kMediaUnsent,
  kMediaRefs,
  kMediaGc,
  kPushTargets,
  kChatSettings,
  kPushOutbox,
  kPushPushed,
  kCfCount
};
constexpr std::array<const char*, kCfCount> kCfNames = {
    "users",        "phones",        "devices",     "tokens",       "cursors",    "chats",
    "members",      "direct",        "messages",    "idem",         "events",     "chat_versions",
    "last_seen",    "media",         "media_blobs", "media_unsent", "media_refs", "media_gc",
    "push_targets", "chat_settings", "push_outbox", "push_pushed"};

void check(const rocksdb::Status& s) {
  if (!s.ok()) throw StoreError(s.ToString());
}

std::string be64(std::uint64_t v) {
  std::string s;
  append_be64(s, v);
  return s;
}

bool starts_with(const rocksdb::Slice& s, const std::string& p) {
  return s.size() >= p.size() && std::memcmp(s.data(), p.data(), p.size()) == 0;
}

class RocksStore final : public Store {
 public:
  explicit RocksStore(const std::string& dir) {
    rocksdb::Options options;
    options.create_if_missing = true;
    options.create_missing_column_families = true;
    options.max_background_jobs = 2;
    options.bytes_per_sync = 1 << 20;
    options.IncreaseParallelism(2);
    options.max_open_files = kRocksMaxOpenFiles;

    // Point lookups (tokens, idempotency keys, messages) should not touch disk
    // for keys that are absent: bloom filters on every table.
    rocksdb::BlockBasedTableOptions table;
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    table.cache_index_and_filter_blocks = true;
    table.pin_l0_filter_and_index_blocks_in_cache = true;
    table.block_cache = rocksdb::NewLRUCache(256 << 20);
    rocksdb::ColumnFamilyOptions cf_options(options);
    cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));

    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, cf_options);
    // Message rows are stored uncompressed: short texts gain little from block
    // compression, and plain rows make "delete for everyone" verifiable by
    // scanning the files after `chatd --compact` (compressed blocks could hide
    // a body that is still there). Everything else is compressed as usual.
    rocksdb::ColumnFamilyOptions plain_options(cf_options);
    plain_options.compression = rocksdb::kNoCompression;
    for (std::size_t i = 0; i < kCfCount; ++i) {
      descriptors.emplace_back(kCfNames[i], i == kMessages ? plain_options : cf_options);
    }
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    check(rocksdb::DB::Open(rocksdb::DBOptions(options), dir, descriptors, &handles, &db));
    db_.reset(db);
    default_cf_ = handles[0];
    for (std::size_t i = 0; i < kCfCount; ++i)
      cf_[i] = handles[i + 1];
  }

  ~RocksStore() override {
    for (auto* h : cf_)
      (void)db_->DestroyColumnFamilyHandle(h);
    (void)db_->DestroyColumnFamilyHandle(default_cf_);
    (void)db_->Close();
  }

  Status apply(std::span<const Mutation> batch, bool sync) override {
    rocksdb::WriteBatch wb;
    for (const auto& m : batch) {
      std::visit([&](const auto& op) { add(wb, op); }, m);
    }
    rocksdb::WriteOptions wo;
    wo.sync = sync;
    auto s = db_->Write(wo, &wb);
    if (!s.ok()) return internal_error(s.ToString());
    return ok_status();
  }

  Status sync_wal() override {
    auto s = db_->SyncWAL();
    if (!s.ok()) return internal_error(s.ToString());
    return ok_status();
  }

  std::optional<UserRecord> get_user(const std::string& user_id) const override {
    std::string v;
    if (!get(kUsers, user_id, v)) return std::nullopt;
    UserRecord r;
    r.user_id = user_id;
    rocks::decode(v, r);
    return r;
  }

  std::optional<std::int64_t> get_last_seen(const std::string& user_id) const override {
    std::string v;
    if (!get(kLastSeen, user_id, v) || v.size() != 8) return std::nullopt;
    return static_cast<std::int64_t>(read_be64(v));
  }

  std::optional<std::string> find_user_by_phone(const std::string& phone) const override {
    std::string v;
    if (!get(kPhones, phone, v)) return std::nullopt;
    return v;
  }

  std::optional<DeviceRecord> get_device(const std::string& user_id,
                                         const std::string& device_id) const override {
    std::string v;
    if (!get(kDevices, key2(user_id, device_id), v)) return std::nullopt;
    DeviceRecord r;
    r.user_id = user_id;
    r.device_id = device_id;
    rocks::decode(v, r);
    return r;
  }

  std::vector<DeviceRecord> list_devices(const std::string& user_id) const override {
    std::vector<DeviceRecord> out;
    const std::string p = prefix(user_id);
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}, cf_[kDevices]));
    for (it->Seek(p); it->Valid() && starts_with(it->key(), p); it->Next()) {
      DeviceRecord r;
      r.user_id = user_id;
      r.device_id = std::string(rocks::second_part(it->key().ToStringView()));
      rocks::decode(it->value().ToStringView(), r);
      out.push_back(std::move(r));
    }
    check(it->status());
    return out;
  }

  std::optional<DevicePrincipal> find_token(const std::string& token_hash) const override {
    std::string v;
    if (!get(kTokens, token_hash, v)) return std::nullopt;
    return DevicePrincipal{std::string(rocks::first_part(v)), std::string(rocks::second_part(v))};
  }

  std::uint64_t get_cursor(const std::string& user_id,
                           const std::string& device_id) const override {
    std::string v;
    if (!get(kCursors, key2(user_id, device_id), v) || v.size() != 8) return 0;
    return read_be64(v);
  }

  std::optional<MessageRecord> get_message(const std::string& chat_id,
                                           std::uint64_t seq) const override {
    std::string v;
    if (!get(kMessages, key_seq(chat_id, seq), v)) return std::nullopt;
    return message_from(chat_id, seq, v);
  }

  std::vector<MessageRecord> messages_ascending(const std::string& chat_id, std::uint64_t from,
                                                std::uint64_t to,
                                                std::size_t limit) const override {
    std::vector<MessageRecord> out;
    if (from > to) return out;
    const std::string p = prefix(chat_id);
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}, cf_[kMessages]));
    for (it->Seek(key_seq(chat_id, from));
         it->Valid() && starts_with(it->key(), p) && out.size() < limit; it->Next()) {
      const std::uint64_t seq = read_be64(it->key().ToStringView().substr(p.size()));
      if (seq > to) break;
      out.push_back(message_from(chat_id, seq, it->value().ToStringView()));
    }
    check(it->status());
    return out;
  }

  std::vector<MessageRecord> messages_descending(const std::string& chat_id, std::uint64_t from,
                                                 std::uint64_t to,
                                                 std::size_t limit) const override {
    std::vector<MessageRecord> out;
    if (from > to) return out;
    const std::string p = prefix(chat_id);
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}, cf_[kMessages]));
    for (it->SeekForPrev(key_seq(chat_id, to));
         it->Valid() && starts_with(it->key(), p) && out.size() < limit; it->Prev()) {
      const std::uint64_t seq = read_be64(it->key().ToStringView().substr(p.size()));
      if (seq < from) break;
      out.push_back(message_from(chat_id, seq, it->value().ToStringView()));
    }
    check(it->status());
    return out;
  }

  std::optional<std::uint64_t> find_idempotent(const std::string& sender,
                                               const std::string& chat_id,
                                               const std::string& client_msg_id) const override {
    std::string v;
    if (!get(kIdem, key3(sender, chat_id, client_msg_id), v) || v.size() != 8) return std::nullopt;
    return read_be64(v);
  }

  std::vector<EventRecord> events_after(const std::string& user_id, std::uint64_t after,
                                        std::size_t limit) const override {
    std::vector<EventRecord> out;
    const std::string p = prefix(user_id);
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}, cf_[kEvents]));
    for (it->Seek(key_seq(user_id, after + 1));
         it->Valid() && starts_with(it->key(), p) && out.size() < limit; it->Next()) {
      EventRecord r;
      r.user_id = user_id;
      r.offset = read_be64(it->key().ToStringView().substr(p.size()));
      rocks::decode(it->value().ToStringView(), r);
      out.push_back(std::move(r));
    }
    check(it->status());
    return out;
  }

  std::optional<std::string> get_chat_version(const std::string& chat_id,
                                              std::uint64_t seq) const override {
    std::string v;
    if (!get(kChatVersions, key_seq(chat_id, seq), v)) return std::nullopt;
    return v;
  }

  std::optional<MediaRecord> get_media(const std::string& media_id) const override {
    std::string v;
    if (!get(kMedia, media_id, v)) return std::nullopt;
    return media_from(media_id, v);
  }

  std::vector<MediaRefRecord> media_refs(const std::string& media_id,
                                         std::size_t limit) const override {
    std::vector<MediaRefRecord> out;
    const std::string p = prefix(media_id);
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}, cf_[kMediaRefs]));
    for (it->Seek(p); it->Valid() && starts_with(it->key(), p) && out.size() < limit; it->Next()) {
      // media_id 00 chat_id 00 be64(seq)
      const auto rest = it->key().ToStringView().substr(p.size());
      if (rest.size() < 10) continue;
      out.push_back({media_id, std::string(rest.substr(0, rest.size() - 9)),
                     read_be64(rest.substr(rest.size() - 8))});
    }
    check(it->status());
    return out;
  }

  bool blob_referenced(const std::string& sha256) const override {
    const std::string p = prefix(sha256);
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}, cf_[kMediaBlobs]));
    it->Seek(p);
    const bool found = it->Valid() && starts_with(it->key(), p);
    check(it->status());
    return found;
  }

  std::vector<MediaRecord> unsent_media_before(std::int64_t before_ts,
                                               std::size_t limit) const override {
    std::vector<MediaRecord> out;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}, cf_[kMediaUnsent]));
    for (it->SeekToFirst(); it->Valid() && out.size() < limit; it->Next()) {
      // be64(created_ts) media_id
      const auto key = it->key().ToStringView();
      if (key.size() < 8) continue;
      if (static_cast<std::int64_t>(read_be64(key)) >= before_ts) break;
      if (auto m = get_media(std::string(key.substr(8)))) out.push_back(std::move(*m));
    }
    check(it->status());
    return out;
  }

  std::vector<std::string> media_candidates(std::size_t limit) const override {
    std::vector<std::string> out;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}, cf_[kMediaGc]));
    for (it->SeekToFirst(); it->Valid() && out.size() < limit; it->Next())
      out.push_back(it->key().ToString());
    check(it->status());
    return out;
  }

  std::optional<ChatSettingsRecord> get_chat_settings(const std::string& user_id,
                                                      const std::string& chat_id) const override {
    std::string v;
    if (!get(kChatSettings, key2(user_id, chat_id), v)) return std::nullopt;
    ChatSettingsRecord r;
    r.user_id = user_id;
    r.chat_id = chat_id;
    rocks::decode(v, r);
    return r;
  }

  std::vector<PushOutboxRecord> push_outbox_due(std::int64_t due_ms,
                                                std::size_t limit) const override {
    std::vector<PushOutboxRecord> out;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}, cf_[kPushOutbox]));
    for (it->SeekToFirst(); it->Valid() && out.size() < limit; it->Next()) {
      auto r = outbox_from(it->key().ToStringView(), it->value().ToStringView());
      if (!r) continue;
      if (r->due_ms > due_ms) break;
      out.push_back(std::move(*r));
    }
    check(it->status());
    return out;
  }

  void for_each_push_target(const std::function<void(PushTargetRecord&&)>& fn) const override {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}, cf_[kPushTargets]));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const auto key = it->key().ToStringView();
      PushTargetRecord r;
      r.user_id = std::string(rocks::first_part(key));
      r.device_id = std::string(rocks::second_part(key));
      rocks::decode(it->value().ToStringView(), r);
      fn(std::move(r));
    }
    check(it->status());
  }

  void for_each_push_outbox(const std::function<void(PushOutboxRecord&&)>& fn) const override {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}, cf_[kPushOutbox]));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (auto r = outbox_from(it->key().ToStringView(), it->value().ToStringView())) {
        fn(std::move(*r));
      }
    }
    check(it->status());
  }

  void for_each_pushed(const std::function<void(PushedRecord&&)>& fn) const override {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}, cf_[kPushPushed]));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const auto key = it->key().ToStringView();
      const auto v = it->value().ToStringView();
      auto parts = split3(key);
      if (!parts || v.size() != 8) continue;
      fn(PushedRecord{std::string((*parts)[0]), std::string((*parts)[1]), std::string((*parts)[2]),
                      read_be64(v)});
    }
    check(it->status());
  }

  void for_each_chat(const std::function<void(ChatSnapshot&&)>& fn) const override {
    std::unique_ptr<rocksdb::Iterator> chats(db_->NewIterator({}, cf_[kChats]));
    std::unique_ptr<rocksdb::Iterator> members(db_->NewIterator({}, cf_[kMembers]));
    std::unique_ptr<rocksdb::Iterator> messages(db_->NewIterator({}, cf_[kMessages]));
    for (chats->SeekToFirst(); chats->Valid(); chats->Next()) {
      ChatSnapshot snap;
      snap.chat.chat_id = chats->key().ToString();
      rocks::decode(chats->value().ToStringView(), snap.chat);
      const std::string p = prefix(snap.chat.chat_id);
      for (members->Seek(p); members->Valid() && starts_with(members->key(), p); members->Next()) {
        MemberRecord m;
        m.chat_id = snap.chat.chat_id;
        m.user_id = std::string(rocks::second_part(members->key().ToStringView()));
        rocks::decode(members->value().ToStringView(), m);
        snap.members.push_back(std::move(m));
      }
      check(members->status());
      messages->SeekForPrev(key_seq(snap.chat.chat_id, UINT64_MAX));
      if (messages->Valid() && starts_with(messages->key(), p)) {
        snap.last_seq = read_be64(messages->key().ToStringView().substr(p.size()));
        MessageRecord last;
        rocks::decode(messages->value().ToStringView(), last);
        snap.last_ts = last.ts;
      }
      check(messages->status());
      fn(std::move(snap));
    }
    check(chats->status());
  }

  void for_each_user_head(
      const std::function<void(const std::string&, std::uint64_t)>& fn) const override {
    // Walk the users table and find each user's last event with one SeekForPrev.
    std::unique_ptr<rocksdb::Iterator> users(db_->NewIterator({}, cf_[kUsers]));
    std::unique_ptr<rocksdb::Iterator> events(db_->NewIterator({}, cf_[kEvents]));
    for (users->SeekToFirst(); users->Valid(); users->Next()) {
      const std::string user = users->key().ToString();
      const std::string p = prefix(user);
      events->SeekForPrev(key_seq(user, UINT64_MAX));
      if (events->Valid() && starts_with(events->key(), p)) {
        fn(user, read_be64(events->key().ToStringView().substr(p.size())));
      }
      check(events->status());
    }
    check(users->status());
  }

  void for_each_direct(const std::function<void(const std::string&, const std::string&,
                                                const std::string&)>& fn) const override {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}, cf_[kDirect]));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      auto key = it->key().ToStringView();
      fn(std::string(rocks::first_part(key)), std::string(rocks::second_part(key)),
         it->value().ToString());
    }
    check(it->status());
  }

  void compact() override {
    rocksdb::CompactRangeOptions options;
    options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    for (auto* h : cf_)
      check(db_->CompactRange(options, h, nullptr, nullptr));
  }

 private:
  bool get(Cf cf, const std::string& key, std::string& value) const {
    auto s = db_->Get(rocksdb::ReadOptions(), cf_[cf], key, &value);
    if (s.IsNotFound()) return false;
    check(s);
    return true;
  }

  static MessageRecord message_from(const std::string& chat_id, std::uint64_t seq,
                                    std::string_view value) {
    MessageRecord r;
    r.chat_id = chat_id;
    r.seq = seq;
    rocks::decode(value, r);
    return r;
  }

  static MediaRecord media_from(const std::string& media_id, std::string_view value) {
    MediaRecord r;
    r.item.media_id = media_id;
    rocks::decode(value, r);
    return r;
  }

  // "a 00 b 00 c" -> {a, b, c}; null if there are not exactly three parts.
  static std::optional<std::array<std::string_view, 3>> split3(std::string_view key) {
    const auto p1 = key.find('\0');
    if (p1 == std::string_view::npos) return std::nullopt;
    const auto p2 = key.find('\0', p1 + 1);
    if (p2 == std::string_view::npos || key.find('\0', p2 + 1) != std::string_view::npos) {
      return std::nullopt;
    }
    return std::array<std::string_view, 3>{key.substr(0, p1), key.substr(p1 + 1, p2 - p1 - 1),
                                           key.substr(p2 + 1)};
  }

  // be64(due) user 00 device 00 chat 00 type; null for a malformed key.
  static std::optional<PushOutboxRecord> outbox_from(std::string_view key, std::string_view value) {
    if (key.size() < 8 + 2 || key[key.size() - 2] != '\0') return std::nullopt;
    const char type = key.back();
    if (type != 'm' && type != 'c') return std::nullopt;
    auto parts = split3(key.substr(8, key.size() - 8 - 2));
    if (!parts) return std::nullopt;
    PushOutboxRecord r;
    r.due_ms = static_cast<std::int64_t>(read_be64(key));
    r.user_id = std::string((*parts)[0]);
    r.device_id = std::string((*parts)[1]);
    r.chat_id = std::string((*parts)[2]);
    r.type = type == 'c' ? PushType::clear : PushType::message;
    rocks::decode(value, r);
    return r;
  }
  static std::string outbox_key(const PushOutboxRecord& r) {
    return rocks::push_outbox_key(r.due_ms, r.user_id, r.device_id, r.chat_id,
                                  r.type == PushType::clear ? 'c' : 'm');
  }

  void put(rocksdb::WriteBatch& wb, Cf cf, const std::string& k, const std::string& v) {
    check(wb.Put(cf_[cf], k, v));
  }
  void del(rocksdb::WriteBatch& wb, Cf cf, const std::string& k) { check(wb.Delete(cf_[cf], k)); }

  void add(rocksdb::WriteBatch& wb, const PutUser& op) {
    put(wb, kUsers, op.user.user_id, rocks::encode(op.user));
  }
  void add(rocksdb::WriteBatch& wb, const PutPhone& op) { put(wb, kPhones, op.phone, op.user_id); }
  void add(rocksdb::WriteBatch& wb, const PutDevice& op) {
    const auto& d = op.device;
    put(wb, kDevices, key2(d.user_id, d.device_id), rocks::encode(d));
    put(wb, kTokens, d.token_hash, key2(d.user_id, d.device_id));
  }
  void add(rocksdb::WriteBatch& wb, const DeleteDevice& op) {
    del(wb, kDevices, key2(op.user_id, op.device_id));
    del(wb, kCursors, key2(op.user_id, op.device_id));
    del(wb, kTokens, op.token_hash);
    del(wb, kPushTargets, key2(op.user_id, op.device_id));
    // Every pushed row of the device: [user 00 device 00, user 00 device 01).
    std::string from = key2(op.user_id, op.device_id);
    from.push_back('\0');
    std::string to = from;
    to.back() = '\1';
    check(wb.DeleteRange(cf_[kPushPushed], from, to));
  }
  void add(rocksdb::WriteBatch& wb, const PutCursor& op) {
    put(wb, kCursors, key2(op.cursor.user_id, op.cursor.device_id), be64(op.cursor.offset));
  }
  void add(rocksdb::WriteBatch& wb, const PutChat& op) {
    put(wb, kChats, op.chat.chat_id, rocks::encode(op.chat));
  }
  void add(rocksdb::WriteBatch& wb, const PutMember& op) {
    put(wb, kMembers, key2(op.member.chat_id, op.member.user_id), rocks::encode(op.member));
  }
  void add(rocksdb::WriteBatch& wb, const DeleteMember& op) {
    del(wb, kMembers, key2(op.chat_id, op.user_id));
  }
  void add(rocksdb::WriteBatch& wb, const PutDirect& op) {
    put(wb, kDirect, key2(op.user_lo, op.user_hi), op.chat_id);
  }
  void add(rocksdb::WriteBatch& wb, const PutMessage& op) {
    const auto& m = op.message;
    put(wb, kMessages, key_seq(m.chat_id, m.seq), rocks::encode(m));
    if (!m.client_msg_id.empty() && !m.sender.empty()) {
      put(wb, kIdem, key3(m.sender, m.chat_id, m.client_msg_id), be64(m.seq));
    }
  }
  void add(rocksdb::WriteBatch& wb, const PutEvent& op) {
    put(wb, kEvents, key_seq(op.event.user_id, op.event.offset), rocks::encode(op.event));
  }
  void add(rocksdb::WriteBatch& wb, const PutLastSeen& op) {
    put(wb, kLastSeen, op.user_id, be64(static_cast<std::uint64_t>(op.ts)));
  }
  void add(rocksdb::WriteBatch& wb, const PutChatVersion& op) {
    put(wb, kChatVersions, key_seq(op.version.chat_id, op.version.seq), op.version.json);
  }

  void add(rocksdb::WriteBatch& wb, const PutMedia& op) {
    const auto& m = op.media;
    const auto& id = m.item.media_id;
    put(wb, kMedia, id, rocks::encode(m));
    put(wb, kMediaBlobs, key2(m.item.sha256, id), {});
    if (m.sent) {
      del(wb, kMediaUnsent, rocks::media_unsent_key(m.created_ts, id));
    } else {
      put(wb, kMediaUnsent, rocks::media_unsent_key(m.created_ts, id), {});
    }
  }
  void add(rocksdb::WriteBatch& wb, const DeleteMedia& op) {
    del(wb, kMedia, op.media_id);
    del(wb, kMediaBlobs, key2(op.sha256, op.media_id));
    del(wb, kMediaUnsent, rocks::media_unsent_key(op.created_ts, op.media_id));
  }
  void add(rocksdb::WriteBatch& wb, const PutMediaRef& op) {
    put(wb, kMediaRefs, rocks::media_ref_key(op.ref.media_id, op.ref.chat_id, op.ref.seq), {});
  }
  void add(rocksdb::WriteBatch& wb, const DeleteMediaRef& op) {
    del(wb, kMediaRefs, rocks::media_ref_key(op.ref.media_id, op.ref.chat_id, op.ref.seq));
    put(wb, kMediaGc, op.ref.media_id, {});
  }
  void add(rocksdb::WriteBatch& wb, const DeleteMediaCandidate& op) {
    del(wb, kMediaGc, op.media_id);
  }

  void add(rocksdb::WriteBatch& wb, const PutPushTarget& op) {
    put(wb, kPushTargets, key2(op.target.user_id, op.target.device_id), rocks::encode(op.target));
  }
  void add(rocksdb::WriteBatch& wb, const DeletePushTarget& op) {
    del(wb, kPushTargets, key2(op.user_id, op.device_id));
  }
  void add(rocksdb::WriteBatch& wb, const PutChatSettings& op) {
    put(wb, kChatSettings, key2(op.settings.user_id, op.settings.chat_id),
        rocks::encode(op.settings));
  }
  void add(rocksdb::WriteBatch& wb, const DeleteChatSettings& op) {
    del(wb, kChatSettings, key2(op.user_id, op.chat_id));
  }
  void add(rocksdb::WriteBatch& wb, const PutPushOutbox& op) {
    put(wb, kPushOutbox, outbox_key(op.row), rocks::encode(op.row));
  }
  void add(rocksdb::WriteBatch& wb, const DeletePushOutbox& op) {
    del(wb, kPushOutbox, outbox_key(op.row));
  }
  void add(rocksdb::WriteBatch& wb, const PutPushed& op) {
    const auto& p = op.pushed;
    put(wb, kPushPushed, key3(p.user_id, p.device_id, p.chat_id), be64(p.seq));
  }
  void add(rocksdb::WriteBatch& wb, const DeletePushed& op) {
    del(wb, kPushPushed, key3(op.user_id, op.device_id, op.chat_id));
  }

  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::ColumnFamilyHandle* default_cf_ = nullptr;
  std::array<rocksdb::ColumnFamilyHandle*, kCfCount> cf_{};
};

}  // namespace

std::unique_ptr<Store> open_rocks_store(const std::string& dir) {
  return std::make_unique<RocksStore>(dir);
}

}  // namespace chat::store

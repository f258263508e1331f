// Key layout of the embedded store. One RocksDB column family per table;
// integers are 8-byte big-endian so byte order == numeric order; the parts of a
// composite key are separated by a 0x00 byte (ids and phones never contain it).
//
//   column family   key                                   value (codec.hpp)
//   -------------   -----------------------------------   ---------------------
//   users           user_id                               UserRecord
//   phones          phone                                 user_id
//   devices         user_id 00 device_id                  DeviceRecord
//   tokens          token_hash                            user_id 00 device_id
//   cursors         user_id 00 device_id                  be64 offset
//   chats           chat_id                               ChatRecord
//   members         chat_id 00 user_id                    MemberRecord
//   direct          user_lo 00 user_hi                    chat_id
//   messages        chat_id 00 be64(seq)                  MessageRecord
//   idem            sender 00 chat_id 00 client_msg_id    be64 seq
//   events          user_id 00 be64(offset)               EventRecord
//   chat_versions   chat_id 00 be64(seq)                  chat object JSON
//   last_seen       user_id                               be64 ms
//   media           media_id                              MediaRecord
//   media_blobs     sha256 00 media_id                    (empty)
//   media_unsent    be64(created_ts) media_id             (empty; while !sent)
//   media_refs      media_id 00 chat_id 00 be64(seq)      (empty; live messages)
//   media_gc        media_id                              (empty; a ref was dropped)
//   push_targets    user_id 00 device_id                  PushTargetRecord (kind, target JSON)
//   chat_settings   user_id 00 chat_id                    ChatSettingsRecord (muted_until, preview)
//   push_outbox     be64(due_ms) user_id 00 device_id     PushOutboxRecord (message | clear,
//                     00 chat_id 00 type ('m' | 'c')        seq, offset, attempts, first_due)
//   push_pushed     user_id 00 device_id 00 chat_id       be64 seq (pushed, not withdrawn)
//
//   e.g. messages key of ("c5f0...", seq 42):
//   +-----------------+----+-------------------------+
//   | c 5 f 0 ...     | 00 | 00 00 00 00 00 00 00 2a |
//   +-----------------+----+-------------------------+
//
// A chat's last_seq and a user's head are not stored separately: they are the
// last key under the chat's / user's prefix (found with one SeekForPrev).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace chat::store::rocks {

inline void append_be64(std::string& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xff));
}

inline std::uint64_t read_be64(std::string_view s) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v = (v << 8) | static_cast<unsigned char>(s[i]);
  return v;
}

inline std::string key2(std::string_view a, std::string_view b) {
  std::string k;
  k.reserve(a.size() + b.size() + 1);
  k.append(a).push_back('\0');
  k.append(b);
  return k;
}

inline std::string key3(std::string_view a, std::string_view b, std::string_view c) {
  std::string k = key2(a, b);
  k.push_back('\0');
  k.append(c);
  return k;
}

inline std::string prefix(std::string_view id) {
  std::string k(id);
  k.push_back('\0');
  return k;
}

inline std::string key_seq(std::string_view id, std::uint64_t n) {
  std::string k = prefix(id);
  append_be64(k, n);
  return k;
}

// media_unsent: be64 is fixed-width, so no separator is needed before the id.
inline std::string media_unsent_key(std::int64_t created_ts, std::string_view media_id) {
  std::string k;
  append_be64(k, static_cast<std::uint64_t>(created_ts));
  k.append(media_id);
  return k;
}

inline std::string media_ref_key(std::string_view media_id, std::string_view chat_id,
                                 std::uint64_t seq) {
  std::string k = key2(media_id, chat_id);
  k.push_back('\0');
  append_be64(k, seq);
  return k;
}

// push_outbox: be64 is fixed-width (byte order == due order), then the rest.
inline std::string push_outbox_key(std::int64_t due_ms, std::string_view user_id,
                                   std::string_view device_id, std::string_view chat_id,
                                   char type) {
  std::string k;
  append_be64(k, static_cast<std::uint64_t>(due_ms));
  k.append(key3(user_id, device_id, chat_id));
  k.push_back('\0');
  k.push_back(type);
  return k;
}

// The part after the 0x00 separator, for two-part keys.
inline std::string_view second_part(std::string_view key) {
  auto pos = key.find('\0');
  return pos == std::string_view::npos ? std::string_view{} : key.substr(pos + 1);
}

inline std::string_view first_part(std::string_view key) {
  return key.substr(0, key.find('\0'));
}

}  // namespace chat::store::rocks

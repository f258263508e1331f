// Value encodings of the embedded store: compact JSON objects with short keys.
// JSON keeps the data dir inspectable with `ldb` and lets fields be added
// without a migration (unknown keys are ignored, missing ones default).
#pragma once

#include <string>
#include <string_view>

#include "store/records.hpp"

namespace chat::store::rocks {

std::string encode(const UserRecord& r);
std::string encode(const DeviceRecord& r);
std::string encode(const ChatRecord& r);
std::string encode(const MemberRecord& r);
std::string encode(const MessageRecord& r);
std::string encode(const EventRecord& r);
std::string encode(const MediaRecord& r);  // all but item.media_id (the key)
std::string encode(const PushTargetRecord& r);
std::string encode(const ChatSettingsRecord& r);
std::string encode(const PushOutboxRecord& r);  // seq, offset, attempts, first_due (type: key)

// Decoders fill the fields that are not part of the key; they throw
// StoreError on a corrupt value.
void decode(std::string_view v, UserRecord& r);
void decode(std::string_view v, DeviceRecord& r);
void decode(std::string_view v, ChatRecord& r);
void decode(std::string_view v, MemberRecord& r);
void decode(std::string_view v, MessageRecord& r);
void decode(std::string_view v, EventRecord& r);
void decode(std::string_view v, MediaRecord& r);
void decode(std::string_view v, PushTargetRecord& r);
void decode(std::string_view v, ChatSettingsRecord& r);
void decode(std::string_view v, PushOutboxRecord& r);

}  // namespace chat::store::rocks

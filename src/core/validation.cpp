#include "core/validation.hpp"

#include "base/utf8.hpp"

namespace chat::core {

bool valid_phone(std::string_view phone) {
  if (phone.size() < 9 || phone.size() > 16 || phone[0] != '+' || phone[1] == '0') return false;
  for (std::size_t i = 1; i < phone.size(); ++i) {
    if (phone[i] < '0' || phone[i] > '9') return false;
  }
  return true;
}

Status check_label(std::string_view value, std::size_t max_chars, std::string_view field) {
  const std::size_t n = utf8_length(value);
  if (n == 0) return bad_request(std::string(field) + " must not be empty");
  if (n > max_chars) {
    return too_large(std::string(field) + " is longer than " + std::to_string(max_chars) +
                     " characters");
  }
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7f) return bad_request(std::string(field) + " has control characters");
  }
  return ok_status();
}

bool plausible_id(std::string_view id, char kind) {
  if (id.size() != 17 || id[0] != kind) return false;
  for (std::size_t i = 1; i < id.size(); ++i) {
    const char c = id[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace chat::core

#include "base/random.hpp"

#include <openssl/rand.h>

#include <array>
#include <random>
#include <stdexcept>

namespace chat {
namespace {

void csprng(unsigned char* out, std::size_t n) {
  if (RAND_bytes(out, static_cast<int>(n)) != 1) throw std::runtime_error("RAND_bytes failed");
}

std::uint64_t seeded_state() {
  std::uint64_t seed = 0;
  csprng(reinterpret_cast<unsigned char*>(&seed), sizeof seed);
  return seed | 1;
}

// splitmix64: tiny, fast, good enough for non-secret identifiers.
std::uint64_t next_u64() {
  thread_local std::uint64_t state = seeded_state();
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

std::string to_hex(const unsigned char* data, std::size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(size * 2, '0');
  for (std::size_t i = 0; i < size; ++i) {
    out[2 * i] = kDigits[data[i] >> 4];
    out[2 * i + 1] = kDigits[data[i] & 0xf];
  }
  return out;
}

std::string new_id(char kind) {
  std::uint64_t v = next_u64();
  std::array<unsigned char, 8> bytes{};
  for (int i = 7; i >= 0; --i, v >>= 8)
    bytes[i] = static_cast<unsigned char>(v);
  return kind + to_hex(bytes.data(), bytes.size());
}

std::string random_hex_secret(std::size_t bytes) {
  std::string raw(bytes, '\0');
  csprng(reinterpret_cast<unsigned char*>(raw.data()), bytes);
  return to_hex(reinterpret_cast<const unsigned char*>(raw.data()), bytes);
}

std::string random_digits(int digits) {
  std::string out;
  out.reserve(digits);
  while (static_cast<int>(out.size()) < digits) {
    unsigned char b = 0;
    csprng(&b, 1);
    if (b >= 250) continue;  // reject to keep the digits uniform
    out.push_back(static_cast<char>('0' + b % 10));
  }
  return out;
}

}  // namespace chat

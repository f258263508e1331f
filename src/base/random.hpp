// Identifiers and secrets.
//
// IDs are opaque to clients (PROTOCOL.md): a one-letter kind prefix and 16
// random hex digits (`u3f9c...`), from a per-thread generator seeded by the OS.
// Tokens and OTP codes are secrets and come from OpenSSL's CSPRNG.
#pragma once

#include <cstdint>
#include <string>

namespace chat {

// e.g. new_id('u') -> "u1f0c9a3b5d7e2f40". Fast: no syscall, no lock.
std::string new_id(char kind);

// `bytes` bytes from the CSPRNG, hex-encoded.
std::string random_hex_secret(std::size_t bytes);

// A uniformly random decimal code of `digits` digits (leading zeros kept).
std::string random_digits(int digits);

std::string to_hex(const unsigned char* data, std::size_t size);

}  // namespace chat

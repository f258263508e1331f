// The embedded Store: RocksDB, one column family per table (see keys.hpp).
// Created by apps/ only; the rest of the server sees a `Store&`.
#pragma once

#include <memory>
#include <string>

#include "store/store.hpp"

namespace chat::store {

// Table files RocksDB keeps open at most (its table cache). Bounded so that a
// server near its open-files limit still has descriptors for its store: chatd
// keeps this many (plus a margin) out of the connections it accepts.
constexpr int kRocksMaxOpenFiles = 512;

// Opens (creating if needed) the store in `dir`. Throws StoreError on failure.
std::unique_ptr<Store> open_rocks_store(const std::string& dir);

}  // namespace chat::store

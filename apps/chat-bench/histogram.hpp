// A latency histogram in the spirit of HdrHistogram: log-linear buckets
// (exact below 64 us, then each power of two split into 32 linear buckets:
// ~3 % relative precision), fixed memory, O(1) record, mergeable across
// threads and processes (the bucket counts are part of the JSON report).
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace chat::bench {

class Histogram {
 public:
  static constexpr int kSubBits = 6;
  static constexpr int kMagnitudes = 40 - kSubBits;  // values up to ~2^40 us (12 days)
  static constexpr std::size_t kBuckets = (1u << kSubBits) + kMagnitudes * (1u << (kSubBits - 1));

  void record(std::uint64_t value_us);
  void merge(const Histogram& other);

  std::uint64_t count() const { return count_; }
  std::uint64_t max() const { return max_; }
  // The value at or below which `p` (0..100) percent of the samples fall.
  std::uint64_t percentile(double p) const;

  // "b:count,b:count,..." of the non-empty buckets (for cross-process merges).
  std::string encode() const;

 private:
  static std::size_t bucket_of(std::uint64_t v);
  static std::uint64_t upper_bound_of(std::size_t bucket);

  std::array<std::uint64_t, kBuckets> counts_{};
  std::uint64_t count_ = 0;
  std::uint64_t max_ = 0;
};

}  // namespace chat::bench

#include "histogram.hpp"

#include <algorithm>
#include <bit>

namespace chat::bench {

// Values below 64 have a bucket each. Above, a value with bit width 6 + m
// (m >= 1) falls in one of 32 buckets of its magnitude, by its top 6 bits
// (which lie in [32, 63]): a bucket spans 2^m, about 3 % of its values.
std::size_t Histogram::bucket_of(std::uint64_t v) {
  constexpr std::uint64_t kExact = 1u << kSubBits;
  if (v < kExact) return static_cast<std::size_t>(v);
  const int m = std::bit_width(v) - kSubBits;
  const std::uint64_t top = v >> m;  // in [32, 63]
  const std::size_t index =
      kExact + static_cast<std::size_t>(m - 1) * (kExact / 2) + (top - kExact / 2);
  return std::min(index, kBuckets - 1);
}

std::uint64_t Histogram::upper_bound_of(std::size_t bucket) {
  constexpr std::size_t kExact = 1u << kSubBits;
  if (bucket < kExact) return bucket;
  const std::size_t m = (bucket - kExact) / (kExact / 2) + 1;
  const std::uint64_t top = (bucket - kExact) % (kExact / 2) + kExact / 2;
  return ((top + 1) << m) - 1;
}

void Histogram::record(std::uint64_t value_us) {
  ++counts_[bucket_of(value_us)];
  ++count_;
  max_ = std::max(max_, value_us);
}

void Histogram::merge(const Histogram& other) {
  for (std::size_t i = 0; i < kBuckets; ++i)
    counts_[i] += other.counts_[i];
  count_ += other.count_;
  max_ = std::max(max_, other.max_);
}

std::uint64_t Histogram::percentile(double p) const {
  if (count_ == 0) return 0;
  const auto rank = static_cast<std::uint64_t>(p / 100.0 * static_cast<double>(count_ - 1)) + 1;
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(upper_bound_of(i), max_);
  }
  return max_;
}

std::string Histogram::encode() const {
  std::string out;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    if (!counts_[i]) continue;
    if (!out.empty()) out += ',';
    out += std::to_string(upper_bound_of(i)) + ':' + std::to_string(counts_[i]);
  }
  return out;
}

}  // namespace chat::bench

#include "latency_histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <string>

namespace logstats {

namespace {

constexpr std::uint64_t exact_below = 64;  // microseconds counted one by one
constexpr std::uint64_t sub_buckets = 32;  // per power of two above that

std::size_t bucket_of(std::uint64_t micros) {
  if (micros < exact_below) return micros;
  const auto shift = static_cast<std::uint64_t>(std::bit_width(micros)) - 6;  // keep 6 bits
  const std::uint64_t top = micros >> shift;                                  // 32..63
  const std::uint64_t index = exact_below + (shift - 1) * sub_buckets + (top - sub_buckets);
  return static_cast<std::size_t>(
      std::min<std::uint64_t>(index, latency_histogram::bucket_count - 1));
}

double bucket_middle(std::size_t index) {
  if (index < exact_below) return static_cast<double>(index);
  const std::size_t shift = (index - exact_below) / sub_buckets + 1;
  const std::size_t top = (index - exact_below) % sub_buckets + sub_buckets;
  return std::ldexp(static_cast<double>(top) + 0.5, static_cast<int>(shift));
}

}  // namespace

latency_histogram::latency_histogram() : buckets_(bucket_count, 0) {}

void latency_histogram::add(std::uint64_t micros) { ++buckets_[bucket_of(micros)]; }

void latency_histogram::merge(const latency_histogram& other) {
  for (std::size_t i = 0; i < bucket_count; ++i) buckets_[i] += other.buckets_[i];
}

std::uint64_t latency_histogram::count() const {
  std::uint64_t total = 0;
  for (const auto n : buckets_) total += n;
  return total;
}

double latency_histogram::percentile(double p) const {
  const std::uint64_t total = count();
  if (total == 0) return 0;
  const auto rank = std::max<std::uint64_t>(
      1, static_cast<std::uint64_t>(std::ceil(p / 100.0 * static_cast<double>(total))));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < bucket_count; ++i) {
    seen += buckets_[i];
    if (seen >= rank) return bucket_middle(i);
  }
  return bucket_middle(bucket_count - 1);
}

std::vector<std::pair<std::uint32_t, std::uint64_t>> latency_histogram::nonzero() const {
  std::vector<std::pair<std::uint32_t, std::uint64_t>> used;
  for (std::size_t i = 0; i < bucket_count; ++i)
    if (buckets_[i] != 0) used.emplace_back(static_cast<std::uint32_t>(i), buckets_[i]);
  return used;
}

latency_histogram latency_histogram::from_nonzero(
    const std::vector<std::pair<std::uint32_t, std::uint64_t>>& buckets) {
  latency_histogram histogram;
  for (const auto& [index, n] : buckets) {
    if (index >= bucket_count)
      throw tandem::decode_error("logstats: latency bucket " + std::to_string(index) +
                                 " out of range");
    histogram.buckets_[index] += n;
  }
  return histogram;
}

}  // namespace logstats

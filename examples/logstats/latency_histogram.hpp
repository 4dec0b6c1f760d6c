// latency_histogram.hpp — latencies counted in log-linear buckets, so that
// histograms of separate chunks merge exactly and give percentiles.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include <tandem/serialize.hpp>

namespace logstats {

// latency_histogram counts latencies in microseconds: one bucket per
// microsecond below 64, then 32 buckets per power of two (about 3% wide),
// up to 2^38 us (three days), above which everything shares the last one.
class latency_histogram {
 public:
  static constexpr std::size_t bucket_count = 64 + 32 * 32;

  latency_histogram();

  void add(std::uint64_t micros);
  void merge(const latency_histogram& other);
  std::uint64_t count() const;
  // percentile() is the middle of the bucket holding the nearest-rank
  // p-th percentile (p in (0, 100]), in microseconds; 0 when empty.
  double percentile(double p) const;

  // nonzero() is (bucket, count) for each bucket in use: the wire form,
  // as most of the buckets of a chunk's histogram are empty.
  std::vector<std::pair<std::uint32_t, std::uint64_t>> nonzero() const;
  // from_nonzero() rebuilds a histogram; tandem::decode_error for a bucket
  // out of range (the bytes came from another process).
  static latency_histogram from_nonzero(
      const std::vector<std::pair<std::uint32_t, std::uint64_t>>& buckets);

  friend bool operator==(const latency_histogram&, const latency_histogram&) = default;

 private:
  std::vector<std::uint64_t> buckets_;
};

}  // namespace logstats

template <>
struct tandem::serializer<logstats::latency_histogram> {
  static void write(tandem::writer& out, const logstats::latency_histogram& histogram) {
    out.write(histogram.nonzero());
  }
  static logstats::latency_histogram read(tandem::reader& in) {
    return logstats::latency_histogram::from_nonzero(
        in.read<std::vector<std::pair<std::uint32_t, std::uint64_t>>>());
  }
};

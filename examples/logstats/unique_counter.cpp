#include "unique_counter.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace logstats {

namespace {

constexpr int index_bits = 12;  // 4096 registers

std::uint64_t mix(std::uint64_t x) {  // splitmix64's finalizer: keys spread evenly
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace

void unique_counter::add(std::uint64_t key) {
  const std::uint64_t h = mix(key + 0x9e3779b97f4a7c15ull);
  const auto index = static_cast<std::size_t>(h >> (64 - index_bits));
  const std::uint64_t rest = h << index_bits;
  const auto rank =
      static_cast<std::uint8_t>(rest == 0 ? 64 - index_bits + 1 : std::countl_zero(rest) + 1);
  registers_[index] = std::max(registers_[index], rank);
}

void unique_counter::merge(const unique_counter& other) {
  for (std::size_t i = 0; i < registers_.size(); ++i)
    registers_[i] = std::max(registers_[i], other.registers_[i]);
}

double unique_counter::estimate() const {
  const double m = static_cast<double>(registers_.size());
  double sum = 0;
  int zeros = 0;
  for (const auto r : registers_) {
    sum += std::ldexp(1.0, -r);
    zeros += r == 0;
  }
  const double raw = 0.7213 / (1 + 1.079 / m) * m * m / sum;
  // Few keys: counting the empty registers is the better estimate.
  return raw <= 2.5 * m && zeros > 0 ? m * std::log(m / zeros) : raw;
}

}  // namespace logstats

// deadline.hpp — timeouts made safe to compute with: a huge one means "no
// deadline", never an overflow into the past. Not the user's business.
#pragma once

#include <chrono>
#include <cstdint>

namespace tandem::detail {

// saturating_ns() is `timeout` in nanoseconds, clamped to what an int64
// holds: seconds::max() or a thousand years must not wrap around to a
// negative or a small count.
template <class Rep, class Period>
constexpr std::int64_t saturating_ns(const std::chrono::duration<Rep, Period>& timeout) noexcept {
  using wide = std::chrono::duration<long double, std::nano>;
  const long double ns = std::chrono::duration_cast<wide>(timeout).count();
  if (ns >= static_cast<long double>(INT64_MAX)) return INT64_MAX;
  if (ns <= static_cast<long double>(INT64_MIN)) return INT64_MIN;
  return std::chrono::duration_cast<std::chrono::nanoseconds>(timeout).count();
}

// deadline_after() is now + `timeout`, saturating: a huge timeout means no
// deadline instead of overflowing into the past; a negative one means now.
// Any duration type converts here, so the caller's own conversion cannot
// overflow first (seconds::max() as nanoseconds would).
template <class Rep, class Period>
std::chrono::steady_clock::time_point deadline_after(
    const std::chrono::duration<Rep, Period>& timeout) {
  using clock = std::chrono::steady_clock;
  const auto now = clock::now();
  const std::chrono::nanoseconds wait(saturating_ns(timeout));
  if (wait <= std::chrono::nanoseconds::zero()) return now;
  if (wait >= clock::time_point::max() - now) return clock::time_point::max();
  return now + std::chrono::duration_cast<clock::duration>(wait);
}

}  // namespace tandem::detail

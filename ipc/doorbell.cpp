#include "ipc/doorbell.hpp"

#include "ipc/futex.hpp"

#include <climits>

namespace tandem::ipc {

doorbell::clock::time_point doorbell::deadline_after(std::chrono::nanoseconds timeout) noexcept {
  if (timeout.count() < 0) return clock::time_point::max();
  return clock::now() + timeout;
}

bool doorbell::make_ringers_fence() noexcept {
  awake_waits.store(0, std::memory_order_relaxed);
  if (word.load(std::memory_order_relaxed) & fence_bit) return true;
  word.fetch_or(fence_bit, std::memory_order_seq_cst);
  if (heavy_fence()) return true;
  word.fetch_and(~fence_bit, std::memory_order_seq_cst);
  return false;
}

void doorbell::count_awake_wait() noexcept {
  if ((word.load(std::memory_order_relaxed) & fence_bit) == 0) return;
  const std::uint32_t awake = awake_waits.load(std::memory_order_relaxed) + 1;
  if (awake < light_after) return awake_waits.store(awake, std::memory_order_relaxed);
  awake_waits.store(0, std::memory_order_relaxed);
  word.fetch_and(~fence_bit, std::memory_order_seq_cst);
}

void doorbell::wake(std::uint32_t seen) noexcept {
  // Clear the parked bit and bump the count in one step, so exactly one
  // ringer pays for the system call and a waiter about to sleep sees the
  // change. fence_bit is kept.
  constexpr std::uint32_t count_step = 4;
  while (seen & parked_bit) {
    const std::uint32_t next = (seen & ~parked_bit) + count_step;
    if (word.compare_exchange_weak(seen, next, std::memory_order_seq_cst)) {
      futex_wake(word, INT_MAX, futex_scope::shared);
      return;
    }
  }
}

bool doorbell::park(std::uint32_t armed, clock::time_point deadline) noexcept {
  if (deadline == clock::time_point::max()) {
    futex_wait(word, armed, futex_scope::shared);
    return true;
  }
  const auto left = deadline - clock::now();
  if (left <= clock::duration::zero()) return false;
  futex_wait(word, armed, futex_scope::shared,
             std::chrono::duration_cast<std::chrono::nanoseconds>(left));
  return true;
}

}  // namespace tandem::ipc

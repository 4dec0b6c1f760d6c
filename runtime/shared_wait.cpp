#include "runtime/shared_wait.hpp"

#include <cerrno>

#include "ipc/futex.hpp"
#include "runtime/cpu_relax.hpp"

namespace tandem::detail {
namespace {

// About a microsecond of pauses: enough to catch a peer that is mid-way
// through its operation, short enough not to steal a core on a 2-core box.
constexpr int spin_rounds = 128;

}  // namespace

bool wait_for_change(const std::atomic<std::uint32_t>& word, std::uint32_t seen,
                     shared_clock::time_point deadline) noexcept {
  for (int i = 0; i < spin_rounds; ++i) {
    if (word.load(std::memory_order_acquire) != seen) return true;
    cpu_relax();
  }
  std::chrono::nanoseconds limit{-1};
  if (deadline != no_deadline) {
    limit = deadline - shared_clock::now();
    if (limit <= std::chrono::nanoseconds::zero()) return false;
  }
  const int rc = ipc::futex_wait(word, seen, ipc::futex_scope::shared, limit);
  return rc != -ETIMEDOUT;
}

bool sleep_while_unchanged(const std::atomic<std::uint32_t>& word, std::uint32_t seen,
                           std::atomic<std::uint32_t>& waiters,
                           shared_clock::time_point deadline) noexcept {
  waiters.fetch_add(1, std::memory_order_seq_cst);
  const bool woken =
      word.load(std::memory_order_seq_cst) != seen || wait_for_change(word, seen, deadline);
  waiters.fetch_sub(1, std::memory_order_relaxed);
  return woken;
}

void wake_waiters(const std::atomic<std::uint32_t>& word, int count) noexcept {
  ipc::futex_wake(word, count, ipc::futex_scope::shared);
}

}  // namespace tandem::detail

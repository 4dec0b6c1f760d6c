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

void wake_waiters(const std::atomic<std::uint32_t>& word, int count) noexcept {
  ipc::futex_wake(word, count, ipc::futex_scope::shared);
}

}  // namespace tandem::detail

#include "runtime/wait_backoff.hpp"

#include <thread>

#include "ipc/futex.hpp"
#include "runtime/cpu_relax.hpp"

namespace tandem::detail {

namespace {
constexpr unsigned spin_rounds = 64;   // ~1-4 us of pause instructions
constexpr unsigned yield_rounds = 16;  // then give the core away a few times
}  // namespace

void backoff_step(unsigned round) noexcept {
  if (round < spin_rounds) {
    for (unsigned i = 0; i < 16; ++i) cpu_relax();
  } else {
    std::this_thread::yield();
  }
}

void wait_backoff::pause_or_sleep(state_base& s, std::chrono::nanoseconds limit) {
  if (round_ < spin_rounds + yield_rounds) {
    backoff_step(round_++);
  } else {
    sleep_until_ready(s, limit);
  }
}

void sleep_until_ready(state_base& s, std::chrono::nanoseconds limit) noexcept {
  auto& word = s.ready_word();
  std::uint32_t seen = word.load(std::memory_order_acquire);
  if (seen == state_base::ready) return;
  if (seen == state_base::pending &&
      !word.compare_exchange_strong(seen, state_base::pending_with_sleepers,
                                    std::memory_order_acq_rel, std::memory_order_acquire))
    return;  // it changed under us: the caller re-checks
  ipc::futex_wait(word, state_base::pending_with_sleepers, ipc::futex_scope::process_private,
                  limit);
}

}  // namespace tandem::detail

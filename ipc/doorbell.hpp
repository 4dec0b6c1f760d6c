// doorbell.hpp — spin-then-park wake-ups on a futex word in shared memory.
//
// One side waits for a condition (a ring is no longer empty, a heap block
// came back); the other side makes it true and rings. The waiter spins a
// little first, because a peer that is awake answers in well under a
// microsecond, then parks on a shared futex (futex_scope::shared, no
// FUTEX_PRIVATE_FLAG, so it works across fork). The ringer makes a system
// call only when the waiter is parked: on the hot path ring() is one load
// (plus one RMW while the waiter asks light ringers to fence, below).
//
// Memory-ordering contract (the Dekker pair that rules out a lost wake-up):
//  * The waiter sets the parked bit with a seq_cst RMW on `word`, then
//    re-checks its condition with a seq_cst load.
//  * The ringer publishes the condition with a seq_cst store or RMW, then
//    loads `word` with seq_cst in ring().
// Both pairs are in the single total order of seq_cst operations, so either
// the waiter's re-check sees the new data, or ring() sees the parked bit.
// When ring() sees it, it clears the bit and bumps the count in one CAS,
// which changes the futex word, so a waiter that has not reached
// futex_wait yet gets -EAGAIN instead of sleeping through the wake.
//
// Light ringers (ringers::light, asymmetric_fence.hpp): ringers that ring
// often may publish with a release store and light_fence() instead, as
// long as the waiter's `fence_bit` is clear. A waiter that waits with
// ringers::light sets fence_bit before it parks and, when it was clear,
// runs heavy_fence(): every ringer has then either published where the
// re-check will see it, or will see fence_bit in ring(), which then
// completes the Dekker pair with a seq_cst RMW of `word` before it looks at
// the parked bit. The waiter clears fence_bit again once light_after waits
// in a row have ended while it spun, so ringers are light while the waiter
// is busy, a waiter that parks on every wait pays heavy_fence() only once,
// and one whose waits alternate (a heavy fence interrupts every core that
// runs a registered process) pays it at most once every light_after waits.
// Every ringer's process must be registered (asymmetric_fence.hpp). If
// heavy_fence() fails, the waiter cannot trust its re-check: it parks for
// at most unfenced_park at a time and looks again. publish() is the
// ringer's side of either kind.
//
// Word layout: bit 0 = a waiter is parked; bit 1 = fence_bit; bits 2..31 =
// ring count (wraps). One waiter per doorbell; any number of ringers.
#pragma once

#include "ipc/asymmetric_fence.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <type_traits>

namespace tandem::ipc {

// cpu_relax() tells the core we are spinning (x86 PAUSE), so the sibling
// hyper-thread runs and the spin costs less power.
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// ringers says how the ringers of a doorbell order their publication
// before ring(): with a seq_cst store or RMW, or (light) with a release
// store and light_fence(). See the contract above.
enum class ringers : std::uint8_t { fenced, light };

// wait_policy says how long a waiter spins before parking, and how long it
// waits in all (negative: no limit).
struct wait_policy {
  std::uint32_t spins = 4000;
  std::chrono::nanoseconds timeout{-1};
};

// doorbell lives in shared memory: the futex word, and the waiter's count
// of waits that ended while it spun.
struct doorbell {
  static constexpr std::uint32_t parked_bit = 1;
  static constexpr std::uint32_t fence_bit = 2;
  static constexpr std::uint32_t light_after = 16;

  std::atomic<std::uint32_t> word{0};
  std::atomic<std::uint32_t> awake_waits{0};  // only the waiter uses it

  // publish() stores `value` into `cell` (the condition the waiter checks)
  // the way ringers of kind `by` must, then rings.
  template <class T>
  void publish(std::atomic<T>& cell, T value, ringers by) noexcept {
    if (by == ringers::light) {
      cell.store(value, std::memory_order_release);
      light_fence();
    } else {
      cell.store(value, std::memory_order_seq_cst);
    }
    ring();
  }

  // ring() wakes the parked waiter, if any. Call it after publishing the
  // condition with a seq_cst store or RMW, or, for a waiter that waits with
  // ringers::light, with a release store and light_fence() (see above).
  void ring() noexcept {
    std::uint32_t seen = word.load(std::memory_order_seq_cst);
    if (seen & fence_bit) seen = word.fetch_or(0, std::memory_order_seq_cst);
    if (seen & parked_bit) wake(seen);
  }

  // reset() forgets everything, for a fresh start while nobody waits or
  // rings (a peer died, or none was started).
  void reset() noexcept {
    word.store(0, std::memory_order_seq_cst);
    awake_waits.store(0, std::memory_order_relaxed);
  }

  // wait() returns true as soon as ready() holds, false if the policy's
  // timeout passed first. ready() must read the condition with seq_cst
  // loads; `by` says how the ringers publish it. Only one thread (in any
  // process) may wait on a doorbell at once.
  template <class Ready>
  bool wait(Ready&& ready, const wait_policy& policy, ringers by = ringers::fenced) {
    for (std::uint32_t i = 0; i < policy.spins; ++i) {
      if (!ready()) {
        cpu_relax();
        continue;
      }
      if (by == ringers::light) count_awake_wait();
      return true;
    }
    const bool ordered = by == ringers::fenced || make_ringers_fence();
    const auto deadline = deadline_after(policy.timeout);
    for (;;) {
      std::uint32_t armed = word.fetch_or(parked_bit, std::memory_order_seq_cst) | parked_bit;
      if (ready()) return disarm(armed), true;
      if (!park(armed, ordered ? deadline : std::min(deadline, clock::now() + unfenced_park)))
        return disarm(armed), ready();
    }
  }

 private:
  using clock = std::chrono::steady_clock;

  // How long a waiter whose heavy_fence() failed sleeps before it looks
  // again: a wake-up it may have missed costs at most this.
  static constexpr std::chrono::milliseconds unfenced_park{1};

  static clock::time_point deadline_after(std::chrono::nanoseconds timeout) noexcept;
  // make_ringers_fence() sets fence_bit before the waiter parks; false if
  // the ringers could not be ordered (heavy_fence() failed: the bit is then
  // left clear). Only the waiter changes fence_bit (and reset() of a ring
  // or heap, while no peer runs), so its own relaxed loads of it and of
  // awake_waits are current.
  bool make_ringers_fence() noexcept;
  // count_awake_wait() clears fence_bit after light_after waits in a row
  // ended while the waiter spun.
  void count_awake_wait() noexcept;
  void wake(std::uint32_t seen) noexcept;
  // disarm() clears our parked bit unless a ringer already did: a stale bit
  // would cost the next ring() a system call.
  void disarm(std::uint32_t armed) noexcept {
    word.compare_exchange_strong(armed, armed & ~parked_bit, std::memory_order_seq_cst);
  }
  // park() sleeps while the word still reads `armed`; false once the
  // deadline has passed.
  bool park(std::uint32_t armed, clock::time_point deadline) noexcept;
};

static_assert(std::atomic<std::uint32_t>::is_always_lock_free);
static_assert(std::is_standard_layout_v<doorbell>);

}  // namespace tandem::ipc

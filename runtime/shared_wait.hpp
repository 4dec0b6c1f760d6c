// shared_wait.hpp — how the cross-process primitives (sync.hpp, channel.hpp)
// wait for a 32-bit word in shared memory to change, and wake its waiters.
//
// The other side is often a few hundred nanoseconds away (a receiver just
// behind a sender), so a waiter first spins briefly; then it sleeps on a
// shared futex (ipc/futex.hpp), which works across processes.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "tandem/detail/shared_object.hpp"

namespace tandem::detail {

using shared_clock = std::chrono::steady_clock;

inline constexpr shared_clock::time_point no_deadline = shared_clock::time_point::max();

// wait_for_change() returns true once `word` no longer holds `seen` (or
// spuriously: callers re-check their condition), false at `deadline`.
bool wait_for_change(const std::atomic<std::uint32_t>& word, std::uint32_t seen,
                     shared_clock::time_point deadline) noexcept;

// sleep_while_unchanged() sleeps while `word` holds `seen`, counted in
// `waiters` so that whoever changes the word knows to wake (it changes the
// word, then reads `waiters`; this counts itself, then re-reads the word:
// both seq_cst, so one sees the other). False at `deadline`; true when
// woken, possibly spuriously: callers re-check.
bool sleep_while_unchanged(const std::atomic<std::uint32_t>& word, std::uint32_t seen,
                           std::atomic<std::uint32_t>& waiters,
                           shared_clock::time_point deadline) noexcept;

// sleep_while_zero() is sleep_while_unchanged() for a count that waiters
// need to be non-zero (a semaphore's permits).
inline bool sleep_while_zero(const std::atomic<std::uint32_t>& word,
                             std::atomic<std::uint32_t>& waiters,
                             shared_clock::time_point deadline) noexcept {
  return sleep_while_unchanged(word, 0, waiters, deadline);
}

// wake_waiters() wakes up to `count` processes or threads sleeping on `word`.
void wake_waiters(const std::atomic<std::uint32_t>& word, int count) noexcept;

}  // namespace tandem::detail

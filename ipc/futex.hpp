// futex.hpp — the one place tandem calls SYS_futex.
//
// Two scopes exist because they are not interchangeable:
//  * futex_scope::process_private hashes on the virtual address; it is the
//    fast choice for threads of one process (futures, io-lane parking).
//  * futex_scope::shared hashes on the physical page, so a word in a
//    MAP_SHARED mapping wakes waiters in other processes. std::atomic::wait
//    in libstdc++ uses private futexes and cannot do this.
//
// Both functions return 0 or -errno and never throw: callers loop on the
// word's value, because spurious and stolen wake-ups are part of the contract.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace tandem::ipc {

enum class futex_scope { process_private, shared };

// futex_wait() sleeps while `word` still holds `expected`, at most `timeout`
// (negative: no limit). Returns 0 when woken, -EAGAIN when the word already
// differed, -ETIMEDOUT, or -EINTR. Any thread may call it.
int futex_wait(const std::atomic<std::uint32_t>& word, std::uint32_t expected, futex_scope scope,
               std::chrono::nanoseconds timeout = std::chrono::nanoseconds{-1}) noexcept;

// futex_wake() wakes up to `count` sleepers on `word`; returns how many woke
// or -errno.
int futex_wake(const std::atomic<std::uint32_t>& word, int count, futex_scope scope) noexcept;

}  // namespace tandem::ipc

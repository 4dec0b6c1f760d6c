#include <atomic>
#include <climits>

#include "runtime/shared_wait.hpp"
#include "tandem/sync.hpp"

namespace tandem {
namespace {

// One word holds the flag (bit 0) and how many times it was raised (the
// other bits). Waiters sleep on that word, so a set() the flag's clear()
// undid at once still changed it: a waiter that saw the flag down and
// later sees any other word knows the event was set since it began.
// (The count wraps after 2^31 raises; a waiter would have to sleep through
// exactly that many to miss one.)
//
// Memory order: set() raises with a seq_cst compare-and-swap, then reads
// `waiters` (see sleep_while_unchanged()); a waiter's acquire load of a
// raised word sees what the setter wrote before set().
struct event_body {
  std::atomic<std::uint32_t> word;
  std::atomic<std::uint32_t> waiters;
};

constexpr std::uint32_t raised_bit = 1;
// raise_step turns a lowered word into the next raise's: count + 1, flag up.
constexpr std::uint32_t raise_step = 2 + raised_bit;

event_body& body(const detail::object_handle& handle) {
  return *static_cast<event_body*>(handle.body());
}

bool raised(std::uint32_t word) { return (word & raised_bit) != 0; }

}  // namespace

event::event(runtime& rt) : handle_(rt, object_kind_v, object_tag_v, sizeof(event_body)) {}

void event::set() noexcept {
  auto& state = body(handle_);
  std::uint32_t now = state.word.load(std::memory_order_relaxed);
  do {
    if (raised(now)) return;  // no one sleeps on a raised word
  } while (!state.word.compare_exchange_weak(now, now + raise_step, std::memory_order_seq_cst));
  if (state.waiters.load(std::memory_order_seq_cst) != 0) detail::wake_waiters(state.word, INT_MAX);
}

void event::clear() noexcept {
  body(handle_).word.fetch_and(~raised_bit, std::memory_order_seq_cst);
}

bool event::is_set() const noexcept {
  return raised(body(handle_).word.load(std::memory_order_acquire));
}

void event::wait() const { wait_until(detail::no_deadline); }

// wait_until() returns true once the word differs from the lowered one it
// began with: only set() changes a lowered word.
bool event::wait_until(std::chrono::steady_clock::time_point deadline) const {
  auto& state = body(handle_);
  const std::uint32_t began = state.word.load(std::memory_order_acquire);
  if (raised(began)) return true;
  while (state.word.load(std::memory_order_acquire) == began)
    if (!detail::sleep_while_unchanged(state.word, began, state.waiters, deadline))
      return state.word.load(std::memory_order_acquire) != began;
  return true;
}

}  // namespace tandem

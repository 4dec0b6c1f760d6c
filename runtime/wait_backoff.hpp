// wait_backoff.hpp — how a thread waits for something another thread will
// do soon: spin very briefly, then yield, then sleep.
//
// Spinning alone is wrong on a machine with few cores: the waiter would
// take the core from the very thread it waits for (measured on 2 cores:
// a spinning caller starves the worker it just woke). Sleeping at once is
// wrong too: a futex round trip costs microseconds when the answer was
// nanoseconds away.
#pragma once

#include <chrono>

#include "tandem/detail/state.hpp"

namespace tandem::detail {

// backoff_step() is one step of a spin-then-yield loop: pauses while
// `round` is small, yields the thread after that.
void backoff_step(unsigned round) noexcept;

class wait_backoff {
 public:
  void reset() noexcept { round_ = 0; }

  // pause_or_sleep() takes the next step waiting for `s`: a spin step, a
  // yield, or — once those are spent — a sleep on the future's futex word
  // for at most `limit` (negative: until it is ready).
  void pause_or_sleep(state_base& s, std::chrono::nanoseconds limit);

 private:
  unsigned round_ = 0;
};

// sleep_until_ready() sleeps on `s`'s futex word for at most `limit`
// (negative: no limit); it may return early (spuriously).
void sleep_until_ready(state_base& s, std::chrono::nanoseconds limit) noexcept;

}  // namespace tandem::detail

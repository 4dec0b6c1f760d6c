// eventually.hpp — a test waits for something another thread or process
// does, bounded, instead of guessing how long it takes with a sleep.
#pragma once

#include <chrono>
#include <thread>

namespace tandem::test {

// eventually() polls `holds` every `step` until it is true (then true) or
// `limit` has passed (then false, and the caller's CHECK fails, not hangs).
// A loaded machine may take seconds where a quiet one takes microseconds,
// so limits are generous: a passing test waits only as long as it must.
template <class Condition>
bool eventually(Condition holds, std::chrono::milliseconds limit = std::chrono::seconds(10),
                std::chrono::milliseconds step = std::chrono::milliseconds(5)) {
  const auto give_up = std::chrono::steady_clock::now() + limit;
  while (!holds()) {
    if (std::chrono::steady_clock::now() >= give_up) return false;
    std::this_thread::sleep_for(step);
  }
  return true;
}

}  // namespace tandem::test

// run_gate.hpp — who decides that a task queued in a cpu worker's ring
// runs there: the worker starting it, the dispatcher taking it back, or
// the future's owner cancelling it. Exactly one of them wins.
//
// The dispatcher may queue up to `depth` run frames in one worker's ring
// (its window, cpu_lane.hpp) and numbers them 0, 1, 2, ... per worker.
// Each queued frame has an entry in the gate, in shared memory, holding
// its number and its fate. It starts `offered`; then one compare-and-swap
// settles it for good:
//  * the worker moves it to `started` before it runs the task (a frame
//    whose entry is no longer `offered` it skips without a reply);
//  * the dispatcher moves it to `taken_back`, to hand the job to another
//    worker (rebalancing, or its worker is being killed or retires);
//  * future::cancel() moves it to `withdrawn`: the task never runs.
// The number is part of the word, so an entry reused for a later frame
// (number + depth) never matches a stale expectation.
//
// Each entry also has its run times: when the worker started the task and
// when it ended (steady clock, ns), for timeouts, metrics and traces. The
// worker stores the start before it marks the entry started (release), so
// a dispatcher that sees `started` (acquire) reads it; it stores the end
// before it publishes the task's reply, so a dispatcher that has read the
// reply reads that too. `running` says whether the worker runs a task now.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "ipc/spsc_ring.hpp"

namespace tandem::detail {

struct run_gate {
  static constexpr std::uint32_t depth = 256;
  enum class fate : std::uint32_t { offered, started, taken_back, withdrawn };

  struct run_times {
    std::atomic<std::int64_t> started_ns{0};  // 0: not started
    std::atomic<std::int64_t> ended_ns{0};    // 0: not ended
  };

  alignas(ipc::cache_line) std::atomic<std::uint32_t> running{0};  // 1 while a task runs
  alignas(ipc::cache_line) std::array<std::atomic<std::uint32_t>, depth> entries{};
  alignas(ipc::cache_line) std::array<run_times, depth> times{};

  // Dispatcher: open() readies the entry of frame `number` before the frame
  // is published.
  void open(std::uint32_t number) noexcept {
    times_of(number).started_ns.store(0, std::memory_order_relaxed);
    times_of(number).ended_ns.store(0, std::memory_order_relaxed);
    entry(number).store(word(number, fate::offered), std::memory_order_release);
  }
  // started_ns() and ended_ns() are frame `number`'s run times, 0 when its
  // task has not started (or was never to run here) or not ended.
  std::int64_t started_ns(std::uint32_t number) const noexcept {
    if (fate_of(number) != fate::started) return 0;
    return times_of(number).started_ns.load(std::memory_order_relaxed);
  }
  std::int64_t ended_ns(std::uint32_t number) const noexcept {
    if (fate_of(number) != fate::started) return 0;
    return times_of(number).ended_ns.load(std::memory_order_relaxed);
  }
  // fate_of() is what became of frame `number` (offered while undecided).
  fate fate_of(std::uint32_t number) const noexcept {
    return static_cast<fate>(entry(number).load(std::memory_order_acquire) & 3);
  }
  // try_settle() is true when this call moved frame `number` from offered
  // to `to` (false if it was settled before, even to `to`).
  bool try_settle(std::uint32_t number, fate to) noexcept {
    std::uint32_t expected = word(number, fate::offered);
    return entry(number).compare_exchange_strong(expected, word(number, to),
                                                 std::memory_order_acq_rel);
  }
  // settle() tries to move frame `number` from offered to `to`; it returns
  // the fate that holds afterwards (`to` when this call won, or an earlier
  // one did).
  fate settle(std::uint32_t number, fate to) noexcept {
    std::uint32_t expected = word(number, fate::offered);
    if (entry(number).compare_exchange_strong(expected, word(number, to), std::memory_order_acq_rel,
                                              std::memory_order_acquire))
      return to;
    return (expected >> 2) == (word(number, to) >> 2) ? static_cast<fate>(expected & 3)
                                                      : fate::taken_back;
  }
  // Worker: try_start() is true when it may run frame `number`: the task
  // then runs until finish().
  bool try_start(std::uint32_t number, std::int64_t now_ns) noexcept {
    times_of(number).started_ns.store(now_ns, std::memory_order_relaxed);
    if (settle(number, fate::started) != fate::started) return false;
    running.store(1, std::memory_order_relaxed);
    return true;
  }
  // finish() records that frame `number`'s task ended, before its reply is
  // published.
  void finish(std::uint32_t number, std::int64_t now_ns) noexcept {
    times_of(number).ended_ns.store(now_ns, std::memory_order_relaxed);
    running.store(0, std::memory_order_relaxed);
  }
  // reset() is for a slot no process fills.
  void reset() noexcept {
    running.store(0, std::memory_order_relaxed);
    for (auto& e : entries) e.store(word(0, fate::taken_back), std::memory_order_relaxed);
  }

 private:
  static std::uint32_t word(std::uint32_t number, fate f) noexcept {
    return number << 2 | static_cast<std::uint32_t>(f);
  }
  std::atomic<std::uint32_t>& entry(std::uint32_t number) noexcept {
    return entries[number % depth];
  }
  const std::atomic<std::uint32_t>& entry(std::uint32_t number) const noexcept {
    return entries[number % depth];
  }
  run_times& times_of(std::uint32_t number) noexcept { return times[number % depth]; }
  const run_times& times_of(std::uint32_t number) const noexcept { return times[number % depth]; }
};

static_assert(std::atomic<std::uint32_t>::is_always_lock_free);
static_assert(std::atomic<std::int64_t>::is_always_lock_free);

}  // namespace tandem::detail

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
// started_ns is when the worker last started a task (steady clock, ns). The
// worker stores it before it marks the entry started (release), so a
// dispatcher that sees `started` (acquire) reads that stamp or a later one:
// a timeout is never counted from before its task started.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "ipc/spsc_ring.hpp"

namespace tandem::detail {

struct run_gate {
  static constexpr std::uint32_t depth = 256;
  enum class fate : std::uint32_t { offered, started, taken_back, withdrawn };

  alignas(ipc::cache_line) std::atomic<std::int64_t> started_ns{0};
  alignas(ipc::cache_line) std::array<std::atomic<std::uint32_t>, depth> entries{};

  // Dispatcher: open() readies the entry of frame `number` before the frame
  // is published.
  void open(std::uint32_t number) noexcept {
    entry(number).store(word(number, fate::offered), std::memory_order_release);
  }
  // fate_of() is what became of frame `number` (offered while undecided).
  fate fate_of(std::uint32_t number) const noexcept {
    return static_cast<fate>(entry(number).load(std::memory_order_acquire) & 3);
  }
  // settle() tries to move frame `number` from offered to `to`; it returns
  // the fate that holds afterwards (`to` when this call won).
  fate settle(std::uint32_t number, fate to) noexcept {
    std::uint32_t expected = word(number, fate::offered);
    if (entry(number).compare_exchange_strong(expected, word(number, to),
                                              std::memory_order_acq_rel,
                                              std::memory_order_acquire))
      return to;
    return (expected >> 2) == (word(number, to) >> 2) ? static_cast<fate>(expected & 3)
                                                      : fate::taken_back;
  }
  // Worker: try_start() is true when it may run frame `number`.
  bool try_start(std::uint32_t number, std::int64_t now_ns) noexcept {
    started_ns.store(now_ns, std::memory_order_relaxed);
    return settle(number, fate::started) == fate::started;
  }
  // reset() is for a slot no process fills.
  void reset() noexcept {
    started_ns.store(0, std::memory_order_relaxed);
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
};

static_assert(std::atomic<std::uint32_t>::is_always_lock_free);
static_assert(std::atomic<std::int64_t>::is_always_lock_free);

}  // namespace tandem::detail

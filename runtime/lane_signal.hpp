// lane_signal.hpp — how anyone wakes the cpu lane's dispatcher.
//
// It sits in the lane's shared segment, so submitting threads, worker
// processes and the zygote all reach it. Whoever publishes an event that
// no pass of theirs will see (a batch of queued jobs, a reply frame, a
// zygote report, a withdrawal, a deadline, ...) calls notify(): `events`
// is bumped (seq_cst) before the doorbell rings, and the dispatcher
// re-checks `events` after arming the doorbell: the Dekker pair of
// doorbell.hpp, so no wake-up is lost.
#pragma once

#include <atomic>
#include <cstdint>

#include "ipc/doorbell.hpp"
#include "ipc/spsc_ring.hpp"

namespace tandem::detail {

struct lane_signal {
  // While `helpers` > 0 some thread waiting for a cpu future runs the
  // dispatcher's passes itself (cpu_lane::help()), so a worker does not
  // ring for its replies: that would wake the dispatcher thread for
  // nothing. Dekker pair: the worker bumps `events`, then loads `helpers`
  // (both seq_cst); a helper leaving drops `helpers`, then loads `events`
  // and rings if no pass has seen them yet. `closed` (set at shutdown, when
  // helpers can no longer reach the lane) makes workers always ring.
  static constexpr std::uint64_t closed = std::uint64_t{1} << 62;

  alignas(ipc::cache_line) std::atomic<std::uint64_t> events{0};
  alignas(ipc::cache_line) ipc::doorbell bell;
  // reports counts the zygote's messages, so the dispatcher reads its
  // socket only when there is something to read.
  alignas(ipc::cache_line) std::atomic<std::uint64_t> reports{0};
  alignas(ipc::cache_line) std::atomic<std::uint64_t> helpers{0};

  void notify() noexcept {
    events.fetch_add(1, std::memory_order_seq_cst);
    bell.ring();
  }
  // notify_reply() is notify() for a worker's replies.
  void notify_reply() noexcept {
    events.fetch_add(1, std::memory_order_seq_cst);
    const std::uint64_t h = helpers.load(std::memory_order_seq_cst);
    if (h == 0 || h >= closed) bell.ring();
  }
};

}  // namespace tandem::detail

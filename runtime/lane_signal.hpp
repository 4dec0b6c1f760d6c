// lane_signal.hpp — how anyone wakes the cpu lane's dispatcher.
//
// It sits in the lane's shared segment, so submitting threads, worker
// processes and the zygote all reach it. Whoever publishes an event (a
// queued job, a reply frame, a zygote report) calls notify(): `events` is
// bumped (seq_cst) before the doorbell rings, and the dispatcher re-checks
// `events` after arming the doorbell: the Dekker pair of doorbell.hpp, so
// no wake-up is lost.
#pragma once

#include <atomic>
#include <cstdint>

#include "ipc/doorbell.hpp"
#include "ipc/spsc_ring.hpp"

namespace tandem::detail {

struct lane_signal {
  alignas(ipc::cache_line) std::atomic<std::uint64_t> events{0};
  alignas(ipc::cache_line) ipc::doorbell bell;
  // reports counts the zygote's messages, so the dispatcher reads its
  // socket only when there is something to read.
  alignas(ipc::cache_line) std::atomic<std::uint64_t> reports{0};

  void notify() noexcept {
    events.fetch_add(1, std::memory_order_seq_cst);
    bell.ring();
  }
};

}  // namespace tandem::detail

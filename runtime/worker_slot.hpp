// worker_slot.hpp — one cpu worker's place in the lane.
//
// A slot owns, in the lane's shared segment, the worker's submission ring
// (parent -> worker) and completion channel (worker -> parent: a ring and
// the worker's heap for large results). These are carved before the zygote
// is forked, so every worker that ever fills the slot finds them at the
// same address. The rest is the parent's bookkeeping: which process fills
// the slot and what it is doing. Only the lane's dispatcher thread touches
// a slot after start-up.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <span>

#include "ipc/channel.hpp"
#include "ipc/pidfd.hpp"
#include "ipc/spsc_ring.hpp"
#include "tandem/detail/cpu_job.hpp"

namespace tandem::detail {

class worker_slot {
 public:
  using clock = std::chrono::steady_clock;

  enum class phase {
    vacant,    // no process: a spawn is due (or failed and will be retried)
    starting,  // spawn asked for; waiting for the worker's `ready`
    idle,      // ready for a task
    busy,      // running `job`
    leaving,   // killed, retiring or broken: waiting for the zygote's exit report
  };

  worker_slot(ipc::segment& memory, unsigned index, const ipc::ring_options& ring,
              std::size_t heap_bytes);

  unsigned index() const noexcept { return index_; }
  ipc::spsc_ring& submissions() noexcept { return submissions_; }
  ipc::channel& completions() noexcept { return completions_; }

  // send() writes job's `run` frame; false when the ring has no room (it
  // never lacks room: a worker has at most one task in flight).
  bool send(const cpu_job& job) noexcept;
  // reply() is the worker's next frame, if any; consume it with done().
  ipc::decoded reply() noexcept { return from_worker_.try_receive(); }
  void done(const ipc::decoded& frame) noexcept { from_worker_.done(frame); }
  // clear() empties both rings and the heap once no process fills the slot.
  void clear();

  // The parent's bookkeeping (dispatcher thread only).
  phase state = phase::vacant;
  pid_t pid = 0;
  ipc::pidfd process;
  cpu_job* job = nullptr;
  clock::time_point deadline = clock::time_point::max();
  clock::time_point retry_at = clock::time_point::min();  // vacant: when to spawn again
  bool counted_idle = false;                              // counted in the lane's idle_workers

 private:
  unsigned index_;
  ipc::spsc_ring submissions_;
  ipc::channel completions_;
  ipc::ring_writer to_worker_;
  ipc::channel_reader from_worker_;
};

}  // namespace tandem::detail

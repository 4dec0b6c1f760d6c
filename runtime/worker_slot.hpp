// worker_slot.hpp — one cpu worker's place in the lane.
//
// A slot owns, in the lane's shared segment, the worker's submission ring
// (parent -> worker), its run gate (run_gate.hpp) and its completion
// channel (worker -> parent: a ring and the worker's heap for large
// results). These are carved before the zygote is forked, so every worker
// that ever fills the slot finds them at the same address. The rest is the
// parent's bookkeeping: which process fills the slot and the window of
// jobs sent to it. Only the lane's dispatcher thread touches a slot after
// start-up.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <span>
#include <vector>

#include "ipc/channel.hpp"
#include "ipc/pidfd.hpp"
#include "ipc/spsc_ring.hpp"
#include "runtime/run_gate.hpp"
#include "tandem/detail/cpu_job.hpp"

namespace tandem::detail {

// A job's window ticket (cpu_job::window_ticket) says where it waits in a
// window: the slot's index + 1 in the high half, its gate number in the
// low half; 0 while it is in none.
constexpr std::uint64_t window_ticket(unsigned slot, std::uint32_t number) noexcept {
  return (std::uint64_t{slot} + 1) << 32 | number;
}

class worker_slot {
 public:
  using clock = std::chrono::steady_clock;

  enum class phase {
    vacant,    // no process: a spawn is due (or failed and will be retried)
    starting,  // spawn asked for; waiting for the worker's `ready`
    serving,   // takes tasks (its window may be empty: it is idle)
    leaving,   // killed, retiring or broken: waiting for the zygote's exit report
  };

  worker_slot(ipc::segment& memory, unsigned index, const ipc::ring_options& ring,
              std::size_t heap_bytes);

  unsigned index() const noexcept { return index_; }
  ipc::spsc_ring& submissions() noexcept { return submissions_; }
  ipc::channel& completions() noexcept { return completions_; }

  run_gate& gate() const noexcept { return *gate_; }

  // has_room() is whether the window can take one more job: the numbers
  // from its first job's to the next must fit the gate's depth (jobs taken
  // back leave gaps in them).
  bool has_room() const noexcept {
    return window.empty() || next_number_ - window.front().number < run_gate::depth;
  }
  // offer() writes the `run` frame of a job in transit (see
  // cpu_job::window_ticket), numbered for the gate, and adds the job to the
  // window; nothing is sent when the ring has no room (the job stays in
  // transit) or its owner withdrew it meanwhile. Call it only when
  // has_room().
  enum class offer_result { offered, ring_full, withdrawn };
  offer_result offer(cpu_job& job) noexcept;
  // front_started() is whether the worker has started the window's first
  // job.
  bool front_started() const noexcept {
    return !window.empty() && gate_->fate_of(window.front().number) == run_gate::fate::started;
  }
  // any_started() is whether the worker has started any job of the window
  // (cancelled ones, not yet removed, may come first).
  bool any_started() const noexcept {
    for (const offered& entry : window)
      if (gate_->fate_of(entry.number) == run_gate::fate::started) return true;
    return false;
  }
  // front_running() is whether the window's first job is the one the worker
  // runs now: started, and no later job started (the worker runs them in
  // order, so a later one started means the first has ended and its reply
  // waits in the ring).
  bool front_running() const noexcept {
    if (!front_started()) return false;
    for (std::size_t i = 1; i < window.size(); ++i)
      if (gate_->fate_of(window[i].number) == run_gate::fate::started) return false;
    return true;
  }
  // take_back() removes from the window, newest first, the jobs the worker
  // has not started: those it takes back go to the front of `unstarted`
  // (oldest first; they will not run here), those cancelled by their
  // future's owner to `withdrawn`.
  void take_back(std::deque<cpu_job*>& unstarted, std::vector<cpu_job*>& withdrawn);
  // remove_withdrawn() moves every job cancelled in the window to
  // `withdrawn`; remove_withdrawn_front() only those before the first job
  // not cancelled.
  void remove_withdrawn(std::vector<cpu_job*>& withdrawn);
  void remove_withdrawn_front(std::vector<cpu_job*>& withdrawn);
  // pop_front() removes the window's first job (the worker replied for it,
  // or died running it), with its run times from the gate.
  cpu_job& pop_front() noexcept;
  // reply() is the worker's next frame, if any; consume it with done().
  ipc::decoded reply() noexcept { return from_worker_.try_receive(); }
  void done(const ipc::decoded& frame) noexcept { from_worker_.done(frame); }
  // clear() empties both rings, the gate and the heap once no process
  // fills the slot.
  void clear();

  // takes_work() is whether jobs may be offered: the worker serves, or its
  // process exists (its pid is known, so it can be killed) and reads them
  // once ready — a first job need not wait for the `ready` round trip.
  bool takes_work() const noexcept {
    return !spare && (state == phase::serving || (state == phase::starting && pid != 0));
  }

  // The parent's bookkeeping (dispatcher thread only).
  phase state = phase::vacant;
  // A spare's process is forked and made ready like a worker's but takes no
  // job until it takes the place of a worker that stops (cpu_lane::promote_spare_for).
  bool spare = false;
  pid_t pid = 0;
  ipc::pidfd process;
  // The jobs sent to the worker, oldest first: it replies in this order.
  struct offered {
    cpu_job* job;
    std::uint32_t number;  // the frame's number at the gate
  };
  std::deque<offered> window;
  bool ring_full = false;  // an offer found no room in this dispatcher pass
  clock::time_point retry_at = clock::time_point::min();  // vacant: when to spawn again
  bool counted_idle = false;                              // counted in the lane's idle_workers

 private:
  unsigned index_;
  ipc::spsc_ring submissions_;
  run_gate* gate_;
  ipc::channel completions_;
  ipc::ring_writer to_worker_;
  ipc::channel_reader from_worker_;
  std::uint32_t next_number_ = 0;  // the number of the next frame offered
};

}  // namespace tandem::detail

// cpu_lane.hpp — the cpu lane: defined tasks run in pre-forked worker
// processes (zygote.hpp, cpu_worker.hpp), one task per worker at a time.
//
// Submitting threads encode a job's arguments (into the job, or into the
// shared argument heap when large), count it and queue it. One dispatcher
// thread does everything else, so the lane's bookkeeping needs no lock:
//  * it hands queued jobs to workers: every idle worker first, then, while
//    jobs remain, up to `window_depth` jobs queued in each worker's ring
//    (its window), so a worker goes from one task to the next without a
//    round trip through the dispatcher. A worker starts a windowed job
//    only through its run gate (run_gate.hpp); when a worker is idle and
//    nothing is queued, the dispatcher takes back the jobs another worker
//    has not started and hands them out again, so a job never waits
//    behind a long one while a worker is idle;
//  * it reads the workers' replies and resolves the futures;
//  * it kills a worker whose job ran past its timeout, or whose future was
//    cancelled with tandem::kill_running, and fails that job alone;
//  * it learns from the zygote of every worker that exited, fails the job
//    the worker was running with worker_crashed, and has a replacement
//    forked; it also replaces workers that retire (max_tasks_per_worker,
//    max_worker_rss) between tasks.
// The dispatcher sleeps on one doorbell in shared memory that workers, the
// zygote and threads of the host ring after they publish an event that no
// pass of theirs will see (events is bumped first, so the doorbell's
// Dekker pair loses no wake-up).
//
// "The dispatcher" is a role more than a thread: its work is done in
// passes, under one mutex, by the dispatcher thread or by any thread that
// can take the mutex at once: a submitter hands its job to an idle worker
// itself, and a thread waiting for a cpu future runs passes while it spins
// (help()), so a short task's reply reaches its waiter with no thread
// woken in between. No pass waits for the mutex: a thread that finds a
// pass running asks its holder for one more (ask_for_pass()), so during a
// storm of submissions the submitting thread does the passes and the
// dispatcher thread, woken by replies, does not fight it for them from
// another core. (stop() and a dying zygote's handling lock it outright.)
#pragma once

#include <sys/types.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "ipc/segment.hpp"
#include "ipc/shared_heap.hpp"
#include "runtime/inject_queue.hpp"
#include "runtime/lane_signal.hpp"
#include "runtime/lane_tally.hpp"
#include "runtime/trace_recorder.hpp"
#include "runtime/worker_slot.hpp"
#include "runtime/zygote.hpp"
#include "tandem/runtime.hpp"

namespace tandem::detail {

class scheduler;
class object_space;

class cpu_lane {
 public:
  // cpu_lane() carves the segment, forks the zygote (before any thread of
  // the runtime exists), asks it for the workers and starts the dispatcher
  // thread on behalf of `owner`. Workers resolve shared objects in
  // `objects`. Throws tandem::error when memory or a process cannot be had.
  cpu_lane(const runtime_options& options, scheduler& owner, std::uint32_t runtime_id,
           object_space& objects, trace_recorder& trace);
  ~cpu_lane();
  cpu_lane(const cpu_lane&) = delete;
  cpu_lane& operator=(const cpu_lane&) = delete;

  // Submitting side (any thread).
  std::span<std::byte> reserve_arguments(cpu_job& job, std::size_t length);
  void discard_arguments(cpu_job& job) noexcept;
  void push(cpu_job& job) noexcept;
  void push_many(std::span<cpu_job* const> jobs) noexcept;
  bool has_idle_worker() const noexcept;
  // help() lends the calling thread to the lane (see above): begin, then a
  // pass per call (false when another pass runs, or nothing happened),
  // then end. close_helping() (at shutdown, once no thread can call help()
  // any more) has workers wake the dispatcher thread for every reply again.
  bool help(help_step step) noexcept;
  void close_helping() noexcept;
  // withdraw() cancels `job` if the lane holds it, claimed but not
  // started: in a worker's window (the worker skips it) or in transit (the
  // lane lets it go). It resolves it with task_cancelled.
  bool withdraw(cpu_job& job) noexcept;
  void wake() noexcept { signal_->notify(); }
  std::vector<pid_t> worker_pids() const;

  // count_refused() counts a job refused before it was queued (its
  // arguments could not be encoded) as submitted and failed; any thread.
  void count_refused() noexcept { refused_.fetch_add(1, std::memory_order_relaxed); }

  // Shutdown (the scheduler's thread). Jobs are counted like io tasks:
  // every `finished` before every `queued` (see io_lane.hpp).
  std::uint64_t queued_count() const noexcept { return queued_.load(std::memory_order_seq_cst); }
  std::uint64_t finished_count() const noexcept {
    return finished_.load(std::memory_order_seq_cst);
  }
  // cancel_all() fails every queued job with task_cancelled and kills the
  // workers running jobs (those fail with task_cancelled too).
  void cancel_all() noexcept;
  // stop() ends the dispatcher, the zygote and every worker. Idempotent.
  void stop() noexcept;

  // add_metrics() adds the lane's counts to `into` (any thread).
  void add_metrics(cpu_lane_metrics& into) const noexcept;

 private:
  using clock = worker_slot::clock;
  using ending = trace_recorder::ending;
  // Why the dispatcher stops a running job.
  enum class stop_cause { none, shutdown, kill_running, timeout };

  static void run_worker(void* self, unsigned slot);
  static void notify_from_zygote(void* self);

  // The dispatcher thread.
  void dispatch_loop(scheduler& owner);
  bool run_pass();
  // try_pass() runs a pass if no other runs (and the lane is not
  // stopping), and more if other threads ask for them meanwhile (a few at
  // most: then the dispatcher thread is woken for the rest).
  struct pass_result {
    bool ran = false;
    bool progress = false;
  };
  // if_busy says what try_pass() does when another thread is in a pass:
  // nothing, or ask that thread for one more (a submitter's new job must
  // be seen by some pass).
  enum class if_busy { skip, ask };
  pass_result try_pass(if_busy when_busy) noexcept;
  bool ask_for_pass() noexcept;
  bool pass_again() noexcept;
  bool take_reports();
  void apply(zygote_report report);
  bool take_replies();
  bool take_reply(worker_slot& slot);
  void handle_reply(worker_slot& slot, const ipc::decoded& frame);
  std::exception_ptr remote_failure(const cpu_job& job, std::span<const std::byte> payload);
  std::exception_ptr oversized_result(const cpu_job& job, std::span<const std::byte> payload);
  std::exception_ptr unreadable_arguments(const cpu_job& job, std::span<const std::byte> payload);
  std::string failed_init_reason(std::span<const std::byte> payload);
  stop_cause why_stop(const worker_slot& slot, std::int64_t now_ns) const;
  std::exception_ptr stop_reason(const cpu_job& job, pid_t pid, stop_cause cause) const;
  std::chrono::nanoseconds effective_timeout(const cpu_job& job) const noexcept;
  bool fail_all_queued();
  bool fail_queued(const std::exception_ptr& reason, ending how);
  bool assign_jobs();
  worker_slot* shortest_open_window() noexcept;
  cpu_job* next_job();
  static bool out_of_transit(cpu_job& job) noexcept;
  bool resolve_withdrawn(cpu_job& job) noexcept;
  static std::uint64_t moved_from(const cpu_job& job, std::uint64_t ticket) noexcept;
  cpu_job* pop_queued();
  worker_slot::offer_result offer(worker_slot& slot, cpu_job& job);
  bool rebalance();
  void return_unstarted(worker_slot& slot);
  bool remove_withdrawn(worker_slot& slot);
  void finish_withdrawn(worker_slot& slot, const std::vector<cpu_job*>& withdrawn);
  bool enforce_limits();
  std::int64_t front_deadline_ns(const worker_slot& slot) const noexcept;
  void respawn_vacant();
  void settle_exit(const zygote_report& report);
  void fail(cpu_job& job, std::exception_ptr reason, ending how, pid_t pid);
  template <class Reason>
  void kill_worker(worker_slot& slot, Reason reason_for, ending how);
  void break_lane(const std::string& why);
  std::string startup_death_reason(const zygote_report& last) const;
  // reject_worker() kills a worker that wrote something it must not (what
  // it `wrote`, for the error of each job it had).
  void reject_worker(worker_slot& slot, const std::string& wrote);
  // lose_zygote() breaks the lane for good when its zygote is gone, and
  // lets go of the workers, which die with it.
  void lose_zygote(const std::string& why);
  void finish(cpu_job& job, ending how, pid_t pid = 0) noexcept;
  void account(const cpu_job& job, ending how, pid_t pid) noexcept;
  void release(cpu_job& job) noexcept;
  void count_ending(ending how) noexcept;
  void count_restart(ending how) noexcept;
  void record_slice(const cpu_job& job, ending how, pid_t pid, std::int64_t end_ns);
  // vacate() lets go of the slot's process, which has exited or will:
  // the slot is vacant, its process unknown.
  void vacate(worker_slot& slot) noexcept;
  void set_idle(worker_slot& slot, bool idle) noexcept;
  // update_idle() counts the slot idle when it serves, is no spare and
  // has nothing in its window.
  void update_idle(worker_slot& slot) noexcept;
  // running_now() counts the workers running a task now, as their gates say
  // (any thread: the slots are made once, in the constructor). A job
  // offered to a worker waits in its window until the worker starts it.
  std::uint64_t running_now() const noexcept;
  void promote_spare_for(worker_slot& leaving);
  void publish_pids();
  clock::time_point next_deadline() const noexcept;

  const runtime_options options_;
  const std::uint32_t runtime_id_;
  object_space& objects_;
  ipc::segment memory_;
  lane_signal* signal_;
  ipc::shared_heap arguments_;
  std::mutex arguments_mutex_;  // the heap's owner is every submitter, in turn
  std::condition_variable arguments_freed_;
  int arguments_waiters_ = 0;  // guarded by arguments_mutex_
  std::vector<std::unique_ptr<worker_slot>> slots_;
  std::optional<zygote> zygote_;  // made once the slots exist: the zygote inherits them
  inject_queue<cpu_job> queue_;
  // Jobs taken back from a worker that never started them (dispatcher
  // only): handed out again before the queue, which holds younger ones.
  std::deque<cpu_job*> returned_;
  // Jobs the dispatcher took off the queue in bulk, not yet looked at.
  std::array<cpu_job*, 64> intake_{};
  std::size_t intake_next_ = 0;
  std::size_t intake_end_ = 0;
  alignas(64) std::atomic<std::uint64_t> queued_{0};
  std::atomic<std::uint64_t> refused_{0};  // any thread: see count_refused()
  alignas(64) std::atomic<std::uint64_t> finished_{0};
  std::atomic<int> idle_workers_{0};
  std::atomic<bool> cancelling_{false};
  std::atomic<std::uint64_t> withdrawals_{0};  // jobs withdraw() took out of a window
  std::uint64_t withdrawals_seen_ = 0;         // dispatcher: as of its last search
  // When the dispatcher's current pass began (steady clock, ns): the time
  // its metrics and traces give to what happens in the pass.
  std::int64_t pass_ns_ = 0;
  std::atomic<bool> stopping_{false};
  // Everything below that the dispatcher "only" touches is guarded by
  // pass_mutex_, held by whichever thread runs a pass.
  std::mutex pass_mutex_;
  std::atomic<bool> pass_wanted_{false};         // see ask_for_pass()
  std::atomic<std::uint64_t> events_passed_{0};  // `events` when the last pass began
  std::uint64_t reports_seen_ = 0;
  bool new_deadline_ = false;    // a pass gave a job with a timeout to a worker
  std::string broken_;           // dispatcher only: why no task can run any more
  unsigned startup_deaths_ = 0;  // dispatcher only: new workers dead before ready, in a row
  mutable std::mutex pids_mutex_;
  mutable std::condition_variable pids_known_;
  std::vector<pid_t> pids_;
  unsigned pids_pending_ = 0;  // workers asked of the zygote, pid not reported yet
  trace_recorder& trace_;
  // Written by the dispatcher only (or by stop(), after it ended).
  lane_tally tally_;
  std::atomic<std::uint64_t> restarts_crash_{0};
  std::atomic<std::uint64_t> restarts_timeout_{0};
  std::atomic<std::uint64_t> restarts_cancel_{0};
  std::atomic<std::uint64_t> restarts_recycle_{0};
  std::atomic<unsigned> workers_alive_{0};
  std::thread dispatcher_;
};

}  // namespace tandem::detail

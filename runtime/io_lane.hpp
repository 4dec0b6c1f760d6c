// io_lane.hpp — the work-stealing thread pool that runs io tasks.
//
// Each worker owns a Chase-Lev deque; tasks spawned on a worker go to its
// own deque, tasks from other threads through the injection queue
// (moodycamel::ConcurrentQueue). A worker takes work in this order: its own
// deque (LIFO), the injection queue (every 61st task first, so outside
// submissions are never starved by a busy fork-join tree), then steals from
// the others (FIFO). Idle workers search for a short while, then sleep;
// see idle_set.hpp for the wake-up protocol.
//
// The Asio reactor has no thread of its own: one sleeping worker at a time,
// the poller, sleeps in it (epoll) instead of on its futex. When a socket or
// timer is ready, the poller runs the completion, which queues the handler
// on the poller's own deque, and then runs that handler itself: an event
// costs no hand-off between threads. Whoever wakes the poller for other
// work interrupts the reactor; other sleepers are woken first, so the
// reactor keeps its poller while someone else does the work, and a poller
// that leaves for work wakes a sleeper to take its place. A busy worker
// also runs what the reactor has ready, without waiting, when nobody has
// looked for a while (reactor_check_interval), and so does a worker that
// waits for a future in get(): events are not held up while every worker
// is busy.
//
// Draining needs to know when no task is queued or running. Counting every
// task on one shared atomic would make all workers fight over one cache
// line, so each worker counts what it queued and what it finished in
// counters only it writes; threads that are not workers share one. The
// scheduler reads every lane's finished_count() before every queued_count():
// since a task is counted queued before it can finish, equal sums mean
// nothing was in flight.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "runtime/idle_set.hpp"
#include "runtime/inject_queue.hpp"
#include "runtime/lane_tally.hpp"
#include "runtime/reactor.hpp"
#include "runtime/thread_scheduling.hpp"
#include "runtime/trace_recorder.hpp"
#include "runtime/work_stealing_deque.hpp"
#include "tandem/detail/state.hpp"
#include "tandem/detail/task_node.hpp"

namespace tandem::detail {

class io_lane;

class io_worker {
 public:
  io_worker(io_lane& lane, unsigned index);

  io_lane& lane() const noexcept { return lane_; }

 private:
  friend class io_lane;

  io_lane& lane_;
  const unsigned index_;
  work_stealing_deque<task_node*> deque_;
  inject_queue<>::consumer_token inject_token_;
  std::uint64_t random_;
  std::uint32_t tick_ = 0;
  bool in_reactor_ = false;                // running the reactor's completions (drive_reactor)
  std::atomic<bool> take_reactor_{false};  // woken to become the poller
  std::chrono::steady_clock::time_point reactor_checked_;
  // Below this address (a quarter up the thread's stack) a waiting worker runs no
  // other task: see help_until_ready(). 0 when the stack is unknown.
  std::uintptr_t help_floor_ = 0;
  const std::string trace_label_;
  alignas(64) std::atomic<std::uint64_t> queued_{0};  // written by this worker only
  std::atomic<std::uint64_t> finished_{0};            // written by this worker only
  std::atomic<std::uint64_t> steals_{0};              // written by this worker only
  std::atomic<std::uint64_t> parks_{0};               // written by this worker only
  lane_tally tally_;                                  // written by this worker only
  std::thread thread_;
};

class io_lane {
 public:
  // runs_task(task) is how a worker executes a task it took (the scheduler
  // decides between run() and abandon()).
  using task_runner = task_outcome (*)(void* context, task_node* task);

  // io_lane() starts `threads` workers, which ask for `scheduling`
  // (thread_scheduling.hpp) and drive `events`. With `metrics`, workers count
  // what they run (metrics.hpp); `trace` records slices while a trace runs.
  io_lane(unsigned threads, std::uint32_t runtime_id, task_runner runner, void* context,
          bool metrics, trace_recorder& trace, thread_scheduling scheduling, reactor& events);
  ~io_lane();  // stop() must have been called
  io_lane(const io_lane&) = delete;
  io_lane& operator=(const io_lane&) = delete;

  // push() queues `task`: onto the current worker's deque when called on a
  // worker of this lane, else onto the injection queue; then wakes a
  // sleeper if needed.
  void push(task_node* task) noexcept;

  // help_until_ready() runs other tasks on worker `self` until `s` is
  // ready. Each task it runs nests on the waiter's stack, so once three
  // quarters of the thread's stack are in use it runs none: it only waits
  // (a chain of waits that deep is left to other threads; if none can run
  // what it waits for, it waits for ever, where it would have overflowed
  // the stack).
  void help_until_ready(io_worker& self, state_base& s);

  // has_idle_worker() is true when a worker sleeps and no work is queued:
  // a task pushed now would start at once (a hint, for tandem::any).
  bool has_idle_worker() const noexcept { return idle_.has_sleeper() && !work_visible(); }
  std::uint32_t runtime_id() const noexcept { return runtime_id_; }

  // queued_count() and finished_count() are the totals so far (see above).
  std::uint64_t queued_count() const noexcept;
  std::uint64_t finished_count() const noexcept;

  // add_metrics() adds this lane's counts to `into`.
  void add_metrics(io_lane_metrics& into) const noexcept;

  // stop() wakes and joins every worker (the poller too). Tasks still
  // queued are abandoned with runtime_stopped; operations pending in the
  // reactor stay there.
  void stop();

  inject_queue<>::consumer_token make_inject_token() { return inject_.make_consumer_token(); }

 private:
  void worker_main(io_worker& self);
  task_node* next_local(io_worker& self);
  task_node* search(io_worker& self);
  task_node* steal_once(io_worker& self, bool& contended);
  task_node* take_injected(io_worker& self);
  void execute(io_worker& self, task_node* task);
  bool work_visible() const noexcept;
  void park(io_worker& self, bool was_searching);
  void wake_one() noexcept;
  void interrupt_if_poller(unsigned woken) noexcept;
  bool take_poller(io_worker& self) noexcept;
  void release_poller() noexcept { poller_.store(idle_set::none, std::memory_order_seq_cst); }
  void hand_reactor_over() noexcept;
  void poll_until_woken(io_worker& self);
  void check_reactor(io_worker& self);
  void run_ready_events(io_worker& self);
  template <class Drive>
  void drive_reactor(io_worker& self, Drive&& drive);
  void abandon_leftovers();

  std::uint32_t runtime_id_;
  task_runner runner_;
  void* runner_context_;
  const bool metrics_;
  trace_recorder& trace_;
  const thread_scheduling scheduling_;
  inject_queue<> inject_;
  idle_set idle_;
  std::vector<std::unique_ptr<io_worker>> workers_;
  std::atomic<bool> stopping_{false};
  reactor& reactor_;
  // The index of the worker waiting in the reactor, or idle_set::none.
  std::atomic<unsigned> poller_{idle_set::none};
  alignas(64) std::atomic<std::uint64_t> outside_queued_{0};
};

}  // namespace tandem::detail

// scheduler.hpp — what a tandem::runtime is inside: the io lane, the
// blocking pool, the Asio reactor and the cpu lane, the rules for accepting
// submissions, and shutdown.
//
// Accepting work. Once shutdown begins, submissions from outside the
// runtime are refused (their futures hold runtime_stopped); submissions
// from the runtime's own threads are accepted until the lanes stop, since
// they are part of the work being drained. An outside submitter announces
// itself in entering_ before it checks the phase, and shutdown waits for
// entering_ to reach zero after changing the phase (both seq_cst), so no
// submission can slip into a lane that is stopping.
//
// Child processes (run_process) are outstanding work too: shutdown waits
// for every live one (drain) or kills them first (cancel), and their
// handlers are accepted until they end (process_executor.hpp).
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>

#include "runtime/blocking_pool.hpp"
#include "runtime/cpu_lane.hpp"
#include "runtime/io_lane.hpp"
#include "runtime/object_space.hpp"
#include "runtime/trace_recorder.hpp"
#include "runtime/process_table.hpp"
#include "runtime/spawner_thread.hpp"
#include "runtime/reactor.hpp"
#include "runtime/runtime_registry.hpp"
#include "runtime/task_registry.hpp"
#include "tandem/detail/lane_hooks.hpp"
#include "tandem/runtime.hpp"

namespace tandem::detail {

class scheduler {
 public:
  explicit scheduler(const runtime_options& options);
  ~scheduler();  // shutdown(drain)
  scheduler(const scheduler&) = delete;
  scheduler& operator=(const scheduler&) = delete;

  std::uint32_t id() const noexcept { return registered_.id(); }
  const runtime_options& options() const noexcept { return options_; }
  boost::asio::io_context& io_context() noexcept { return reactor_.context(); }

  // submit() queues `task` on `lane`, or abandons it with runtime_stopped
  // when this thread may no longer submit (see above).
  void submit(lane_kind lane, task_node* task) noexcept;
  // submit_cpu() queues `job` on the cpu lane, or fails it with
  // runtime_stopped (same rule).
  void submit_cpu(cpu_job& job) noexcept;
  // submit_cpu_batch() is submit_cpu() for many jobs at once.
  void submit_cpu_batch(std::span<cpu_job* const> jobs) noexcept;

  // reserve_process() counts a run_process() call as live work (see
  // process_table.hpp), or refuses it by the rule above (false).
  bool reserve_process() noexcept {
    return admit([&] { processes_.reserve(); });
  }
  // submit_unrefused() queues `task` on the io lane from any thread, in any
  // phase: for process_executor only, whose tasks belong to a live process
  // and so always meet running lanes.
  void submit_unrefused(task_node* task) noexcept { io_.push(task); }

  // pin() keeps this scheduler from shutting down past unregistering until
  // unpin(): the registry pins it, under its lock, for a caller that works
  // on it outside the lock (runtime_registry.hpp).
  void pin() noexcept { pins_.fetch_add(1, std::memory_order_acq_rel); }
  void unpin() noexcept { pins_.fetch_sub(1, std::memory_order_release); }

  cpu_lane& cpu() noexcept { return cpu_; }
  trace_recorder& trace() noexcept { return trace_; }
  metrics_snapshot metrics() const;
  object_space& objects() noexcept { return *objects_; }
  process_table& processes() noexcept { return processes_; }
  spawner_thread& spawner() noexcept { return spawner_; }
  io_lane& io() noexcept { return io_; }
  // cancelling() is true once shutdown(cancel) began: what is queued from
  // then on is dropped, not run.
  bool cancelling() const noexcept {
    return phase_.load(std::memory_order_acquire) == phase::cancelling;
  }

  // shutdown() drains or cancels, stops every thread, resolves everything.
  void shutdown(shutdown_mode mode);

 private:
  enum class phase { running, draining, cancelling, stopped };

  // admit() runs `push` unless this thread may no longer submit (see
  // above); false when refused.
  template <class Push>
  bool admit(Push&& push) noexcept {
    if (current_thread_role_id() == id()) {
      push();  // the runtime's own thread: part of the work
      return true;
    }
    entering_.fetch_add(1, std::memory_order_seq_cst);
    const bool open = phase_.load(std::memory_order_seq_cst) == phase::running;
    if (open) push();
    entering_.fetch_sub(1, std::memory_order_release);
    return open;
  }
  static std::uint32_t current_thread_role_id() noexcept;

  static task_outcome run_task(void* self, task_node* task) noexcept;
  void push(lane_kind lane, task_node* task) noexcept;
  void wait_until_quiescent() const;

  const runtime_options options_;
  const runtime_hold hold_;  // no task can be defined from here on
  const registration registered_;
  std::atomic<phase> phase_{phase::running};
  alignas(64) std::atomic<std::int64_t> entering_{0};
  std::atomic<int> pins_{0};   // see pin()
  std::mutex shutdown_mutex_;  // held by the shutdown() that does the work
  bool shut_down_ = false;
  trace_recorder trace_;  // before the lanes, which record into it
  // Mapped before the zygote forks, so every worker inherits it.
  const std::shared_ptr<object_space> objects_;
  cpu_lane cpu_;  // it forks the zygote before any thread starts
  reactor reactor_;
  io_lane io_;
  blocking_pool blocking_;
  process_table processes_;
  spawner_thread spawner_;  // stopped by shutdown(), once no process is live
};

}  // namespace tandem::detail

#include "runtime/scheduler.hpp"

#include <chrono>
#include <thread>

#include "runtime/runtime_registry.hpp"
#include "runtime/thread_role.hpp"
#include "tandem/errors.hpp"

namespace tandem::detail {

scheduler::scheduler(const runtime_options& options)
    : options_(options),
      registered_(*this),
      objects_(object_space::create(options.shared_memory_bytes)),
      cpu_(options, *this, id(), *objects_, trace_),
      io_(options.io_threads, id(), &scheduler::run_task, this, options.metrics, trace_,
          {options.thread_slice, options.realtime_priority}, reactor_),
      blocking_(options.max_blocking_threads, options.blocking_idle_timeout, id(),
                &scheduler::run_task, this, options.metrics, trace_, options.thread_slice) {}

scheduler::~scheduler() { shutdown(shutdown_mode::drain); }

task_outcome scheduler::run_task(void* self, task_node* task) noexcept {
  current_thread_role().owner = static_cast<scheduler*>(self);
  if (!static_cast<scheduler*>(self)->cancelling()) return task->run();
  task->abandon(std::make_exception_ptr(task_cancelled(
      "task cancelled: the runtime was shut down with tandem::cancel before it started")));
  return task_outcome::cancelled;
}

metrics_snapshot scheduler::metrics() const {
  metrics_snapshot snapshot;
  io_.add_metrics(snapshot.io);
  blocking_.add_metrics(snapshot.blocking);
  cpu_.add_metrics(snapshot.cpu);
  return snapshot;
}

void scheduler::push(lane_kind lane, task_node* task) noexcept {
  if (lane == lane_kind::io_blocking)
    blocking_.push(task);
  else
    io_.push(task);
}

std::uint32_t scheduler::current_thread_role_id() noexcept {
  return current_thread_role().runtime_id;
}

void scheduler::submit(lane_kind lane, task_node* task) noexcept {
  if (!admit([&] { push(lane, task); })) task->abandon(std::make_exception_ptr(runtime_stopped()));
}

void scheduler::submit_cpu(cpu_job& job) noexcept {
  if (admit([&] { cpu_.push(job); })) return;
  cpu_.discard_arguments(job);
  job.result_state().try_fail(std::make_exception_ptr(runtime_stopped()));
  job.drop();
}

void scheduler::submit_cpu_batch(std::span<cpu_job* const> jobs) noexcept {
  if (admit([&] { cpu_.push_many(jobs); })) return;
  for (cpu_job* job : jobs) {
    cpu_.discard_arguments(*job);
    job->result_state().try_fail(std::make_exception_ptr(runtime_stopped()));
    job->drop();
  }
}

void scheduler::wait_until_quiescent() const {
  for (;;) {
    // Live processes first (process_table.hpp), then every `finished`
    // before every `queued`: see io_lane.hpp.
    const bool processes_done = processes_.live() == 0;
    const auto finished = io_.finished_count() + blocking_.finished_count() + cpu_.finished_count();
    const auto queued = io_.queued_count() + blocking_.queued_count() + cpu_.queued_count();
    if (processes_done && finished == queued) return;
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
}

void scheduler::shutdown(shutdown_mode mode) {
  if (on_runtime_thread(id()))
    throw error(
        "tandem::runtime::shutdown() called from one of the runtime's own threads: it would wait "
        "for itself; call it from the thread that owns the runtime");
  // A later caller waits for the first to finish: the destructor may
  // follow its return at once.
  std::lock_guard lock(shutdown_mutex_);
  if (std::exchange(shut_down_, true)) return;
  unregister_runtime(id());
  while (pins_.load(std::memory_order_acquire) != 0) std::this_thread::yield();
  cpu_.close_helping();
  phase_.store(mode == shutdown_mode::drain ? phase::draining : phase::cancelling,
               std::memory_order_seq_cst);
  while (entering_.load(std::memory_order_acquire) != 0) std::this_thread::yield();
  if (mode == shutdown_mode::cancel) {
    cpu_.cancel_all();
    processes_.stop_all();
  }
  wait_until_quiescent();
  phase_.store(phase::stopped, std::memory_order_seq_cst);
  cpu_.stop();
  io_.stop();
  blocking_.stop();
  reactor_.abandon_pending();
  spawner_.stop();
}

}  // namespace tandem::detail

// lane_hooks.hpp — the few non-template entry points that the header-only
// templates (future, promise, runtime::submit) need from the lanes. Not part
// of the public API.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "tandem/detail/state.hpp"
#include "tandem/detail/task_node.hpp"

namespace tandem::detail {

// current_runtime_id() is the id of the runtime whose io-lane worker is
// running on this thread, or 0 on any other thread.
std::uint32_t current_runtime_id() noexcept;

// post_to_current_worker() pushes `task` onto this thread's own io-lane
// deque; false (task untouched) when this thread is not an io-lane worker.
bool post_to_current_worker(task_node* task) noexcept;

// post_continuation() runs `task` on the io lane of runtime `runtime_id`:
// this worker's deque when called on one of its workers, else its injection
// queue. A runtime that no longer exists abandons the task with
// runtime_stopped. With runtime_id 0 (a future no runtime produced) the
// task runs on the current io-lane worker if there is one, else inline.
void post_continuation(std::uint32_t runtime_id, task_node* task) noexcept;

// runtime_accepts_continuations() is true while runtime `runtime_id`
// exists and its shutdown has not begun, so that post_continuation() from
// any thread queues a task there rather than abandon it; false for 0.
bool runtime_accepts_continuations(std::uint32_t runtime_id) noexcept;

}  // namespace tandem::detail

namespace tandem::detail {

class scheduler;

// lane_kind names where runtime::submit sends a task.
enum class lane_kind { io, io_blocking };

class cpu_job;

// submit_cpu() hands `job` (its arguments encoded) to the cpu lane of
// `sched`, or resolves it with the error that stops it (never throws).
void submit_cpu(scheduler& sched, cpu_job& job) noexcept;
// submit_cpu_batch() is submit_cpu() for many jobs, queued at once.
void submit_cpu_batch(scheduler& sched, std::span<cpu_job* const> jobs) noexcept;

// reserve_arguments() gives the bytes where `job`'s encoded arguments
// (`length` bytes) go: in the job, or in the lane's shared argument heap.
// Throws payload_too_large when they could never fit.
std::span<std::byte> reserve_arguments(scheduler& sched, cpu_job& job, std::size_t length);

// refuse_cpu_job() frees what reserve_arguments() took, for a job whose
// arguments could not be encoded, and counts it submitted and failed.
void refuse_cpu_job(scheduler& sched, cpu_job& job) noexcept;

// prefers_cpu_lane() is the tandem::any policy: true when the cpu lane
// would start a task at once (an idle worker), or when the io lane would not
// either (no idle io worker).
bool prefers_cpu_lane(scheduler& sched) noexcept;

// wake_cpu_lane() has the cpu lane of runtime `runtime_id` look at kill
// requests now (a no-op once that runtime is shutting down: the lane then
// looks at least every few tens of milliseconds anyway).
void wake_cpu_lane(std::uint32_t runtime_id) noexcept;

// withdraw_cpu_job() cancels `job` if it waits, not started, in a worker's
// window of runtime `runtime_id`'s cpu lane (see cpu_job.hpp).
bool withdraw_cpu_job(std::uint32_t runtime_id, cpu_job& job) noexcept;

// help_cpu_lane() is cpu_lane::help() on runtime `runtime_id`'s lane; false
// when that runtime is shutting down or gone.
bool help_cpu_lane(std::uint32_t runtime_id, help_step step) noexcept;

// submit_task() queues `task` on a lane of `sched`; after shutdown began it
// abandons the task with runtime_stopped instead (never throws).
void submit_task(scheduler& sched, lane_kind lane, task_node* task) noexcept;

// may_run_inline() is true when a function given to the io executor of
// runtime `runtime_id` may run inline here: on a worker of its io lane
// while it runs a task (not while it drives the reactor, whose completions
// are queued for others to steal), before any shutdown(cancel), on the
// worker's own stack (not a stackful coroutine's or a fiber's), and while
// that stack has room to spare: a coroutine that dispatches to its own
// executor in a loop would otherwise grow the stack with every turn, as it
// does on an io_context.
bool may_run_inline(std::uint32_t runtime_id) noexcept;

// on_runtime_thread() is true on a thread of runtime `runtime_id` (an io
// worker, also while it drives the reactor, a blocking thread, the cpu
// lane's dispatcher): that runtime exists while the call runs.
bool on_runtime_thread(std::uint32_t runtime_id) noexcept;

}  // namespace tandem::detail

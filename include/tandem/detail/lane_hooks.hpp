// lane_hooks.hpp — the few non-template entry points that the header-only
// templates (future, promise, runtime::submit) need from the lanes. Not part
// of the public API.
#pragma once

#include <cstdint>

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

}  // namespace tandem::detail

namespace tandem::detail {

class scheduler;

// lane_kind names where runtime::submit sends a task.
enum class lane_kind { io, io_blocking };

// submit_task() queues `task` on a lane of `sched`; after shutdown began it
// abandons the task with runtime_stopped instead (never throws).
void submit_task(scheduler& sched, lane_kind lane, task_node* task) noexcept;

}  // namespace tandem::detail

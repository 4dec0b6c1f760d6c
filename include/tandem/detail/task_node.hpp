// task_node.hpp — what the lanes queue. Not part of the public API.
#pragma once

#include <cstdint>
#include <exception>

namespace tandem::detail {

// task_outcome is what run() made of a task, for the runtime's metrics.
enum class task_outcome : std::uint8_t {
  completed,  // ran, and produced its value (or handed on a future)
  failed,     // ran, and threw
  cancelled,  // cancelled before it started: it did not run
};

// task_node is one unit of queued work. A lane calls exactly one of run()
// or abandon() on it, exactly once; after that the node owns its own
// disposal and the lane must not touch it again.
class task_node {
 public:
  // run() executes the work (exceptions are caught and routed to the task's
  // future, never thrown) and says how it went.
  virtual task_outcome run() noexcept = 0;
  // abandon() drops the work without running it; a task with a future
  // resolves it with `reason` (task_cancelled, runtime_stopped).
  virtual void abandon(std::exception_ptr reason) noexcept = 0;
  // trace_name() names the task in a trace (runtime::start_trace); the
  // text must outlive the node.
  virtual const char* trace_name() const noexcept { return "io task"; }

  // enqueued_ns is when the task was queued (steady clock), stamped for a
  // sample of tasks (and every task while tracing); 0 when not stamped.
  std::int64_t enqueued_ns = 0;

 protected:
  ~task_node() = default;
};

}  // namespace tandem::detail

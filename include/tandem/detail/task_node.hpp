// task_node.hpp — what the lanes queue. Not part of the public API.
#pragma once

#include <exception>

namespace tandem::detail {

// task_node is one unit of queued work. A lane calls exactly one of run()
// or abandon() on it, exactly once; after that the node owns its own
// disposal and the lane must not touch it again.
class task_node {
 public:
  // run() executes the work (exceptions are caught and routed to the task's
  // future, never thrown).
  virtual void run() noexcept = 0;
  // abandon() drops the work without running it; a task with a future
  // resolves it with `reason` (task_cancelled, runtime_stopped).
  virtual void abandon(std::exception_ptr reason) noexcept = 0;

 protected:
  ~task_node() = default;
};

}  // namespace tandem::detail

// task_registry.hpp — the process-wide list of defined tasks (task.hpp).
//
// Tasks are numbered in definition order; a submission names a task by its
// number, which means the same task in every worker because workers are
// forked after the last definition: definitions are refused while any
// runtime exists (a runtime_hold is alive).
#pragma once

#include <cstddef>
#include <cstdint>

#include "tandem/task.hpp"

namespace tandem::detail {

// task_at() is task number `index`, or nullptr when there is none (a
// number read from shared memory is checked here).
const task_entry* task_at(std::uint32_t index) noexcept;

// task_count() is how many tasks are defined.
std::size_t task_count() noexcept;

// runtime_hold marks a runtime alive for as long as it exists: no task can
// be defined meanwhile. Its constructor takes the registry's lock, so a
// definition still in progress on another thread completes before the
// runtime forks its zygote.
class runtime_hold {
 public:
  runtime_hold();
  ~runtime_hold();
  runtime_hold(const runtime_hold&) = delete;
  runtime_hold& operator=(const runtime_hold&) = delete;
};

}  // namespace tandem::detail

// runtime_registry.hpp — live runtimes by id.
//
// A future remembers the id of the runtime that produced it (a plain
// integer, so no reference count is touched per task). A continuation that
// must go to that runtime's io lane from a foreign thread looks the id up
// here; a runtime unregisters as its shutdown begins, after which the
// continuation resolves with runtime_stopped instead of touching freed
// memory.
#pragma once

#include <cstdint>

#include "tandem/detail/lane_hooks.hpp"

namespace tandem::detail {

// register_runtime() returns a new id (never 0, never reused).
std::uint32_t register_runtime(scheduler& sched);
void unregister_runtime(std::uint32_t id);

// registration registers a runtime for its lifetime: also when the
// constructor of something made after it throws. unregister_runtime() may
// end it sooner (shutdown does).
class registration {
 public:
  explicit registration(scheduler& sched) : id_(register_runtime(sched)) {}
  ~registration() { unregister_runtime(id_); }
  registration(const registration&) = delete;
  registration& operator=(const registration&) = delete;
  std::uint32_t id() const noexcept { return id_; }

 private:
  std::uint32_t id_;
};

// is_registered() is true while runtime `id` is registered: made, its
// shutdown not begun.
bool is_registered(std::uint32_t id) noexcept;

// submit_to_registered() submits `task` to the io lane of runtime `id`;
// false when no such runtime is registered (the task is untouched).
bool submit_to_registered(std::uint32_t id, task_node* task) noexcept;

// wake_registered_cpu_lane() wakes the cpu lane's dispatcher of runtime
// `id`, if that runtime is registered.
void wake_registered_cpu_lane(std::uint32_t id) noexcept;

// withdraw_registered_cpu_job() withdraws `job` from a worker's window of
// runtime `id`'s cpu lane (cpu_lane::withdraw()); false when it cannot.
bool withdraw_registered_cpu_job(std::uint32_t id, cpu_job& job) noexcept;

// help_registered_cpu_lane() runs cpu_lane::help(step) of runtime `id`
// outside the registry's lock (a pass may run callbacks that use it); the
// runtime is pinned meanwhile (scheduler::pin()). False when `id` is not
// registered.
bool help_registered_cpu_lane(std::uint32_t id, help_step step) noexcept;

}  // namespace tandem::detail

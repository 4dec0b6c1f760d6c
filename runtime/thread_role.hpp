// thread_role.hpp — what the current thread is to tandem: an io-lane
// worker, a blocking-pool thread, or a stranger.
#pragma once

#include <cstdint>

namespace tandem::detail {

class io_worker;
class scheduler;

struct thread_role {
  // runtime_id is the runtime this thread serves (0: none). Its submissions
  // are accepted while that runtime drains, since they are part of the work.
  std::uint32_t runtime_id = 0;
  // worker is set on io-lane workers only.
  io_worker* worker = nullptr;
  // owner is the scheduler of runtime_id, on every thread of a runtime.
  scheduler* owner = nullptr;
  // stack_top is where an io worker's stack begins (the frame of its
  // thread's function), for may_run_inline() (lane_hooks.hpp).
  std::uintptr_t stack_top = 0;
};

// current_thread_role() is this thread's role (thread-local).
thread_role& current_thread_role() noexcept;

}  // namespace tandem::detail

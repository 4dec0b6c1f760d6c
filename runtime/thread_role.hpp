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
  // inline_depth counts the io_executor functions running inline, one
  // inside another, on this io worker (lane_hooks.hpp).
  unsigned inline_depth = 0;
};

// current_thread_role() is this thread's role (thread-local).
thread_role& current_thread_role() noexcept;

}  // namespace tandem::detail

// scheduler.hpp — what a tandem::runtime is inside: the io lane, the
// blocking pool and the Asio reactor, the rules for accepting submissions,
// and shutdown.
//
// Accepting work. Once shutdown begins, submissions from outside the
// runtime are refused (their futures hold runtime_stopped); submissions
// from the runtime's own threads are accepted until the lanes stop, since
// they are part of the work being drained. An outside submitter announces
// itself in entering_ before it checks the phase, and shutdown waits for
// entering_ to reach zero after changing the phase (both seq_cst), so no
// submission can slip into a lane that is stopping.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>

#include "runtime/blocking_pool.hpp"
#include "runtime/io_lane.hpp"
#include "runtime/reactor.hpp"
#include "tandem/detail/lane_hooks.hpp"
#include "tandem/runtime.hpp"

namespace tandem::detail {

class scheduler {
 public:
  explicit scheduler(const runtime_options& options);
  ~scheduler();  // shutdown(drain)
  scheduler(const scheduler&) = delete;
  scheduler& operator=(const scheduler&) = delete;

  std::uint32_t id() const noexcept { return id_; }
  const runtime_options& options() const noexcept { return options_; }
  boost::asio::io_context& io_context() noexcept { return reactor_.context(); }

  // submit() queues `task` on `lane`, or abandons it with runtime_stopped
  // when this thread may no longer submit (see above).
  void submit(lane_kind lane, task_node* task) noexcept;

  // shutdown() drains or cancels, stops every thread, resolves everything.
  void shutdown(shutdown_mode mode);

 private:
  enum class phase { running, draining, cancelling, stopped };

  static void run_task(void* self, task_node* task) noexcept;
  void push(lane_kind lane, task_node* task) noexcept;
  void wait_until_quiescent() const;

  const runtime_options options_;
  const std::uint32_t id_;
  std::atomic<phase> phase_{phase::running};
  alignas(64) std::atomic<std::int64_t> entering_{0};
  std::mutex shutdown_mutex_;  // serializes shutdown() callers
  bool shut_down_ = false;
  reactor reactor_;
  io_lane io_;
  blocking_pool blocking_;
};

}  // namespace tandem::detail

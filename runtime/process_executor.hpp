// process_executor.hpp — the executor a child process's handlers run on.
//
// Like tandem::io_executor it runs Asio completions on the io lane, with
// two differences that let shutdown keep its promise about children (every
// one killed or waited for, reaped, and its future resolved):
//  * what it queues is never refused, also from the reactor once shutdown
//    began (io_executor's completions are, then, so that timers
//    cannot hold shutdown up; a process can, until it ends);
//  * what it queues runs even while the runtime cancels, since it is what
//    kills and reaps the child and resolves its future.
// This is safe because the scheduler counts every live process as
// outstanding work (process_table), so the lanes are still running whenever
// a process's handler is queued.
#pragma once

#include <boost/asio/execution.hpp>
#include <boost/asio/execution_context.hpp>
#include <exception>
#include <type_traits>
#include <utility>

#include "runtime/scheduler.hpp"
#include "tandem/io_executor.hpp"

namespace tandem::detail {

// process_executor satisfies Asio's (1.18) standard executor requirements,
// like io_executor; wrap it in a strand to run a process's handlers one at
// a time.
class process_executor {
 public:
  explicit process_executor(scheduler& sched) noexcept : sched_(&sched) {}

  template <class F>
  void execute(F&& fn) const {
    using step = handler_task<std::decay_t<F>, true>;
    sched_->submit_unrefused(new step(std::decay_t<F>(std::forward<F>(fn))));
  }

  boost::asio::execution_context& query(boost::asio::execution::context_t) const noexcept {
    return sched_->io_context();
  }
  static constexpr boost::asio::execution::blocking_t query(
      boost::asio::execution::blocking_t) noexcept {
    return boost::asio::execution::blocking.never;
  }
  process_executor require(boost::asio::execution::blocking_t::never_t) const noexcept {
    return *this;
  }

  friend bool operator==(const process_executor& a, const process_executor& b) noexcept {
    return a.sched_ == b.sched_;
  }
  friend bool operator!=(const process_executor& a, const process_executor& b) noexcept {
    return !(a == b);
  }

 private:
  scheduler* sched_;
};

}  // namespace tandem::detail

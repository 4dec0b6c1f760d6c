// reactor.hpp — the runtime's boost::asio::io_context: the epoll reactor
// that the io lane's workers wait in.
//
// There is no reactor thread. An io worker that runs out of work waits in
// the reactor instead of on its own futex (one worker at a time: the
// poller, io_lane.hpp), so a socket or timer event is handled by the thread
// that saw it, with no hand-off between threads. Completion handlers still
// run as io-lane tasks: I/O objects made with tandem::io_executor queue them
// to the lane, which the poller does on its own deque.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <optional>

namespace tandem::detail {

class reactor {
 public:
  reactor();
  ~reactor();  // abandon_pending(); then the context is destroyed
  reactor(const reactor&) = delete;
  reactor& operator=(const reactor&) = delete;

  boost::asio::io_context& context() noexcept { return context_; }

  // wait_for_one() blocks until the reactor has run one operation (an I/O
  // readiness, a timer, or interrupt()), then run_ready(). Exceptions thrown by a handler
  // run directly on the context are reported, not thrown.
  void wait_for_one() noexcept;
  // run_ready() runs what is ready without blocking, up to a bound
  // (reactor.cpp), so a handler that keeps posting itself cannot hold the
  // calling worker forever.
  void run_ready() noexcept;
  // interrupt() makes a thread blocked in wait_for_one() return (or the
  // next call, if none is blocked yet).
  void interrupt();
  // stopped() is true once the user stopped the context: waiting in it
  // then returns at once.
  bool stopped() const noexcept { return context_.stopped(); }

  // abandon_pending() destroys every pending operation and its handler
  // without running it (what ~io_context does, without destroying the
  // context, so I/O objects the user still holds stay safe to destroy).
  // Call it once no thread waits in the reactor any more.
  void abandon_pending();

 private:
  // owned_context exposes execution_context::shutdown(), which is protected.
  class owned_context : public boost::asio::io_context {
   public:
    using boost::asio::execution_context::shutdown;
    using boost::asio::io_context::io_context;
  };

  owned_context context_;
  // Keeps run_one() waiting when no operation is pending.
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>>
      keep_running_;
  bool abandoned_ = false;
};

}  // namespace tandem::detail

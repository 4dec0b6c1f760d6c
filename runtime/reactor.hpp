// reactor.hpp — the runtime's boost::asio::io_context and the one thread
// that waits in it (epoll). Completion handlers do not run here: I/O
// objects made with tandem::io_executor dispatch them to the io lane, so
// this thread only waits for readiness and hands work over.
#pragma once

#include <chrono>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <optional>
#include <thread>

namespace tandem::detail {

class reactor {
 public:
  // reactor() starts the thread, which asks for `thread_slice`
  // (thread_slice.hpp; zero: the kernel's default).
  explicit reactor(std::chrono::nanoseconds thread_slice);
  ~reactor();  // stop(); then the context is destroyed
  reactor(const reactor&) = delete;
  reactor& operator=(const reactor&) = delete;

  boost::asio::io_context& context() noexcept { return context_; }

  // stop() ends the reactor thread; pending operations stay registered.
  void stop();
  // abandon_pending() destroys every pending operation and its handler
  // without running it (what ~io_context does, without destroying the
  // context, so I/O objects the user still holds stay safe to destroy).
  void abandon_pending();

 private:
  // owned_context exposes execution_context::shutdown(), which is protected.
  class owned_context : public boost::asio::io_context {
   public:
    using boost::asio::execution_context::shutdown;
    using boost::asio::io_context::io_context;
  };

  owned_context context_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>>
      keep_running_;
  std::thread thread_;
  bool abandoned_ = false;
};

}  // namespace tandem::detail

// io_executor.hpp — the io lane as an Asio executor, and awaiting tandem
// futures from Asio coroutines.
//
//   namespace asio = boost::asio;
//   asio::steady_timer timer(rt.io_executor(), 500ms);
//   timer.async_wait([](auto) { /* runs on the io lane */ });
//
//   asio::co_spawn(rt.io_executor(), [&]() -> asio::awaitable<void> {
//     asio::steady_timer t(co_await asio::this_coro::executor, 10ms);
//     co_await t.async_wait(asio::use_awaitable);        // holds no thread
//     int v = co_await tandem::async_get(rt.submit(tandem::io, work), asio::use_awaitable);
//   }, asio::detached);
//
// The reactor (epoll) of the runtime's io_context is driven by the io lane's
// workers: one idle worker waits in it, and the handler of an event it sees
// runs on that same worker (busy workers look at the reactor at least every
// millisecond when nobody waits in it). Every completion that the reactor
// delivers runs as an io-lane task, which idle workers may steal; what a
// task dispatches to its own io executor then runs inline (see below). A
// coroutine waiting on a timer or socket holds no thread.
// Handlers posted straight to rt.io_context() run on the worker driving the
// reactor, as an outsider's: they must not block.
//
// After shutdown() began, execute() drops the function without running it
// (Asio's rule for a stopped context); so it does once the runtime is gone,
// as when a handler waits in async_get() on another runtime's future that
// resolves later: the handler is destroyed, never run. Every other use of
// an io_executor (query(context)) needs its runtime alive, and so does a
// strand or an I/O object made on it: those live in the runtime's
// io_context, so one must not outlive the runtime.
#pragma once

#include <boost/asio/async_result.hpp>
#include <boost/asio/execution.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/associated_executor.hpp>
#include <exception>
#include <type_traits>
#include <utility>

#include "tandem/future.hpp"

namespace tandem {

namespace detail {

class scheduler;

// executor_context() is the io_context of `sched`, as Asio's base type.
boost::asio::execution_context& executor_context(scheduler& sched) noexcept;

// handler_task runs one Asio completion handler on the io lane. An
// abandoned one is dropped, unless `runs_when_abandoned` (a child process's
// handlers, which must run to reap it: runtime/process_executor.hpp).
template <class F, bool runs_when_abandoned = false>
class handler_task final : public task_node, public pooled {
 public:
  explicit handler_task(F&& fn) : fn_(std::move(fn)) {}
  task_outcome run() noexcept override;
  void abandon(std::exception_ptr) noexcept override {
    if constexpr (runs_when_abandoned)
      run();
    else
      delete this;
  }
  const char* trace_name() const noexcept override { return "asio handler"; }

 private:
  F fn_;
};

// report_escaped_exception() prints an exception that escaped a handler
// posted to the io executor (no future exists to carry it).
void report_escaped_exception(std::exception_ptr escaped) noexcept;

// invoke_reporting() calls `fn`, reporting what escapes it; false if
// something did.
template <class F>
bool invoke_reporting(F& fn) noexcept {
  try {
    fn();
    return true;
  } catch (...) {
    report_escaped_exception(std::current_exception());
    return false;
  }
}

template <class F, bool runs_when_abandoned>
task_outcome handler_task<F, runs_when_abandoned>::run() noexcept {
  const bool completed = invoke_reporting(fn_);
  delete this;
  return completed ? task_outcome::completed : task_outcome::failed;
}

}  // namespace detail

// io_executor satisfies Asio's executor requirements (Boost 1.74 / Asio
// 1.18 standard executors): it converts to boost::asio::any_io_executor.
//
// It is blocking.never, as rt.io_executor() returns it: execute() queues
// the function on the io lane and never runs it inline. Required (or
// preferred) blocking.possibly, as asio::dispatch() and the completion of
// an I/O operation ask, it runs the function at once when called by a task
// on one of the io lane's workers — what an io_context's executor does on a
// thread inside run() — and queues it from anywhere else, once a
// shutdown(cancel) began, or when the worker's stack is 256 KiB deep
// already (so a coroutine that dispatches to its own executor in a loop
// cannot overflow the stack, as it does on an io_context). So a coroutine
// that posts, or a handler that dispatches to its own executor, costs one
// hop through the lane instead of two.
//
// query(blocking) answers blocking.never all the same. Asio's strand reads
// it: over an executor that answers otherwise, a strand runs a function at
// once whenever this thread is inside that strand, with no bound and no
// look at the lane; and a strand handler that waits in get() runs other
// tasks on its thread meanwhile, one of which would then enter the strand
// in the middle of that handler. Answering never, a strand always queues,
// and its first handler starts through execute() above.
//
// Copies compare equal when they name the same runtime and the same
// blocking property.
class io_executor {
 public:
  io_executor(detail::scheduler& sched, std::uint32_t runtime_id) noexcept
      : sched_(&sched), runtime_id_(runtime_id) {}

  template <class F>
  void execute(F&& fn) const {
    if (may_block_ && detail::may_run_inline(runtime_id_)) {
      std::decay_t<F> inline_fn(std::forward<F>(fn));
      detail::invoke_reporting(inline_fn);
      return;
    }
    using task = detail::handler_task<std::decay_t<F>>;
    auto* queued = new task(std::decay_t<F>(std::forward<F>(fn)));
    if (detail::on_runtime_thread(runtime_id_))
      detail::submit_task(*sched_, detail::lane_kind::io, queued);  // it lives: we run on it
    else
      detail::post_continuation(runtime_id_, queued);  // looked up: it may be gone
  }

  boost::asio::execution_context& query(boost::asio::execution::context_t) const noexcept {
    return detail::executor_context(*sched_);
  }
  // Not static: Asio would then take every io_executor for statically
  // never-blocking, and require(blocking.never) (post()'s) would keep a
  // possibly-blocking one as it is.
  boost::asio::execution::blocking_t query(boost::asio::execution::blocking_t) const noexcept {
    return boost::asio::execution::blocking.never;  // for strands: see above
  }
  io_executor require(boost::asio::execution::blocking_t::never_t) const noexcept {
    return io_executor(*this, false);
  }
  io_executor require(boost::asio::execution::blocking_t::possibly_t) const noexcept {
    return io_executor(*this, true);
  }

  friend bool operator==(const io_executor& a, const io_executor& b) noexcept {
    return a.runtime_id_ == b.runtime_id_ && a.may_block_ == b.may_block_;
  }
  friend bool operator!=(const io_executor& a, const io_executor& b) noexcept { return !(a == b); }

 private:
  io_executor(const io_executor& other, bool may_block) noexcept
      : sched_(other.sched_), runtime_id_(other.runtime_id_), may_block_(may_block) {}

  detail::scheduler* sched_;  // used only where the runtime is known to live
  std::uint32_t runtime_id_;  // ids are never reused: execute() looks it up
  bool may_block_ = false;    // blocking.possibly: runs inline on an io worker
};

namespace detail {

template <class T>
struct async_get_completion {
  using signature = void(std::exception_ptr, T);
};
template <>
struct async_get_completion<void> {
  using signature = void(std::exception_ptr);
};

// get_waiter delivers a future's outcome to an Asio completion handler,
// through the handler's associated executor.
template <class T, class Handler>
class get_waiter final : public callback_node, public pooled {
 public:
  get_waiter(future<T>&& f, Handler&& h) : future_(std::move(f)), handler_(std::move(h)) {}
  void start() { access::state_of(future_).attach(this); }
  void on_ready() noexcept override {
    auto executor = boost::asio::get_associated_executor(handler_);
    boost::asio::post(
        executor, [f = std::move(future_), h = std::move(handler_)]() mutable { deliver(f, h); });
    delete this;
  }

 private:
  static void deliver(future<T>& f, Handler& h) {
    std::exception_ptr failure;
    if constexpr (std::is_void_v<T>) {
      try {
        f.get();
      } catch (...) {
        failure = std::current_exception();
      }
      std::move(h)(failure);
    } else {
      static_assert(std::is_default_constructible_v<T>,
                    "tandem::async_get needs a default-constructible T (Asio passes a T even "
                    "with an exception)");
      T value{};
      try {
        value = f.get();
      } catch (...) {
        failure = std::current_exception();
      }
      std::move(h)(failure, std::move(value));
    }
  }

  future<T> future_;
  Handler handler_;
};

}  // namespace detail

// async_get() waits for `f` without holding a thread and completes with
// (exception_ptr, T) — with asio::use_awaitable, `co_await` yields T or
// throws. The handler runs on its associated executor. A future with no
// state (default-made, moved from, already consumed) throws tandem::error
// here, before any operation starts.
template <class T, class CompletionToken>
auto async_get(future<T> f, CompletionToken&& token) {
  f.is_ready();  // throws for a future with no state
  return boost::asio::async_initiate<CompletionToken,
                                     typename detail::async_get_completion<T>::signature>(
      [](auto handler, future<T> waited) {
        using handler_type = decltype(handler);
        (new detail::get_waiter<T, handler_type>(std::move(waited), std::move(handler)))->start();
      },
      token, std::move(f));
}

}  // namespace tandem

// runtime.hpp — tandem::runtime, the one object a program creates.
//
//   tandem::runtime rt;                                 // defaults from the core count
//   auto f = rt.submit(tandem::io, [](int x) { return x * 2; }, 21);
//   auto g = rt.submit(tandem::io_blocking, [] { std::this_thread::sleep_for(1s); });
//   f.get();                                            // 42
//
// The io lane is a work-stealing pool of `io_threads` workers: a task
// submitted from outside goes through a global injection queue, a task
// submitted from inside a worker onto that worker's own deque, and idle
// workers steal. Idle workers sleep (no CPU is used at idle). Work that
// blocks is marked with tandem::io_blocking and runs on extra threads, up to
// max_blocking_threads, so it never holds up the workers. The runtime also
// owns a boost::asio::io_context whose completions run on the io lane (see
// io_executor.hpp).
//
// Thread-safety: every member may be called from any thread, including
// from tasks running on the runtime (except shutdown() and the destructor,
// which must not be called from the runtime's own threads).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <tuple>
#include <type_traits>
#include <utility>

#include "tandem/affinity.hpp"
#include "tandem/detail/lane_hooks.hpp"
#include "tandem/future.hpp"

namespace boost::asio {
class io_context;
}

namespace tandem {

class io_executor;

// runtime_options configures a runtime; every field has a sensible default.
struct runtime_options {
  // io_threads is the io lane's worker count; 0 means one per core.
  unsigned io_threads = 0;
  // max_blocking_threads bounds the threads running tandem::io_blocking
  // tasks at once; further blocking tasks wait in a queue.
  unsigned max_blocking_threads = 512;
  // blocking_idle_timeout is how long an idle blocking thread is kept.
  std::chrono::milliseconds blocking_idle_timeout{10'000};
};

// shutdown_mode says what happens to queued work at shutdown.
enum class shutdown_mode {
  drain,   // run everything queued (and what it spawns), then stop
  cancel,  // queued tasks never run; their futures hold task_cancelled
};
inline constexpr shutdown_mode drain = shutdown_mode::drain;
inline constexpr shutdown_mode cancel = shutdown_mode::cancel;

namespace detail {

// bound_task is a submitted callable with its arguments, fused with the
// state of its future: one allocation per submission. The lane holds one
// reference and the future the other.
template <class R, class Fn, class Args>
class bound_task final : public state<R>, public task_node {
 public:
  template <class F, class... A>
  bound_task(std::uint32_t runtime_id, F&& fn, A&&... args)
      : state<R>(runtime_id, 2), fn_(std::forward<F>(fn)), args_(std::forward<A>(args)...) {}

  void run() noexcept override {
    if (this->try_claim())
      fulfil<R>(*this, [this]() -> decltype(auto) { return std::apply(fn_, std::move(args_)); });
    this->release();
  }
  void abandon(std::exception_ptr reason) noexcept override {
    this->try_fail(std::move(reason));
    this->release();
  }

 private:
  Fn fn_;
  Args args_;
};

}  // namespace detail

class runtime {
 public:
  // runtime() starts the io lane (io_threads workers) and its Asio reactor.
  runtime();
  explicit runtime(const runtime_options& options);
  // ~runtime() is shutdown(tandem::drain).
  ~runtime();
  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  // submit() runs fn(args...) on the io lane and returns the future of its
  // result (a returned future is unwrapped). Arguments are decay-copied, as
  // by std::thread. After shutdown began the future holds runtime_stopped.
  template <class F, class... Args>
  requires std::invocable < std::decay_t<F>
  &, std::decay_t<Args>... > auto submit(io_t, F&& fn, Args&&... args) {
    return submit_to(detail::lane_kind::io, std::forward<F>(fn), std::forward<Args>(args)...);
  }
  // submit(tandem::io_blocking, ...) is submit() for work that blocks its
  // thread; it runs on a blocking thread, never on an io-lane worker.
  template <class F, class... Args>
  requires std::invocable < std::decay_t<F>
  &, std::decay_t<Args>... > auto submit(io_blocking_t, F&& fn, Args&&... args) {
    return submit_to(detail::lane_kind::io_blocking, std::forward<F>(fn),
                     std::forward<Args>(args)...);
  }

  // shutdown() stops accepting submissions from outside the runtime, then
  // drains or cancels what is queued (see shutdown_mode), waits for running
  // tasks, stops every thread and abandons outstanding Asio operations.
  // When it returns every future the runtime produced is resolved. A second
  // call does nothing. Must not be called from the runtime's own threads.
  void shutdown(shutdown_mode mode = drain);

  // io_executor() is an Asio executor: Asio I/O objects and co_spawn'ed
  // coroutines made with it run their completions on the io lane.
  tandem::io_executor io_executor() const;
  // io_context() is the Asio context behind io_executor().
  boost::asio::io_context& io_context() const;

  // options() are the options in force (defaults filled in).
  const runtime_options& options() const noexcept;

 private:
  template <class F, class... Args>
  auto submit_to(detail::lane_kind lane, F&& fn, Args&&... args) {
    using Fn = std::decay_t<F>;
    using Tuple = std::tuple<std::decay_t<Args>...>;
    using R = detail::unwrapped_t<std::invoke_result_t<Fn&, std::decay_t<Args>...>>;
    auto* task =
        new detail::bound_task<R, Fn, Tuple>(id_, std::forward<F>(fn), std::forward<Args>(args)...);
    auto result = detail::access::adopt<R>(task);
    detail::submit_task(*scheduler_, lane, task);
    return result;
  }

  std::unique_ptr<detail::scheduler> scheduler_;
  std::uint32_t id_;
};

}  // namespace tandem

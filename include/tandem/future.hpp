// future.hpp — tandem::future<T> and tandem::promise<T>.
//
// A future is the one handle to a result that will exist later: a value, or
// an exception (the task's own, or one of tandem's errors: task_cancelled,
// runtime_stopped, broken_promise). Every future tandem hands out resolves
// exactly once, so a waiter never hangs on a result that cannot come.
//
//   tandem::future<int> f = rt.submit(tandem::io, [] { return 6 * 7; });
//   auto g = f.then([](int x) { return x + 1; });   // runs on the io lane
//   int v = g.get();                                // 43
//
// future<T> is move-only, like std::future; get() consumes it. T may be
// void, a value type or a move-only type.
//
// Thread-safety: one future is used by one thread at a time; the promise
// (or task) on the other side may resolve it from any thread.
#pragma once

#include <chrono>
#include <coroutine>
#include <exception>
#include <functional>
#include <type_traits>
#include <utility>

#include "tandem/detail/deadline.hpp"
#include "tandem/detail/lane_hooks.hpp"
#include "tandem/detail/state.hpp"
#include "tandem/errors.hpp"

namespace tandem {

template <class T>
class future;

// kill_running asks future::cancel() to stop a cpu task even while it runs.
struct kill_running_t {
  explicit constexpr kill_running_t() = default;
};
inline constexpr kill_running_t kill_running{};

namespace detail {

template <class T>
struct is_future : std::false_type {};
template <class T>
struct is_future<future<T>> : std::true_type {};

// unwrapped<R> is what a future of R delivers: future<future<U>> is U.
template <class R>
struct unwrapped {
  using type = R;
};
template <class U>
struct unwrapped<future<U>> {
  using type = U;
};
template <class R>
using unwrapped_t = typename unwrapped<R>::type;

// access lets tandem's own code build a future from a state it holds a
// reference for, and reach a future's state.
struct access {
  template <class T>
  static future<T> adopt(state<T>* s) noexcept {
    return future<T>(s);
  }
  template <class T>
  static state<T>& state_of(const future<T>& f) {
    return f.checked_state();
  }
};

template <class T>
void complete_with(state<T>& s, future<T> inner) noexcept;

// fulfil() runs `produce` for a claimed state and stores what it returns —
// a value, nothing (void), or another future whose outcome is forwarded —
// or the exception it throws (then the outcome is `failed`).
template <class T, class Produce>
task_outcome fulfil(state<T>& s, Produce&& produce) noexcept {
  using R = std::invoke_result_t<Produce&>;
  std::exception_ptr error = exception_of([&] {
    if constexpr (is_future<R>::value) {
      complete_with(s, std::invoke(produce));
    } else if constexpr (std::is_void_v<T>) {
      std::invoke(produce);
      s.emplace_claimed();
    } else {
      s.emplace_claimed(std::invoke(produce));
    }
  });
  if (!error) return task_outcome::completed;
  s.fail_claimed(std::move(error));
  return task_outcome::failed;
}

// forwarder moves an inner future's outcome into a claimed outer state.
template <class T>
class forwarder final : public callback_node {
 public:
  forwarder(state<T>& outer, future<T> inner) : outer_(outer), inner_(std::move(inner)) {
    outer_.add_ref();
  }
  void start() { access::state_of(inner_).attach(this); }
  void on_ready() noexcept override {
    fulfil(outer_, [this]() -> decltype(auto) { return inner_.get(); });
    outer_.release();
    delete this;
  }

 private:
  state<T>& outer_;
  future<T> inner_;
};

template <class T>
void complete_with(state<T>& s, future<T> inner) noexcept {
  if (!inner.valid()) {
    s.fail_claimed(std::make_exception_ptr(error("a task returned an empty tandem::future")));
    return;
  }
  (new forwarder<T>(s, std::move(inner)))->start();
}

// continuation_result<T, F> is what F returns when handed a ready future<T>
// (if F takes the future) or its value (otherwise).
template <class T, class F>
auto invoke_continuation(F& fn, future<T>& ready) -> decltype(auto) {
  if constexpr (std::is_invocable_v<F&, future<T>>) {
    return std::invoke(fn, std::move(ready));
  } else if constexpr (std::is_void_v<T>) {
    ready.get();
    return std::invoke(fn);
  } else {
    return std::invoke(fn, ready.get());
  }
}

template <class T, class F>
using continuation_result_t =
    decltype(invoke_continuation<T>(std::declval<F&>(), std::declval<future<T>&>()));

template <class T, class F, class Executor>
class continuation;

}  // namespace detail

// inline_executor runs a continuation on the thread that resolved the
// future (or, if it was ready already, on the thread calling then()).
struct inline_executor {
  template <class F>
  void execute(F&& fn) const {
    std::forward<F>(fn)();
  }
  friend bool operator==(inline_executor, inline_executor) noexcept { return true; }
};

// lane_executor is then()'s default: the io lane of the runtime that
// produced the future (see detail::post_continuation).
struct lane_executor {};

template <class T>
class future {
 public:
  using value_type = T;
  struct promise_type;

  // A default-constructed future has no state: valid() is false.
  future() noexcept = default;
  future(future&& other) noexcept : state_(std::exchange(other.state_, nullptr)) {}
  future& operator=(future&& other) noexcept {
    if (this != &other) {
      reset();
      state_ = std::exchange(other.state_, nullptr);
    }
    return *this;
  }
  future(const future&) = delete;
  future& operator=(const future&) = delete;
  ~future() { reset(); }

  // valid() is false after get(), then(), a move, or default construction.
  bool valid() const noexcept { return state_ != nullptr; }

  // is_ready() never blocks. Throws tandem::error when !valid().
  bool is_ready() const { return checked_state().is_ready(); }

  // wait() blocks until the future is ready. On an io-lane worker it runs
  // other tasks meanwhile, so nested fork-join cannot deadlock the lane
  // (until three quarters of the worker's stack are in use by such nested
  // waits: deeper down it only waits, which deadlocks if no other thread
  // can run what it waits for; without that limit the stack would
  // overflow). So a task that holds a lock across wait() or get()
  // may see another task start on its thread under that lock.
  void wait() const {
    auto& s = checked_state();
    if (!s.is_ready()) detail::wait_ready(s);
  }

  // wait_for() is wait() bounded by `timeout`; true when ready. It runs no
  // other task while it waits, so it returns on time: on an io-lane worker,
  // what it waits for must be run by another thread.
  template <class Rep, class Period>
  bool wait_for(const std::chrono::duration<Rep, Period>& timeout) const {
    auto& s = checked_state();
    return s.is_ready() || detail::wait_ready_for(s, detail::saturating_ns(timeout));
  }

  // get() waits, then returns the value or throws the stored exception; the
  // future is no longer valid() afterwards.
  T get() {
    wait();
    detail::state<T>* s = std::exchange(state_, nullptr);
    struct drop {
      detail::state<T>* s;
      ~drop() { s->release(); }
    } guard{s};
    return s->take();
  }

  // cancel() stops a task that has not started: it never runs and the future
  // holds tandem::task_cancelled. Returns false (and changes nothing) when
  // the task is already running or finished. A tandem coroutine (a function
  // returning tandem::future) that has not returned is cancelled too: its
  // future holds task_cancelled at once, and the coroutine is stopped where
  // a co_await of a tandem future would next resume it after waiting (its
  // frame is destroyed there, running its locals' destructors; code between
  // two co_awaits is never interrupted). That happens when what it waits
  // for resolves (or at shutdown): what its locals refer to must live until
  // then. A runtime::map() future, whose chunks are tasks of their own,
  // withdraws those not started and resolves once the others have ended
  // (see runtime::map()).
  bool cancel() {
    auto& s = checked_state();
    return s.try_fail(std::make_exception_ptr(task_cancelled())) || s.withdraw();
  }
  // cancel(tandem::kill_running) also stops a cpu task that is running: its
  // worker process is killed and replaced, and the future holds
  // task_cancelled (or the result, if the task finished first). Returns
  // false for a finished task and for a running io task (threads cannot be
  // stopped safely). A runtime::map() future withdraws its chunks not yet
  // started and stops its running ones.
  bool cancel(kill_running_t) {
    const bool withdrawn = cancel();
    // Asked even after a withdrawal: a map() may have chunks of both kinds
    // (a single task withdrawn is ready, and has nothing left to stop).
    return checked_state().stop_running() || withdrawn;
  }

  // then() runs `fn` once this future is ready and returns the future of its
  // result (a future returned by `fn` is unwrapped). `fn` takes either the
  // value (T; nothing for void) — an exception then skips `fn` and passes
  // on — or the ready future<T> itself, to handle errors. By default `fn`
  // runs on the io lane of the runtime that produced this future; pass an
  // executor (rt.io_executor(), tandem::inline_executor{}, any Asio
  // executor) to choose. Consumes this future.
  template <class F>
  auto then(F&& fn) {
    return then(lane_executor{}, std::forward<F>(fn));
  }
  template <class Executor, class F>
  auto then(Executor executor, F&& fn) {
    using R = detail::unwrapped_t<detail::continuation_result_t<T, std::decay_t<F>>>;
    auto& source = checked_state();
    auto* result = new detail::state<R>(source.runtime_id(), 2);
    auto* node = new detail::continuation<T, std::decay_t<F>, Executor>(
        std::exchange(state_, nullptr), std::forward<F>(fn), std::move(executor), result);
    source.attach(node);
    return detail::access::adopt(result);
  }

  // co_await inside a coroutine suspends until the future is ready, then
  // yields the value or throws. The coroutine resumes on the io lane of the
  // runtime that produced the future (a future of no runtime, such as a
  // bare promise's, resumes it on the resolving thread). (In an
  // Asio awaitable<> coroutine use tandem::async_get from io_executor.hpp.)
  auto operator co_await() && noexcept;
  auto operator co_await() & noexcept { return std::move(*this).operator co_await(); }

 private:
  friend struct detail::access;
  explicit future(detail::state<T>* s) noexcept : state_(s) {}

  detail::state<T>& checked_state() const {
    if (!state_)
      throw error(
          "tandem::future has no state: it was default-constructed, moved from, or consumed "
          "by get()/then(); keep the future returned by the call that made it");
    return *state_;
  }
  void reset() noexcept {
    if (state_) std::exchange(state_, nullptr)->release();
  }

  detail::state<T>* state_ = nullptr;
};

// promise<T> is the producing side of a future made by hand.
//
//   tandem::promise<int> p;
//   tandem::future<int> f = p.get_future();
//   std::thread([p = std::move(p)]() mutable { p.set_value(7); }).detach();
//
// A promise destroyed before it sets anything leaves tandem::broken_promise
// in its future. If the future was cancelled first, set_value() and
// set_exception() do nothing. Setting twice throws tandem::error.
template <class T>
class promise {
 public:
  promise() : state_(new detail::state<T>(detail::current_runtime_id(), 1)) {}
  promise(promise&& other) noexcept
      : state_(std::exchange(other.state_, nullptr)),
        future_taken_(other.future_taken_),
        satisfied_(other.satisfied_) {}
  promise& operator=(promise&& other) noexcept {
    if (this != &other) {
      abandon();
      state_ = std::exchange(other.state_, nullptr);
      future_taken_ = other.future_taken_;
      satisfied_ = other.satisfied_;
    }
    return *this;
  }
  promise(const promise&) = delete;
  promise& operator=(const promise&) = delete;
  ~promise() { abandon(); }

  // get_future() may be called once.
  future<T> get_future() {
    auto& s = checked_state();
    if (std::exchange(future_taken_, true))
      throw error("tandem::promise::get_future() called twice: a promise has one future");
    s.add_ref();
    return detail::access::adopt(&s);
  }

  template <class... Args>
  void set_value(Args&&... args) {
    if (!claim()) return;
    pinned s(state_);
    s->emplace_claimed(std::forward<Args>(args)...);
  }
  void set_exception(std::exception_ptr reason) {
    if (!claim()) return;
    pinned s(state_);
    s->fail_claimed(std::move(reason));
  }

 private:
  detail::state<T>& checked_state() const {
    if (!state_) throw error("tandem::promise has no state: it was moved from");
    return *state_;
  }
  bool claim() {
    auto& s = checked_state();
    if (std::exchange(satisfied_, true))
      throw error("tandem::promise already satisfied: set_value/set_exception may be called once");
    return s.try_claim();  // false: the future was cancelled first
  }
  // pinned keeps the state alive while set_value() publishes: once the
  // value is visible the waiting thread may destroy this promise (and drop
  // its reference) before publish() has returned.
  struct pinned {
    detail::state<T>* s;
    explicit pinned(detail::state<T>* state) noexcept : s(state) { s->add_ref(); }
    pinned(const pinned&) = delete;
    pinned& operator=(const pinned&) = delete;
    ~pinned() { s->release(); }
    detail::state<T>* operator->() const noexcept { return s; }
  };

  void abandon() noexcept {
    if (!state_) return;
    if (!satisfied_ && state_->try_claim())
      state_->fail_claimed(std::make_exception_ptr(broken_promise()));
    std::exchange(state_, nullptr)->release();
  }

  detail::state<T>* state_;
  bool future_taken_ = false;
  bool satisfied_ = false;
};

// make_ready_future() returns a future that already holds `value`.
template <class T>
future<std::decay_t<T>> make_ready_future(T&& value) {
  promise<std::decay_t<T>> p;
  auto f = p.get_future();
  p.set_value(std::forward<T>(value));
  return f;
}
inline future<void> make_ready_future() {
  promise<void> p;
  auto f = p.get_future();
  p.set_value();
  return f;
}

// make_exceptional_future() returns a future that already holds `reason`.
template <class T>
future<T> make_exceptional_future(std::exception_ptr reason) {
  promise<T> p;
  auto f = p.get_future();
  p.set_exception(std::move(reason));
  return f;
}

namespace detail {

// continuation is both the callback a source future fires and the task
// that runs `fn` on the chosen executor. It owns one reference to the
// result state.
template <class T, class F, class Executor>
class continuation final : public callback_node, public task_node, public pooled {
 public:
  using result_type = unwrapped_t<continuation_result_t<T, F>>;

  template <class G>
  continuation(state<T>* source, G&& fn, Executor executor, state<result_type>* result)
      : source_(access::adopt(source)),
        fn_(std::forward<G>(fn)),
        executor_(std::move(executor)),
        result_(result) {}
  ~continuation() { result_->release(); }

  void on_ready() noexcept override {
    if constexpr (std::is_same_v<Executor, lane_executor>) {
      post_continuation(result_->runtime_id(), this);
    } else {
      if (auto error = exception_of([this] { executor_.execute(runner{this}); }))
        abandon(std::move(error));
    }
  }
  task_outcome run() noexcept override {
    auto outcome = task_outcome::cancelled;
    if (result_->try_claim())
      outcome = fulfil(*result_,
                       [this]() -> decltype(auto) { return invoke_continuation<T>(fn_, source_); });
    delete this;
    return outcome;
  }
  const char* trace_name() const noexcept override { return "continuation"; }
  void abandon(std::exception_ptr reason) noexcept override {
    result_->try_fail(std::move(reason));
    delete this;
  }

 private:
  // runner hands the continuation to a foreign executor; if the executor
  // destroys it without running it (it was shut down), the result future
  // still resolves, with runtime_stopped.
  struct runner {
    continuation* self;
    explicit runner(continuation* c) noexcept : self(c) {}
    runner(runner&& other) noexcept : self(std::exchange(other.self, nullptr)) {}
    runner(const runner&) = delete;
    runner& operator=(const runner&) = delete;
    ~runner() {
      if (self) self->abandon(std::make_exception_ptr(runtime_stopped()));
    }
    void operator()() { std::exchange(self, nullptr)->run(); }
  };

  future<T> source_;
  F fn_;
  Executor executor_;
  state<result_type>* result_;
};

// cancellable_coroutine is the part of a tandem coroutine's promise that
// an awaiter reads: the state of the coroutine's own future, which
// cancel() resolves while the coroutine waits.
class cancellable_coroutine {
 public:
  explicit cancellable_coroutine(state_base& own) noexcept : own_(own) {}
  state_base& own_state() const noexcept { return own_; }
  // end_with() sets what the future holds if the frame is destroyed before
  // the coroutine returns (else broken_promise).
  void end_with(std::exception_ptr reason) noexcept { end_reason_ = std::move(reason); }

 protected:
  std::exception_ptr end_reason() const noexcept { return end_reason_; }

 private:
  state_base& own_;
  std::exception_ptr end_reason_;
};

// awaiter suspends a coroutine on a future; it is also the task that
// resumes it on the io lane. A tandem coroutine whose own future was
// cancelled meanwhile is not resumed but destroyed (its locals' destructors
// run), so cancel() stops it at the co_await it waits in.
template <class T>
class awaiter final : public callback_node, public task_node {
 public:
  explicit awaiter(future<T>&& f) noexcept : future_(std::move(f)) {}
  bool await_ready() const { return future_.is_ready(); }
  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> handle) {
    handle_ = handle;
    if constexpr (std::is_base_of_v<cancellable_coroutine, Promise>) owner_ = &handle.promise();
    return access::state_of(future_).try_attach(this);
  }
  T await_resume() { return future_.get(); }

  void on_ready() noexcept override {
    post_continuation(access::state_of(future_).runtime_id(), this);
  }
  task_outcome run() noexcept override {
    if (owner_ && owner_->own_state().is_ready()) {  // cancelled while it waited
      handle_.destroy();                             // this awaiter lives in the frame: gone now
      return task_outcome::cancelled;
    }
    handle_.resume();
    return task_outcome::completed;
  }
  // abandon() (the runtime stops) ends the coroutine with the reason, not
  // with the broken_promise its destruction alone would leave. The frame
  // goes first, so its locals are gone before whoever awaits its future
  // goes on.
  void abandon(std::exception_ptr reason) noexcept override {
    if (owner_) owner_->end_with(std::move(reason));
    handle_.destroy();
  }
  const char* trace_name() const noexcept override { return "coroutine"; }

 private:
  future<T> future_;
  std::coroutine_handle<> handle_;
  cancellable_coroutine* owner_ = nullptr;  // a tandem coroutine's promise, else null
};

// coroutine_promise_base is what future<T>::promise_type shares for every T:
// the state, eager start, and broken_promise when the frame is destroyed
// before it returns.
template <class T>
class coroutine_promise_base : public cancellable_coroutine {
 public:
  coroutine_promise_base() : coroutine_promise_base(new state<T>(current_runtime_id(), 2)) {}
  coroutine_promise_base(const coroutine_promise_base&) = delete;
  coroutine_promise_base& operator=(const coroutine_promise_base&) = delete;
  ~coroutine_promise_base() {
    if (state_->try_claim())
      state_->fail_claimed(end_reason() ? end_reason() : std::make_exception_ptr(broken_promise()));
    state_->release();
  }

  future<T> get_return_object() noexcept { return access::adopt(state_); }
  std::suspend_never initial_suspend() const noexcept { return {}; }
  std::suspend_never final_suspend() const noexcept { return {}; }
  void unhandled_exception() noexcept {
    if (state_->try_claim()) state_->fail_claimed(std::current_exception());
  }

 protected:
  state<T>* state_;

 private:
  explicit coroutine_promise_base(state<T>* own) : cancellable_coroutine(*own), state_(own) {}
};

}  // namespace detail

template <class T>
auto future<T>::operator co_await() && noexcept {
  return detail::awaiter<T>(std::move(*this));
}

// future<T> is a coroutine type: a function returning tandem::future<T> may
// co_await and co_return. It starts running at once, on the caller's thread.
template <class T>
struct future<T>::promise_type : detail::coroutine_promise_base<T> {
  template <class V>
  void return_value(V&& value) {
    if (this->state_->try_claim()) this->state_->emplace_claimed(std::forward<V>(value));
  }
};

template <>
struct future<void>::promise_type : detail::coroutine_promise_base<void> {
  void return_void() {
    if (state_->try_claim()) state_->emplace_claimed();
  }
};

}  // namespace tandem

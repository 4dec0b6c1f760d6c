// state.hpp — the shared state behind a future. Not part of the public API.
//
// Protocol. A state is resolved exactly once, by whoever wins try_claim():
// the task that runs, a promise, a continuation, or cancel(). The winner
// stores the value or the exception, then calls publish().
//
// Memory ordering:
//  * claimed_ is an exchange (acq_rel): exactly one resolver.
//  * The value/exception is written before publish(); publish() stores
//    ready_ with release, and every reader (is_ready(), waiters) loads it
//    with acquire before touching the value.
//  * callbacks_ is a lock-free stack of callback_node; publish() swaps in the
//    `closed` marker (acq_rel) and fires the nodes it took. try_attach()
//    pushes with a release CAS and fails once it sees `closed` (acquire), so
//    a node is fired exactly once, and always after the value is visible.
//  * ready_ doubles as a futex word: 0 pending, 1 pending with sleepers,
//    2 ready. publish() makes the wake-up syscall only when a sleeper
//    announced itself (1), so a resolution nobody waits for costs none.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "tandem/detail/node_pool.hpp"

namespace tandem::detail {

// exception_of() runs `fn` and returns what it threw, or null when it
// returned. Hand a caught exception to another thread only this way, once
// the catch block has ended: libstdc++ counts an exception's references out
// of ThreadSanitizer's sight, so a handler's reference dropped after the
// hand-off frees the exception "unsynchronised" with its receiver's reads.
template <class F>
std::exception_ptr exception_of(F&& fn) noexcept {
  try {
    std::forward<F>(fn)();
    return nullptr;
  } catch (...) {
    return std::current_exception();
  }
}

// callback_node is notified once when a state becomes ready; on_ready()
// owns the node's disposal (it may delete it, or resume a coroutine).
class callback_node {
 public:
  virtual void on_ready() noexcept = 0;
  callback_node* next_callback = nullptr;

 protected:
  ~callback_node() = default;
};

// help_step: how a thread waiting for a state lends itself to the lane
// that will resolve it (state_base::help_lane()).
enum class help_step { begin, pass, end };

class state_base : public pooled {
 public:
  enum : std::uint32_t { pending = 0, pending_with_sleepers = 1, ready = 2 };

  state_base(std::uint32_t runtime_id, std::uint32_t references) noexcept
      : refs_(references), runtime_id_(runtime_id) {}
  state_base(const state_base&) = delete;
  state_base& operator=(const state_base&) = delete;
  virtual ~state_base() = default;

  // stop_running() asks the lane to stop the running task behind this state
  // (only a cpu task can be: its worker is killed); false when that is not
  // possible or the state is ready.
  virtual bool stop_running() noexcept { return false; }
  // withdraw() cancels a task its lane has claimed but not started (a cpu
  // task queued in a worker's window): it resolves the state with
  // task_cancelled and the task never runs; false when too late.
  virtual bool withdraw() noexcept { return false; }
  // help_lane() lends a thread about to wait for this state to the lane
  // that will resolve it: begin (false: nothing to help), then a share of
  // the lane's work per pass call (true when it did some), then end. Only
  // cpu tasks' states have a lane to help (cpu_lane.hpp).
  virtual bool help_lane(help_step) noexcept { return false; }

  void add_ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  bool is_ready() const noexcept { return ready_.load(std::memory_order_acquire) == ready; }

  // try_claim() takes the one right to resolve this state.
  bool try_claim() noexcept {
    // Acquire: a loser sees what the winner did before its claim (the cpu
    // lane marks a job it claims, for future::cancel() to find).
    return !claimed_.load(std::memory_order_acquire) &&
           !claimed_.exchange(true, std::memory_order_acq_rel);
  }

  // publish() makes the stored result visible, wakes sleepers and fires the
  // callbacks. Only the claimer calls it, once.
  void publish() noexcept;

  void fail_claimed(std::exception_ptr reason) noexcept {
    error_ = std::move(reason);
    publish();
  }
  bool try_fail(std::exception_ptr reason) noexcept {
    if (!try_claim()) return false;
    fail_claimed(std::move(reason));
    return true;
  }

  // try_attach() registers `node` to be fired on publish(); false (and the
  // node untouched) when the state is already ready.
  bool try_attach(callback_node* node) noexcept;
  // attach() fires `node` now if the state is already ready.
  void attach(callback_node* node) noexcept {
    if (!try_attach(node)) node->on_ready();
  }

  const std::exception_ptr& error() const noexcept { return error_; }
  std::uint32_t runtime_id() const noexcept { return runtime_id_; }
  std::atomic<std::uint32_t>& ready_word() noexcept { return ready_; }

 private:
  static callback_node* closed() noexcept {
    return reinterpret_cast<callback_node*>(std::uintptr_t{1});
  }

  std::atomic<std::uint32_t> refs_;
  std::atomic<std::uint32_t> ready_{pending};
  std::atomic<bool> claimed_{false};
  std::uint32_t runtime_id_;
  std::atomic<callback_node*> callbacks_{nullptr};
  std::exception_ptr error_;
};

// state<T> adds the value. T may be move-only; references are not allowed.
template <class T>
class state : public state_base {
  static_assert(!std::is_reference_v<T>,
                "tandem::future<T&> is not supported: use a pointer or std::reference_wrapper");

 public:
  using state_base::state_base;

  template <class... Args>
  void emplace_claimed(Args&&... args) {
    value_.emplace(std::forward<Args>(args)...);
    publish();
  }
  // take() moves the value out, or rethrows the stored exception.
  T take() {
    if (error()) std::rethrow_exception(error());
    return std::move(*value_);
  }

 private:
  std::optional<T> value_;
};

template <>
class state<void> : public state_base {
 public:
  using state_base::state_base;
  void emplace_claimed() { publish(); }
  void take() {
    if (error()) std::rethrow_exception(error());
  }
};

// wait_ready() returns once `s` is ready. On an io-lane worker it runs other
// queued tasks meanwhile; elsewhere it spins briefly, yields, then sleeps
// on the futex word.
void wait_ready(state_base& s);
// wait_ready_for() is wait_ready() bounded by `timeout`; true when ready.
bool wait_ready_for(state_base& s, std::int64_t timeout_ns);

}  // namespace tandem::detail

// sync.hpp — locks and signals that work between threads and processes
// alike: process_mutex, condition, semaphore, event, barrier.
//
// Each is created through a runtime, lives in the runtime's shared object
// space, and is a small handle: copy it, capture it in an io task, or pass
// it to a cpu task as an argument (it crosses as a reference to the same
// object, never as a copy of it):
//
//   tandem::process_mutex m(rt);
//   tandem::semaphore slots(rt, 2);
//   const auto work = tandem::define_task<void(tandem::process_mutex)>(
//       "work", tandem::cpu, [](tandem::process_mutex m) { std::lock_guard lock(m); ... });
//   rt.submit(work, m).get();
//
// Lifetime: an object lives while a handle to it exists in the program
// that made it (the last one frees it), even past its runtime. A handle
// received by a cpu task borrows: keep one in the submitting program until
// the tasks that use it are done. A handle used in another runtime's
// worker, or after its object was freed, fails that task with a
// decode_error naming the problem.
//
// Waits spin for a few microseconds at most, then sleep on a shared futex,
// so a blocked thread or process uses no CPU. A contended process_mutex
// is not fair: its waiters back off between tries, so a holder that locks
// again at once often gets it again (more locks a second, and a waiter may
// wait out several). On the io lane, wait only in tandem::io_blocking tasks (a blocked io
// worker cannot run other tasks).
#pragma once

#include <pthread.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>

#include "tandem/detail/deadline.hpp"
#include "tandem/detail/shared_object.hpp"

namespace tandem {

class runtime;

// lock_result says how a lock was taken.
enum class lock_result {
  acquired,    // the lock is yours
  owner_died,  // the lock is yours, but its last owner died holding it:
               // the data it guards may be half-updated; repair it
  timed_out,   // (timed waits only) the time ran out; you do not hold it
};

namespace detail {

// The robust mutex behind process_mutex and shared<T>::with_lock().
void init_robust_mutex(pthread_mutex_t& mutex);
lock_result lock_robust_mutex(pthread_mutex_t& mutex,
                              std::chrono::steady_clock::time_point deadline);
void unlock_robust_mutex(pthread_mutex_t& mutex);

}  // namespace detail

// process_mutex is a robust mutex: when a thread or process dies holding
// it, the next locker gets lock_result::owner_died (and the lock) instead of
// waiting forever. It is an error-checking mutex: locking it twice from one
// thread, or unlocking it from a thread that does not hold it, throws
// tandem::error. It meets Lockable, so std::lock_guard and std::unique_lock
// work (they discard lock()'s result: call lock() yourself to be told).
//
// Only a dead owner is recovered: a cpu task that returns or throws while
// holding the mutex leaves it held by its worker process, which goes on
// running other tasks, so unlock before the task ends (std::lock_guard).
class process_mutex {
 public:
  static constexpr detail::object_kind object_kind_v = detail::object_kind::process_mutex;
  static constexpr std::uint32_t object_tag_v = 0;

  // process_mutex() creates an unlocked mutex in rt's object space; throws
  // tandem::error when that space is full.
  explicit process_mutex(runtime& rt);

  // lock() waits as long as it takes; returns acquired or owner_died.
  lock_result lock();
  // try_lock() takes the lock if it is free now (also when its owner died).
  bool try_lock();
  // try_lock_for() waits at most `timeout`; returns timed_out if it could
  // not take the lock by then.
  template <class Rep, class Period>
  lock_result try_lock_for(const std::chrono::duration<Rep, Period>& timeout) {
    return try_lock_until(detail::deadline_after(timeout));
  }
  void unlock();

 private:
  friend struct detail::handle_access;
  explicit process_mutex(detail::object_handle handle) noexcept : handle_(std::move(handle)) {}
  pthread_mutex_t* native() const noexcept;
  lock_result try_lock_until(std::chrono::steady_clock::time_point deadline);

  detail::object_handle handle_;
};

// condition is a condition variable for process_mutex: wait() releases the
// mutex and sleeps until notified (or spuriously: wait in a loop, or use
// the predicate forms). After a wait the mutex is held again; the plain
// forms return how it was retaken (owner_died: see process_mutex).
class condition {
 public:
  static constexpr detail::object_kind object_kind_v = detail::object_kind::condition;
  static constexpr std::uint32_t object_tag_v = 0;

  explicit condition(runtime& rt);

  lock_result wait(std::unique_lock<process_mutex>& lock);
  // wait_for() returns timed_out when `timeout` passed without a notify.
  template <class Rep, class Period>
  lock_result wait_for(std::unique_lock<process_mutex>& lock,
                       const std::chrono::duration<Rep, Period>& timeout) {
    return wait_until(lock, detail::deadline_after(timeout));
  }

  template <class Predicate>
  void wait(std::unique_lock<process_mutex>& lock, Predicate ready) {
    while (!ready()) wait(lock);
  }
  // wait_for(lock, timeout, ready) returns ready() at the end.
  template <class Rep, class Period, class Predicate>
  bool wait_for(std::unique_lock<process_mutex>& lock,
                const std::chrono::duration<Rep, Period>& timeout, Predicate ready);

  void notify_one() noexcept;
  void notify_all() noexcept;

 private:
  friend struct detail::handle_access;
  explicit condition(detail::object_handle handle) noexcept : handle_(std::move(handle)) {}
  lock_result wait_until(std::unique_lock<process_mutex>& lock,
                         std::chrono::steady_clock::time_point deadline);

  detail::object_handle handle_;
};

// semaphore counts permits: acquire() takes one, waiting while there is
// none; release() gives some back and wakes waiters.
class semaphore {
 public:
  static constexpr detail::object_kind object_kind_v = detail::object_kind::semaphore;
  static constexpr std::uint32_t object_tag_v = 0;

  semaphore(runtime& rt, std::uint32_t initial);

  void acquire();
  bool try_acquire();
  template <class Rep, class Period>
  bool try_acquire_for(const std::chrono::duration<Rep, Period>& timeout) {
    return acquire_until(detail::deadline_after(timeout));
  }
  // release() adds `count` permits; throws tandem::error if the count would
  // pass 2^32 - 1.
  void release(std::uint32_t count = 1);
  // available() is the number of permits now (stale as soon as it returns).
  std::uint32_t available() const noexcept;

 private:
  friend struct detail::handle_access;
  explicit semaphore(detail::object_handle handle) noexcept : handle_(std::move(handle)) {}
  bool acquire_until(std::chrono::steady_clock::time_point deadline);

  detail::object_handle handle_;
};

// event is a flag that waiters wait to see set (Python's Event): set()
// releases every waiter, clear() lowers the flag again. A wait returns true
// if the flag was set at any moment since it began, so set() followed at
// once by clear() still releases everyone who was waiting then.
class event {
 public:
  static constexpr detail::object_kind object_kind_v = detail::object_kind::event;
  static constexpr std::uint32_t object_tag_v = 0;

  explicit event(runtime& rt);

  void set() noexcept;
  void clear() noexcept;
  bool is_set() const noexcept;
  // wait() returns once the event is set or was set since wait() began.
  void wait() const;
  // wait_for() is wait() giving up after `timeout`: it returns whether the
  // event was set (at any moment) within `timeout`.
  template <class Rep, class Period>
  bool wait_for(const std::chrono::duration<Rep, Period>& timeout) const {
    return wait_until(detail::deadline_after(timeout));
  }

 private:
  friend struct detail::handle_access;
  explicit event(detail::object_handle handle) noexcept : handle_(std::move(handle)) {}
  bool wait_until(std::chrono::steady_clock::time_point deadline) const;

  detail::object_handle handle_;
};

// barrier makes `parties` threads or processes meet: each
// arrive_and_wait() blocks until all have arrived, then all go on and the
// barrier is ready for the next round.
//
// A party that dies while waiting still counts as arrived (the barrier
// cannot tell it from a slow one), so its round completes without it.
class barrier {
 public:
  static constexpr detail::object_kind object_kind_v = detail::object_kind::barrier;
  static constexpr std::uint32_t object_tag_v = 0;

  // barrier() throws tandem::error unless 1 <= parties <= 65535.
  barrier(runtime& rt, std::uint32_t parties);

  // arrive_and_wait() returns this caller's arrival order in the round, 0
  // for the first; the last arriver (parties - 1) releases the others. In a
  // round where an arrival was withdrawn (arrive_and_wait_for() timed out),
  // later arrivals take the withdrawn place's number again, so numbers may
  // repeat: numbering them anew would make every party wait for the others
  // to leave, and one that died would stop the barrier for good.
  std::uint32_t arrive_and_wait();
  // arrive_and_wait_for() is arrive_and_wait() giving up after `timeout`:
  // then its arrival is withdrawn (the round still needs `parties`) and it
  // returns nothing.
  template <class Rep, class Period>
  std::optional<std::uint32_t> arrive_and_wait_for(
      const std::chrono::duration<Rep, Period>& timeout) {
    return arrive_until(detail::deadline_after(timeout));
  }
  std::uint32_t parties() const noexcept;

 private:
  friend struct detail::handle_access;
  explicit barrier(detail::object_handle handle) noexcept : handle_(std::move(handle)) {}
  std::optional<std::uint32_t> arrive_until(std::chrono::steady_clock::time_point deadline);

  detail::object_handle handle_;
};

template <class Rep, class Period, class Predicate>
bool condition::wait_for(std::unique_lock<process_mutex>& lock,
                         const std::chrono::duration<Rep, Period>& timeout, Predicate ready) {
  const auto deadline = detail::deadline_after(timeout);
  while (!ready())
    if (wait_until(lock, deadline) == lock_result::timed_out) return ready();
  return true;
}

}  // namespace tandem

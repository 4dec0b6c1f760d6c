// shared.hpp — tandem::shared<T>, one value that threads and worker
// processes read and update together (Python's multiprocessing.Value).
//
//   tandem::shared<long> hits(rt, 0);
//   const auto count = tandem::define_task<void(tandem::shared<long>)>(
//       "count", tandem::cpu, [](tandem::shared<long> hits) {
//         hits.with_lock([](long& n) { ++n; });       // or: hits.fetch_add(1)
//       });
//   for (int i = 0; i < 4; ++i) done.push_back(rt.submit(count, hits));
//   ... // after the futures: hits.load() == 4
//
// T must be trivially copyable (it is copied byte for byte into shared
// memory; a type that owns heap memory does not compile). When
// std::atomic_ref<T> is lock-free (integers, floating point, pointers-free
// structs of up to 8 or 16 bytes), load/store/exchange/compare_exchange and
// fetch_add/fetch_sub are single atomic instructions; otherwise they take
// the value's lock. with_lock(fn) runs fn on the value under a robust lock
// (process_mutex's), for updates that read and write several fields. Do
// not mix with_lock() writes with the atomic members on one value: the
// atomic members do not take the lock when they need not.
//
// Creation, lifetime and handles are as for sync.hpp's objects.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "tandem/detail/shared_object.hpp"
#include "tandem/sync.hpp"

namespace tandem {

template <class T>
class shared {
  static_assert(std::is_trivially_copyable_v<T> && !std::is_pointer_v<T>,
                "tandem::shared<T> needs a trivially copyable, non-pointer T: the value lives in "
                "memory shared by processes, where a pointer into one process's heap means "
                "nothing");
  static constexpr bool lock_free = std::atomic_ref<T>::is_always_lock_free;
  static constexpr bool arithmetic = std::is_arithmetic_v<T> && !std::is_same_v<T, bool>;

 public:
  static constexpr detail::object_kind object_kind_v = detail::object_kind::shared_value;
  static constexpr std::uint32_t object_tag_v = sizeof(T);

  // shared() places `initial` in rt's object space; throws tandem::error
  // when that space is full.
  explicit shared(runtime& rt, const T& initial = T{})
      : handle_(rt, object_kind_v, object_tag_v, sizeof(body_type)) {
    detail::init_robust_mutex(body().mutex);
    std::memcpy(&body().value, &initial, sizeof(T));
  }

  T load() const {
    if constexpr (lock_free)
      return value_ref().load(std::memory_order_acquire);
    else
      return locked([](T& value) { return value; });
  }
  void store(const T& desired) {
    if constexpr (lock_free)
      value_ref().store(desired, std::memory_order_release);
    else
      locked([&](T& value) { value = desired; });
  }
  T exchange(const T& desired) {
    if constexpr (lock_free)
      return value_ref().exchange(desired, std::memory_order_acq_rel);
    else
      return locked([&](T& value) { return std::exchange(value, desired); });
  }
  // compare_exchange() stores `desired` if the value equals `expected`
  // (byte for byte); otherwise it loads the value into `expected`.
  bool compare_exchange(T& expected, const T& desired) {
    if constexpr (lock_free)
      return value_ref().compare_exchange_strong(expected, desired, std::memory_order_acq_rel);
    else
      return locked([&](T& value) {
        if (std::memcmp(&value, &expected, sizeof(T)) != 0) return (expected = value, false);
        return (value = desired, true);
      });
  }
  // fetch_add() and fetch_sub() return the value before the update.
  T fetch_add(T delta) requires arithmetic {
    if constexpr (lock_free)
      return value_ref().fetch_add(delta, std::memory_order_acq_rel);
    else
      return locked([&](T& value) { return std::exchange(value, value + delta); });
  }
  T fetch_sub(T delta) requires arithmetic {
    if constexpr (lock_free)
      return value_ref().fetch_sub(delta, std::memory_order_acq_rel);
    else
      return locked([&](T& value) { return std::exchange(value, value - delta); });
  }

  // with_lock(fn) calls fn(value) — or fn(value, how) for an fn that takes
  // a lock_result too, to learn that a previous holder died mid-update —
  // under the value's robust lock, and returns what fn returns.
  template <class Fn>
  decltype(auto) with_lock(Fn&& fn) {
    return locked(std::forward<Fn>(fn));
  }

 private:
  friend struct detail::handle_access;
  explicit shared(detail::object_handle handle) noexcept : handle_(std::move(handle)) {}

  struct body_type {
    pthread_mutex_t mutex;
    alignas(std::atomic_ref<T>::required_alignment) T value;
  };
  static_assert(alignof(body_type) <= 64, "tandem::shared<T>: T may be aligned to at most 64");

  body_type& body() const noexcept { return *static_cast<body_type*>(handle_.body()); }
  std::atomic_ref<T> value_ref() const noexcept { return std::atomic_ref<T>(body().value); }

  template <class Fn>
  decltype(auto) locked(Fn&& fn) const {
    const lock_result how =
        detail::lock_robust_mutex(body().mutex, std::chrono::steady_clock::time_point::max());
    struct unlock_at_exit {
      pthread_mutex_t& mutex;
      ~unlock_at_exit() { detail::unlock_robust_mutex(mutex); }
    } unlock{body().mutex};
    if constexpr (std::is_invocable_v<Fn&, T&, lock_result>)
      return fn(body().value, how);
    else
      return fn(body().value);
  }

  detail::object_handle handle_;
};

}  // namespace tandem

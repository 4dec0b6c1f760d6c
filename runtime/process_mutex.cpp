#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <string>

#include "runtime/cpu_relax.hpp"
#include "tandem/errors.hpp"
#include "tandem/sync.hpp"

namespace tandem {
namespace detail {
namespace {

// A holder usually lets go within a few hundred nanoseconds. A locker that
// finds it held backs off, doubling its pause up to max_backoff: under
// contention the holder then takes it again while its cache line is still
// its own, instead of losing the line to every waiter's failed try
// (bench/primitives' counter_locked, 4 workers on 2 cores: about 6-7
// million increments/s with one pause between tries, 15-17 million with
// this backoff). The lock is not fair under contention, which the kernel's
// queue is not either. Past spin_time (a few of the longest backoffs), or
// the caller's deadline, the kernel queues us: 5 µs and 20 µs measured the
// same, so the shorter, which burns less of a core a preempted holder needs.
constexpr unsigned max_backoff = 64;
constexpr auto spin_time = std::chrono::microseconds(5);

[[noreturn]] void fail(const char* what, int rc) {
  throw error(std::string("tandem::process_mutex: ") + what + ": " + std::strerror(rc));
}

lock_result settle(pthread_mutex_t& mutex, int rc) {
  switch (rc) {
    case 0:
      return lock_result::acquired;
    case EOWNERDEAD:
      // The lock is ours; marking it consistent keeps it usable for
      // everyone after us (else it would turn unrecoverable at unlock).
      pthread_mutex_consistent(&mutex);
      return lock_result::owner_died;
    case ETIMEDOUT:
      return lock_result::timed_out;
    case EDEADLK:
      throw error("tandem::process_mutex: this thread already holds it");
    default:
      fail("lock failed", rc);
  }
}

// try_with_backoff() is pthread_mutex_trylock()'s answer once it is not
// EBUSY, or EBUSY when the spin ran out.
int try_with_backoff(pthread_mutex_t& mutex, std::chrono::steady_clock::time_point deadline) {
  int rc = pthread_mutex_trylock(&mutex);
  if (rc != EBUSY) return rc;
  const auto give_up = std::min(deadline, std::chrono::steady_clock::now() + spin_time);
  for (unsigned pauses = 1; rc == EBUSY; pauses = std::min(pauses * 2, max_backoff)) {
    if (std::chrono::steady_clock::now() >= give_up) break;
    for (unsigned i = 0; i < pauses; ++i) cpu_relax();
    rc = pthread_mutex_trylock(&mutex);
  }
  return rc;
}

timespec to_timespec(std::chrono::steady_clock::time_point when) {
  const auto since = when.time_since_epoch();
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since);
  return {static_cast<time_t>(seconds.count()),
          static_cast<long>(std::chrono::nanoseconds(since - seconds).count())};
}

}  // namespace

void init_robust_mutex(pthread_mutex_t& mutex) {
  pthread_mutexattr_t attributes;
  pthread_mutexattr_init(&attributes);
  pthread_mutexattr_setpshared(&attributes, PTHREAD_PROCESS_SHARED);
  pthread_mutexattr_setrobust(&attributes, PTHREAD_MUTEX_ROBUST);
  pthread_mutexattr_settype(&attributes, PTHREAD_MUTEX_ERRORCHECK);
  const int rc = pthread_mutex_init(&mutex, &attributes);
  pthread_mutexattr_destroy(&attributes);
  if (rc != 0) fail("cannot initialize", rc);
}

lock_result lock_robust_mutex(pthread_mutex_t& mutex,
                              std::chrono::steady_clock::time_point deadline) {
  if (const int rc = try_with_backoff(mutex, deadline); rc != EBUSY) return settle(mutex, rc);
  if (deadline == std::chrono::steady_clock::time_point::max())
    return settle(mutex, pthread_mutex_lock(&mutex));
  const timespec until = to_timespec(deadline);
  return settle(mutex, pthread_mutex_clocklock(&mutex, CLOCK_MONOTONIC, &until));
}

void unlock_robust_mutex(pthread_mutex_t& mutex) {
  const int rc = pthread_mutex_unlock(&mutex);
  if (rc == EPERM) throw error("tandem::process_mutex::unlock(): this thread does not hold it");
  if (rc != 0) fail("unlock failed", rc);
}

}  // namespace detail

process_mutex::process_mutex(runtime& rt)
    : handle_(rt, object_kind_v, object_tag_v, sizeof(pthread_mutex_t)) {
  detail::init_robust_mutex(*native());
}

pthread_mutex_t* process_mutex::native() const noexcept {
  return static_cast<pthread_mutex_t*>(handle_.body());
}

lock_result process_mutex::lock() {
  return detail::lock_robust_mutex(*native(), std::chrono::steady_clock::time_point::max());
}

bool process_mutex::try_lock() {
  const int rc = pthread_mutex_trylock(native());
  return rc != EBUSY && detail::settle(*native(), rc) != lock_result::timed_out;
}

lock_result process_mutex::try_lock_until(std::chrono::steady_clock::time_point deadline) {
  return detail::lock_robust_mutex(*native(), deadline);
}

void process_mutex::unlock() { detail::unlock_robust_mutex(*native()); }

}  // namespace tandem

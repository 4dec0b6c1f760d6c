#include <atomic>
#include <climits>

#include "runtime/shared_wait.hpp"
#include "tandem/sync.hpp"

namespace tandem {
namespace {

// A notify bumps the sequence, so a waiter that read it before unlocking
// sees a change and cannot miss a notify sent in between.
struct condition_body {
  std::atomic<std::uint32_t> sequence;
};

condition_body& body(const detail::object_handle& handle) {
  return *static_cast<condition_body*>(handle.body());
}

lock_result relock(std::unique_lock<process_mutex>& lock, process_mutex& mutex) {
  const lock_result how = mutex.lock();
  lock = std::unique_lock(mutex, std::adopt_lock);
  return how;
}

}  // namespace

condition::condition(runtime& rt)
    : handle_(rt, object_kind_v, object_tag_v, sizeof(condition_body)) {}

lock_result condition::wait(std::unique_lock<process_mutex>& lock) {
  return wait_until(lock, detail::no_deadline);
}

lock_result condition::wait_until(std::unique_lock<process_mutex>& lock,
                                  std::chrono::steady_clock::time_point deadline) {
  if (!lock.owns_lock()) throw error("tandem::condition::wait(): the lock passed in is not held");
  auto& sequence = body(handle_).sequence;
  const std::uint32_t seen = sequence.load(std::memory_order_acquire);
  process_mutex& mutex = *lock.release();
  mutex.unlock();
  const bool notified = detail::wait_for_change(sequence, seen, deadline);
  const lock_result how = relock(lock, mutex);
  return notified || how == lock_result::owner_died ? how : lock_result::timed_out;
}

void condition::notify_one() noexcept {
  body(handle_).sequence.fetch_add(1, std::memory_order_release);
  detail::wake_waiters(body(handle_).sequence, 1);
}

void condition::notify_all() noexcept {
  body(handle_).sequence.fetch_add(1, std::memory_order_release);
  detail::wake_waiters(body(handle_).sequence, INT_MAX);
}

}  // namespace tandem

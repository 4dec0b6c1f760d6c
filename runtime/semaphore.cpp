#include <atomic>
#include <limits>

#include "runtime/shared_wait.hpp"
#include "tandem/errors.hpp"
#include "tandem/sync.hpp"

namespace tandem {
namespace {

// release() adds permits, then reads `waiters` (see sleep_while_zero()).
struct semaphore_body {
  std::atomic<std::uint32_t> permits;
  std::atomic<std::uint32_t> waiters;
};

semaphore_body& body(const detail::object_handle& handle) {
  return *static_cast<semaphore_body*>(handle.body());
}

bool take_one(std::atomic<std::uint32_t>& permits) noexcept {
  std::uint32_t now = permits.load(std::memory_order_relaxed);
  while (now > 0)
    if (permits.compare_exchange_weak(now, now - 1, std::memory_order_acquire)) return true;
  return false;
}

}  // namespace

semaphore::semaphore(runtime& rt, std::uint32_t initial)
    : handle_(rt, object_kind_v, object_tag_v, sizeof(semaphore_body)) {
  body(handle_).permits.store(initial, std::memory_order_release);
}

void semaphore::acquire() { acquire_until(detail::no_deadline); }

bool semaphore::try_acquire() { return take_one(body(handle_).permits); }

bool semaphore::acquire_until(std::chrono::steady_clock::time_point deadline) {
  auto& state = body(handle_);
  while (!take_one(state.permits))
    if (!detail::sleep_while_zero(state.permits, state.waiters, deadline))
      return take_one(state.permits);
  return true;
}

void semaphore::release(std::uint32_t count) {
  auto& state = body(handle_);
  std::uint32_t now = state.permits.load(std::memory_order_relaxed);
  do {
    if (count > std::numeric_limits<std::uint32_t>::max() - now)
      throw error("tandem::semaphore::release(): the count would pass 2^32 - 1");
  } while (!state.permits.compare_exchange_weak(now, now + count, std::memory_order_seq_cst));
  if (state.waiters.load(std::memory_order_seq_cst) != 0)
    detail::wake_waiters(state.permits,
                         static_cast<int>(std::min<std::uint32_t>(count, INT32_MAX)));
}

std::uint32_t semaphore::available() const noexcept {
  return body(handle_).permits.load(std::memory_order_relaxed);
}

}  // namespace tandem

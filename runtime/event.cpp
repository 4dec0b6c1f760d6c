#include <atomic>
#include <climits>

#include "runtime/shared_wait.hpp"
#include "tandem/sync.hpp"

namespace tandem {
namespace {

// set() raises, then reads `waiters` (see sleep_while_zero()).
struct event_body {
  std::atomic<std::uint32_t> raised;
  std::atomic<std::uint32_t> waiters;
};

event_body& body(const detail::object_handle& handle) {
  return *static_cast<event_body*>(handle.body());
}

}  // namespace

event::event(runtime& rt) : handle_(rt, object_kind_v, object_tag_v, sizeof(event_body)) {}

void event::set() noexcept {
  auto& state = body(handle_);
  state.raised.store(1, std::memory_order_seq_cst);
  if (state.waiters.load(std::memory_order_seq_cst) != 0)
    detail::wake_waiters(state.raised, INT_MAX);
}

void event::clear() noexcept { body(handle_).raised.store(0, std::memory_order_seq_cst); }

bool event::is_set() const noexcept {
  return body(handle_).raised.load(std::memory_order_acquire) != 0;
}

void event::wait() const { wait_until(detail::no_deadline); }

bool event::wait_for(std::chrono::nanoseconds timeout) const {
  return wait_until(detail::deadline_after(timeout));
}

bool event::wait_until(std::chrono::steady_clock::time_point deadline) const {
  auto& state = body(handle_);
  while (!is_set())
    if (!detail::sleep_while_zero(state.raised, state.waiters, deadline)) return is_set();
  return true;
}

}  // namespace tandem

// state.cpp — publishing and waiting for a future's shared state.
#include <limits>
#include <thread>

#include "ipc/futex.hpp"
#include "runtime/cpu_relax.hpp"
#include "runtime/io_lane.hpp"
#include "runtime/thread_role.hpp"
#include "runtime/wait_backoff.hpp"
#include "tandem/detail/deadline.hpp"
#include "tandem/detail/state.hpp"

namespace tandem::detail {

void state_base::publish() noexcept {
  if (ready_.exchange(ready, std::memory_order_acq_rel) == pending_with_sleepers)
    ipc::futex_wake(ready_, std::numeric_limits<int>::max(), ipc::futex_scope::process_private);
  callback_node* list = callbacks_.exchange(closed(), std::memory_order_acq_rel);
  // The stack holds the newest first: reverse it so callbacks fire in the
  // order they were attached.
  callback_node* ordered = nullptr;
  while (list) {
    callback_node* next = list->next_callback;
    list->next_callback = ordered;
    ordered = list;
    list = next;
  }
  while (ordered) {
    callback_node* next = ordered->next_callback;  // on_ready() may free the node
    ordered->on_ready();
    ordered = next;
  }
}

bool state_base::try_attach(callback_node* node) noexcept {
  callback_node* head = callbacks_.load(std::memory_order_acquire);
  do {
    if (head == closed()) return false;
    node->next_callback = head;
  } while (!callbacks_.compare_exchange_weak(head, node, std::memory_order_release,
                                             std::memory_order_acquire));
  return true;
}

namespace {

using clock = std::chrono::steady_clock;

// How many passes of the cpu lane a waiter runs before it waits the usual
// way: a short task's round trip is a few passes; a long one's waiter should
// not hold a core.
constexpr unsigned help_passes = 2000;
// How long the waiter spins on passes that found nothing before it yields
// the core between them: about the rest of a round trip to a worker that is
// awake on another core. Counted in time, not in pauses, whose cost differs
// threefold between the machines we measured. On a small machine the
// worker it waits for is often woken onto the waiter's own core, and then
// each microsecond spun is a microsecond the worker waits: on 2 vCPUs, 64
// spinning passes (15-46 us) made bench/cpu_lane's C1_hot p50 18-26 us and
// C1_parked 45 us in that placement, against 1.8-4.2 us and 25-29 us now.
constexpr auto spin_time = std::chrono::microseconds(1);

// help_while_spinning() lends the waiting thread to the lane that will
// resolve `s` for a short while (cpu tasks only: state_base::help_lane()).
void help_while_spinning(state_base& s, clock::time_point deadline) {
  if (!s.help_lane(help_step::begin)) return;
  clock::time_point spin_end{};
  for (unsigned i = 0; i < help_passes && !s.is_ready(); ++i) {
    if (s.help_lane(help_step::pass)) continue;
    const auto now = clock::now();
    if (now >= deadline) break;
    if (spin_end == clock::time_point{}) spin_end = now + spin_time;
    if (now < spin_end)
      cpu_relax();
    else
      std::this_thread::yield();
  }
  s.help_lane(help_step::end);
}

// wait_until() waits for `s` until `deadline`, which is no deadline for
// wait() (not `bounded`). An io worker runs other tasks while it waits in
// wait(); in a bounded wait it does not, since a task it ran could outlast
// the wait, however long (a huge timeout saturates to time_point::max()).
bool wait_until(state_base& s, clock::time_point deadline, bool bounded) {
  if (io_worker* self = current_thread_role().worker; self && !bounded) {
    self->lane().help_until_ready(*self, s);
    return true;
  }
  help_while_spinning(s, deadline);
  wait_backoff backoff;
  while (!s.is_ready()) {
    if (deadline == clock::time_point::max()) {
      backoff.pause_or_sleep(s, std::chrono::nanoseconds(-1));
      continue;
    }
    const auto left = deadline - clock::now();
    if (left <= clock::duration::zero()) return false;
    backoff.pause_or_sleep(s, left);
  }
  return true;
}

}  // namespace

void wait_ready(state_base& s) { wait_until(s, clock::time_point::max(), false); }

bool wait_ready_for(state_base& s, std::int64_t timeout_ns) {
  return wait_until(s, deadline_after(std::chrono::nanoseconds(timeout_ns)), true);
}

}  // namespace tandem::detail

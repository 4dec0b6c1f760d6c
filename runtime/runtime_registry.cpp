#include "runtime/runtime_registry.hpp"

#include <algorithm>
#include <mutex>
#include <utility>
#include <vector>

#include "runtime/scheduler.hpp"

namespace tandem::detail {

namespace {

struct registry {
  std::mutex mutex;  // guards live and last_id
  std::vector<std::pair<std::uint32_t, scheduler*>> live;
  std::uint32_t last_id = 0;
};

registry& the_registry() {
  static registry instance;
  return instance;
}

}  // namespace

std::uint32_t register_runtime(scheduler& sched) {
  auto& r = the_registry();
  std::lock_guard lock(r.mutex);
  r.live.emplace_back(++r.last_id, &sched);
  return r.last_id;
}

void unregister_runtime(std::uint32_t id) {
  auto& r = the_registry();
  std::lock_guard lock(r.mutex);
  std::erase_if(r.live, [id](const auto& entry) { return entry.first == id; });
}

// with_registered() runs fn(scheduler&) under the lock, which keeps the
// scheduler alive meanwhile; false when `id` is not registered.
template <class Fn>
bool with_registered(std::uint32_t id, Fn&& fn) {
  auto& r = the_registry();
  std::lock_guard lock(r.mutex);
  const auto it = std::find_if(r.live.begin(), r.live.end(),
                               [id](const auto& entry) { return entry.first == id; });
  if (it == r.live.end()) return false;
  fn(*it->second);
  return true;
}

bool is_registered(std::uint32_t id) noexcept {
  return with_registered(id, [](scheduler&) {});
}

bool submit_to_registered(std::uint32_t id, task_node* task) noexcept {
  // The submission cannot re-enter the registry: a registered scheduler is
  // still running and therefore queues the task instead of abandoning it.
  return with_registered(id, [task](scheduler& sched) { sched.submit(lane_kind::io, task); });
}

void wake_registered_cpu_lane(std::uint32_t id) noexcept {
  with_registered(id, [](scheduler& sched) { sched.cpu().wake(); });
}

bool help_registered_cpu_lane(std::uint32_t id, help_step step) noexcept {
  scheduler* pinned = nullptr;
  with_registered(id, [&](scheduler& sched) {
    sched.pin();
    pinned = &sched;
  });
  if (pinned == nullptr) return false;
  const bool helped = pinned->cpu().help(step);
  pinned->unpin();
  return helped;
}

bool withdraw_registered_cpu_job(std::uint32_t id, cpu_job& job) noexcept {
  bool withdrawn = false;
  with_registered(id, [&](scheduler& sched) { withdrawn = sched.cpu().withdraw(job); });
  return withdrawn;
}

}  // namespace tandem::detail

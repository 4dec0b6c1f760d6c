#include "runtime/idle_set.hpp"

#include <algorithm>
#include <iterator>

#include "runtime/full_fence.hpp"

namespace tandem::detail {

idle_set::idle_set(unsigned workers)
    : workers_(workers), state_(std::uint64_t{workers} * one_awake), parkers_(new parker[workers]) {
  sleepers_.reserve(workers);
}

bool idle_set::try_begin_search() noexcept {
  const auto state = state_.load(std::memory_order_seq_cst);
  const auto searching = state & 0xffffffffu;
  if (workers_ > 1 && 2 * searching >= workers_) return false;
  state_.fetch_add(one_searching, std::memory_order_seq_cst);
  return true;
}

bool idle_set::end_search() noexcept {
  return (state_.fetch_sub(one_searching, std::memory_order_seq_cst) & 0xffffffffu) == 1;
}

unsigned idle_set::notify_one(unsigned poller) noexcept {
  full_fence();  // the queued work is visible before we read state_
  if (!should_wake(state_.load(std::memory_order_seq_cst))) return none;
  unsigned woken;
  {
    std::lock_guard lock(sleepers_mutex_);
    if (sleepers_.empty() || !should_wake(state_.load(std::memory_order_seq_cst))) return none;
    woken = take_locked(poller);
    if (woken == none) woken = take_locked(none);  // the poller was the only sleeper
  }
  parkers_[woken].unpark();
  return woken;
}

unsigned idle_set::take_sleeper(unsigned poller) noexcept {
  std::lock_guard lock(sleepers_mutex_);
  return take_locked(poller);
}

// take_locked() takes the latest sleeper other than `avoid` out, counted
// awake and searching; `none` if there is none. sleepers_mutex_ is held.
unsigned idle_set::take_locked(unsigned avoid) noexcept {
  const auto chosen = std::find_if(sleepers_.rbegin(), sleepers_.rend(),
                                   [avoid](unsigned index) { return index != avoid; });
  if (chosen == sleepers_.rend()) return none;
  state_.fetch_add(one_searching + one_awake, std::memory_order_seq_cst);
  const unsigned taken = *chosen;
  sleepers_.erase(std::next(chosen).base());
  return taken;
}

void idle_set::cancel_park(unsigned index) noexcept {
  {
    std::lock_guard lock(sleepers_mutex_);
    const auto found = std::find(sleepers_.begin(), sleepers_.end(), index);
    if (found != sleepers_.end()) {
      sleepers_.erase(found);
      state_.fetch_add(one_searching + one_awake, std::memory_order_seq_cst);
      return;
    }
  }
  parkers_[index].park();
}

bool idle_set::announce_park(unsigned index, bool was_searching) {
  std::lock_guard lock(sleepers_mutex_);
  const auto delta = one_awake + (was_searching ? one_searching : 0);
  const auto before = state_.fetch_sub(delta, std::memory_order_seq_cst);
  sleepers_.push_back(index);
  return was_searching && (before & 0xffffffffu) == 1;
}

void idle_set::wake_all() {
  std::vector<unsigned> woken;
  {
    std::lock_guard lock(sleepers_mutex_);
    woken.swap(sleepers_);
    state_.fetch_add(woken.size() * one_awake, std::memory_order_seq_cst);
  }
  for (unsigned index : woken) parkers_[index].unpark();
}

}  // namespace tandem::detail

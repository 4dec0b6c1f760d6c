#include "runtime/process_table.hpp"

#include "runtime/process_runner.hpp"

#include <memory>
#include <vector>

namespace tandem::detail {

void process_table::enlist(process_runner& runner) {
  std::lock_guard lock(runners_mutex_);
  runners_.insert(&runner);
  if (stopping_) runner.stop(stop_reason::shutdown);
}

void process_table::delist(process_runner& runner) noexcept {
  std::lock_guard lock(runners_mutex_);
  runners_.erase(&runner);
}

void process_table::stop_all() {
  std::vector<std::shared_ptr<process_runner>> listed;
  {
    std::lock_guard lock(runners_mutex_);
    listed.reserve(runners_.size());  // may throw: before anything changed
    stopping_ = true;
    // A runner nobody owns any more is in its destructor, waiting for this
    // lock to delist itself; its child is being reaped already.
    for (process_runner* runner : runners_)
      if (auto owned = runner->weak_from_this().lock()) listed.push_back(std::move(owned));
  }
  // Stopped with the lock released, each reference handed to the runner's
  // strand: holding one here could make this thread the runner's last
  // owner, whose destructor takes the lock to delist it (and resolves the
  // future on the caller's thread).
  for (auto& runner : listed) process_runner::stop(std::move(runner), stop_reason::shutdown);
}

}  // namespace tandem::detail

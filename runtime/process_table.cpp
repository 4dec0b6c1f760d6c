#include "runtime/process_table.hpp"

#include "runtime/process_runner.hpp"

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
  std::lock_guard lock(runners_mutex_);
  stopping_ = true;
  for (process_runner* runner : runners_) {
    // A runner nobody owns any more is in its destructor, waiting for this
    // lock to delist itself; its child is being reaped already.
    if (auto owned = runner->weak_from_this().lock()) owned->stop(stop_reason::shutdown);
  }
}

}  // namespace tandem::detail

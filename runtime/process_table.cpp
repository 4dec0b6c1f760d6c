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
    stopping_ = true;
    // A runner nobody owns any more is in its destructor, waiting for this
    // lock to delist itself; its child is being reaped already.
    for (process_runner* runner : runners_)
      if (auto owned = runner->weak_from_this().lock()) listed.push_back(std::move(owned));
  }
  // Stopped and let go with the lock released: once its child is killed and
  // reaped, the last owner of a runner may be `listed`, and the runner's
  // destructor takes the lock to delist itself.
  for (auto& runner : listed) runner->stop(stop_reason::shutdown);
}

}  // namespace tandem::detail

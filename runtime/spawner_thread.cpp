#include "runtime/spawner_thread.hpp"

#include <utility>

namespace tandem::detail {

ipc::exec_result spawner_thread::start(const ipc::exec_request& request) {
  const std::lock_guard one_at_a_time(callers_);
  std::unique_lock lock(mutex_);
  if (!thread_.joinable()) thread_ = std::thread(&spawner_thread::serve, this);
  request_ = &request;
  changed_.notify_all();
  changed_.wait(lock, [&] { return result_.has_value(); });
  request_ = nullptr;
  return *std::exchange(result_, std::nullopt);
}

void spawner_thread::stop() noexcept {
  {
    const std::lock_guard lock(mutex_);
    if (!thread_.joinable()) return;
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
  stopping_ = false;  // a later start() starts a new thread
}

// serve() runs each request while holding the lock: its caller waits for
// the result anyway, and vfork_exec() returns as soon as the child exec'd.
void spawner_thread::serve() {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [&] { return stopping_ || (request_ && !result_); });
    if (stopping_) return;
    result_ = ipc::vfork_exec(*request_);
    changed_.notify_all();
  }
}

}  // namespace tandem::detail

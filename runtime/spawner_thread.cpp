#include "runtime/spawner_thread.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <system_error>

#include "tandem/errors.hpp"
#include <utility>

namespace tandem::detail {

namespace {

[[noreturn]] void cannot_read(const char* call) {
  throw error(std::string("run_process: cannot read the scheduling of the calling thread (") +
              call + "): " + std::generic_category().message(errno));
}

// is_real_time() counts SCHED_DEADLINE in, as SCHED_RESET_ON_FORK does.
bool is_real_time(int policy) noexcept {
  return policy == SCHED_FIFO || policy == SCHED_RR || policy == SCHED_DEADLINE;
}

// reset_as_fork_does() is what the kernel does to a child of a thread
// that has SCHED_RESET_ON_FORK, which the child does not keep.
void reset_as_fork_does(ipc::exec_scheduling& scheduling) noexcept {
  scheduling.policy &= ~SCHED_RESET_ON_FORK;
  if (is_real_time(scheduling.policy)) {
    scheduling.policy = SCHED_OTHER;
    scheduling.parameters.sched_priority = 0;
    scheduling.nice = 0;
  } else {
    scheduling.nice = std::max(scheduling.nice, 0);
  }
}

// calling_thread_scheduling() is the scheduling that fork() would give a
// child of the calling thread: its own, but under SCHED_RESET_ON_FORK no
// real-time policy and no negative nice value (sched(7)). Linux keeps
// these per thread; 0 names the calling thread to each call.
ipc::exec_scheduling calling_thread_scheduling() {
  ipc::exec_scheduling scheduling{};
  // A mask wider than cpu_set_t's 1024 CPUs cannot be read into it
  // (EINVAL): the child then keeps the spawner thread's.
  scheduling.has_affinity =
      sched_getaffinity(0, sizeof scheduling.affinity, &scheduling.affinity) == 0;
  if (!scheduling.has_affinity && errno != EINVAL) cannot_read("sched_getaffinity");
  scheduling.policy = sched_getscheduler(0);
  if (scheduling.policy < 0) cannot_read("sched_getscheduler");
  if (sched_getparam(0, &scheduling.parameters) != 0) cannot_read("sched_getparam");
  errno = 0;  // -1 is also a nice value
  scheduling.nice = getpriority(PRIO_PROCESS, 0);
  if (errno != 0) cannot_read("getpriority");
  if (scheduling.policy & SCHED_RESET_ON_FORK) reset_as_fork_does(scheduling);
  return scheduling;
}

}  // namespace

ipc::exec_result spawner_thread::start(const ipc::exec_request& request) {
  ipc::exec_scheduling callers_scheduling{};
  ipc::exec_request scheduled = request;
  if (!scheduled.scheduling) {
    callers_scheduling = calling_thread_scheduling();
    scheduled.scheduling = &callers_scheduling;
  }
  const std::lock_guard one_at_a_time(callers_);
  std::unique_lock lock(mutex_);
  if (!thread_.joinable()) thread_ = std::thread(&spawner_thread::serve, this);
  request_ = &scheduled;
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

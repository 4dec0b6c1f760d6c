#include "runtime/thread_scheduling.hpp"

#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <thread>

namespace tandem::detail {

namespace {

// sched_attr as the kernel's uapi defines it (SCHED_ATTR_SIZE_VER0):
// glibc 2.36 declares neither it nor the system calls.
struct sched_attr {
  std::uint32_t size;
  std::uint32_t sched_policy;
  std::uint64_t sched_flags;
  std::int32_t sched_nice;
  std::uint32_t sched_priority;
  std::uint64_t sched_runtime;
  std::uint64_t sched_deadline;
  std::uint64_t sched_period;
};

constexpr std::uint64_t reset_on_fork_flag = 0x01;  // SCHED_FLAG_RESET_ON_FORK

bool read_attr(sched_attr& attr, pid_t thread = 0) noexcept {
  attr = sched_attr{};
  return syscall(SYS_sched_getattr, thread, &attr, sizeof attr, 0) == 0;
}

}  // namespace

bool request_slice(std::chrono::nanoseconds slice) noexcept {
  sched_attr attr;
  if (slice <= std::chrono::nanoseconds::zero() || !read_attr(attr) ||
      attr.sched_policy != SCHED_OTHER)
    return false;
  attr.size = sizeof attr;
  // Reset on fork gives what this thread starts the default slice again,
  // but it would also reset a negative nice there, which stays the host's.
  attr.sched_flags =
      attr.sched_nice >= 0 ? reset_on_fork_flag : attr.sched_flags & reset_on_fork_flag;
  attr.sched_runtime = static_cast<std::uint64_t>(slice.count());
  if (syscall(SYS_sched_setattr, 0, &attr, 0) != 0) return false;
  return current_slice() == slice;
}

bool request_realtime(int priority) noexcept {
  if (priority <= 0) return false;
  sched_attr attr{};
  attr.size = sizeof attr;
  attr.sched_policy = SCHED_RR;
  attr.sched_flags = reset_on_fork_flag;
  attr.sched_priority = static_cast<std::uint32_t>(priority);
  return syscall(SYS_sched_setattr, 0, &attr, 0) == 0;
}

int realtime_refusal(int priority) {
  int refusal = 0;
  std::thread([&] { refusal = request_realtime(priority) ? 0 : errno; }).join();
  return refusal;
}

void take_scheduling(const thread_scheduling& wanted) noexcept {
  if (!request_realtime(wanted.realtime_priority)) request_slice(wanted.slice);
}

std::chrono::nanoseconds current_slice(pid_t thread) noexcept {
  sched_attr attr;
  if (!read_attr(attr, thread) || attr.sched_policy != SCHED_OTHER)
    return std::chrono::nanoseconds::zero();
  return std::chrono::nanoseconds(attr.sched_runtime);
}

}  // namespace tandem::detail

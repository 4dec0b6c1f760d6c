#include "ipc/futex.hpp"

#include <cerrno>
#include <climits>
#include <ctime>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t),
              "the kernel reads the futex word through the atomic's address");

namespace tandem::ipc {
namespace {

int operation(int op, futex_scope scope) {
  return scope == futex_scope::process_private ? (op | FUTEX_PRIVATE_FLAG) : op;
}

std::uint32_t* address(const std::atomic<std::uint32_t>& word) {
  return const_cast<std::uint32_t*>(reinterpret_cast<const std::uint32_t*>(&word));
}

timespec to_timespec(std::chrono::nanoseconds timeout) {
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(timeout);
  return timespec{static_cast<time_t>(seconds.count()),
                  static_cast<long>((timeout - seconds).count())};
}

}  // namespace

int futex_wait(const std::atomic<std::uint32_t>& word, std::uint32_t expected, futex_scope scope,
               std::chrono::nanoseconds timeout) noexcept {
  const timespec relative = to_timespec(timeout);
  const timespec* limit = timeout.count() < 0 ? nullptr : &relative;
  const long rc =
      syscall(SYS_futex, address(word), operation(FUTEX_WAIT, scope), expected, limit, nullptr, 0);
  return rc == 0 ? 0 : -errno;
}

int futex_wake(const std::atomic<std::uint32_t>& word, int count, futex_scope scope) noexcept {
  const long rc =
      syscall(SYS_futex, address(word), operation(FUTEX_WAKE, scope), count, nullptr, nullptr, 0);
  return rc >= 0 ? static_cast<int>(rc) : -errno;
}

}  // namespace tandem::ipc

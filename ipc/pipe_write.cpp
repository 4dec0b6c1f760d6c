#include "ipc/pipe_write.hpp"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

namespace tandem::ipc {
namespace {

sigset_t only_sigpipe() noexcept {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  return set;
}

bool sigpipe_pending() noexcept {
  sigset_t pending;
  sigemptyset(&pending);
  return sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
}

// consume_sigpipe() takes back the thread-directed SIGPIPE a failed write
// just raised (it is blocked, so it is pending and nothing else saw it).
void consume_sigpipe(const sigset_t& set) noexcept {
  const timespec no_wait{0, 0};
  while (sigtimedwait(&set, nullptr, &no_wait) < 0 && errno == EINTR) {
  }
}

}  // namespace

ssize_t write_without_sigpipe(int fd, const void* data, std::size_t size) noexcept {
  const sigset_t set = only_sigpipe();
  const bool was_pending = sigpipe_pending();
  sigset_t old_mask;
  pthread_sigmask(SIG_BLOCK, &set, &old_mask);
  ssize_t written = 0;
  do written = ::write(fd, data, size);
  while (written < 0 && errno == EINTR);
  const int failure = written < 0 ? errno : 0;
  if (failure == EPIPE && !was_pending) consume_sigpipe(set);
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  return failure ? -failure : written;
}

}  // namespace tandem::ipc

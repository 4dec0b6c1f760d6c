// pidfd.hpp — the one place tandem calls pidfd_open and waits on a pidfd.
//
// A pidfd names one process for good: unlike a pid it cannot be recycled
// under us, it can be polled (readable once the process has exited) beside
// other descriptors, and waitid(P_PIDFD) reaps exactly that child.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>

namespace tandem::ipc {

// exit_status says how a child ended: by a signal (signaled, number) or by
// exiting (code).
struct exit_status {
  bool signaled = false;
  int number = 0;  // the signal when signaled, else the exit code
};

// describe() says how a process ended, for messages: "exited with status
// 3", "was killed by signal 9 (Killed)".
std::string describe(const exit_status& status);

// pidfd owns a descriptor for one process (close-on-exec). Move-only; one
// owner. Construction throws ipc_error (e.g. ESRCH: no such process).
class pidfd {
 public:
  explicit pidfd(pid_t pid);
  // An empty pidfd names no process (fd() is -1).
  pidfd() noexcept = default;
  // adopt() takes ownership of a pidfd another process opened and passed
  // over a socket (SCM_RIGHTS).
  static pidfd adopt(int fd, pid_t pid) noexcept;
  pidfd(pidfd&& other) noexcept;
  pidfd& operator=(pidfd&& other) noexcept;
  pidfd(const pidfd&) = delete;
  pidfd& operator=(const pidfd&) = delete;
  ~pidfd();

  int fd() const noexcept { return fd_; }
  pid_t pid() const noexcept { return pid_; }

  // exited() polls the descriptor: true once the process has ended (it may
  // still need reaping), false if it still runs after `timeout`.
  bool exited(std::chrono::milliseconds timeout) const;

  // send_signal() signals the process (pidfd_send_signal: it can never hit
  // another process that reused the pid). False when it has already ended.
  bool send_signal(int signal) const noexcept;
  // try_reap() reaps the process if it has ended and is our child; nullopt
  // while it runs. Throws ipc_error when it is not our child.
  std::optional<exit_status> try_reap();

 private:
  void close() noexcept;

  int fd_ = -1;
  pid_t pid_ = 0;
};

}  // namespace tandem::ipc

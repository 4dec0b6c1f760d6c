#include "ipc/pidfd.hpp"

#include "ipc/error.hpp"

#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

namespace tandem::ipc {
namespace {

// glibc 2.36 does not spell P_PIDFD yet; the kernel's value (linux/wait.h)
// is 3 since Linux 5.4.
constexpr auto p_pidfd = static_cast<idtype_t>(3);

}  // namespace

std::string describe(const exit_status& status) {
  if (!status.signaled) return "exited with status " + std::to_string(status.number);
  const char* name = strsignal(status.number);
  return "was killed by signal " + std::to_string(status.number) + " (" +
         (name ? name : "unknown") + ")";
}

pidfd::pidfd(pid_t pid) : pid_(pid) {
  // pidfd_open's descriptor is always close-on-exec.
  fd_ = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (fd_ < 0) throw_errno("pidfd_open(" + std::to_string(pid) + ")");
}

pidfd pidfd::adopt(int fd, pid_t pid) noexcept {
  pidfd adopted;
  adopted.fd_ = fd;
  adopted.pid_ = pid;
  return adopted;
}

bool pidfd::send_signal(int signal) const noexcept {
  return syscall(SYS_pidfd_send_signal, fd_, signal, nullptr, 0) == 0;
}

pidfd::pidfd(pidfd&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), pid_(std::exchange(other.pid_, 0)) {}

pidfd& pidfd::operator=(pidfd&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
    pid_ = std::exchange(other.pid_, 0);
  }
  return *this;
}

pidfd::~pidfd() { close(); }

bool pidfd::exited(std::chrono::milliseconds timeout) const {
  pollfd watch{fd_, POLLIN, 0};
  int rc = 0;
  do rc = poll(&watch, 1, static_cast<int>(timeout.count()));
  while (rc < 0 && errno == EINTR);
  if (rc < 0) throw_errno("poll(pidfd of " + std::to_string(pid_) + ")");
  return rc > 0;
}

std::optional<exit_status> pidfd::try_reap() {
  siginfo_t info{};
  if (waitid(p_pidfd, static_cast<id_t>(fd_), &info, WEXITED | WNOHANG) != 0)
    throw_errno("waitid(pidfd of " + std::to_string(pid_) + ")");
  if (info.si_pid == 0) return std::nullopt;
  const bool signaled = info.si_code == CLD_KILLED || info.si_code == CLD_DUMPED;
  return exit_status{signaled, info.si_status};
}

void pidfd::close() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

}  // namespace tandem::ipc

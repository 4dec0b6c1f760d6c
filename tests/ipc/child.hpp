// child.hpp — forking helpers for the ipc suites: every child is bounded in
// time (alarm), never returns into doctest, and is reaped by the test.
#pragma once

#include <dirent.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <system_error>

namespace tandem::ipc::test {

// fork_child() runs `body` (returning an exit code) in a child that dies
// by SIGALRM after `limit_s` seconds, and returns the child's pid.
template <class Body>
pid_t fork_child(Body&& body, unsigned limit_s = 120) {
  const pid_t pid = fork();
  // A pid of -1 must never reach kill() (it would signal every process we
  // may signal) nor waitpid(): fail the test case instead.
  if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
  if (pid != 0) return pid;
  alarm(limit_s);
  int code = 3;
  try {
    code = body();
  } catch (...) {
    code = 4;
  }
  _exit(code);
}

// reap() waits for `pid` and returns its wait status.
inline int reap(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

inline bool exited_zero(int status) { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }

// entries_in() counts the entries of a directory, "." and ".." excluded;
// for /proc/self/fd that includes the descriptor of the listing itself, the
// same each time, so compare counts rather than expect a number.
inline std::size_t entries_in(const char* path) {
  DIR* dir = opendir(path);
  if (dir == nullptr) return 0;
  std::size_t count = 0;
  while (const dirent* entry = readdir(dir)) count += entry->d_name[0] != '.';
  closedir(dir);
  return count;
}

// sanitized is true under ASan or TSan: GCC defines __SANITIZE_*__, clang
// 14 (our TSan compiler) only answers __has_feature.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool sanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
inline constexpr bool sanitized = true;
#else
inline constexpr bool sanitized = false;
#endif
#else
inline constexpr bool sanitized = false;
#endif

// frames_to_run() is `normal`, or the TANDEM_IPC_FRAMES override, divided
// by `sanitized_divisor` under ASan/TSan (which run 5-20x slower), so each
// sanitized binary stays well under a minute.
inline unsigned long long frames_to_run(unsigned long long normal, unsigned sanitized_divisor) {
  if (const char* forced = std::getenv("TANDEM_IPC_FRAMES")) return std::strtoull(forced, nullptr, 10);
  return sanitized ? normal / sanitized_divisor : normal;
}

}  // namespace tandem::ipc::test

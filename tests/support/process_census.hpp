// process_census.hpp — what a test process holds right now (open fds,
// threads, children), so a test can check that tandem left nothing behind.
#pragma once

#include <dirent.h>
#include <sys/wait.h>

#include <cerrno>

#include <chrono>
#include <cstddef>
#include <thread>

namespace tandem::test {

inline std::size_t count_entries(const char* dir) {
  std::size_t n = 0;
  if (DIR* d = opendir(dir)) {
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.') ++n;
    closedir(d);
  }
  return n;
}

// no_children() is true when this process has no child left, not even a
// zombie: every process it made was reaped. (It reaps one it finds, so call
// it only once nothing should be running.)
inline bool no_children() {
  errno = 0;
  return waitpid(-1, nullptr, WNOHANG) == -1 && errno == ECHILD;
}

struct process_census {
  std::size_t fds = count_entries("/proc/self/fd");
  std::size_t threads = count_entries("/proc/self/task");

  // settled() waits briefly for exiting threads to disappear from /proc.
  static process_census settled(const process_census& expected) {
    process_census now;
    for (int i = 0; i < 200 && (now.threads != expected.threads || now.fds != expected.fds); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      now = process_census{};
    }
    return now;
  }
};

}  // namespace tandem::test

// process_census.hpp — what a test process holds right now (open fds,
// threads, children), so a test can check that tandem left nothing behind.
#pragma once

#include <dirent.h>

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include <chrono>
#include <cstddef>
#include <thread>

#include "support/cpu_tasks.hpp"

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

// A sanitizer symbolizes through a child process of its own
// (llvm-symbolizer) that it starts the first time it needs one (under TSan,
// to match a suppression of test_main.cpp) and keeps, with its pipes.
// start_symbolizer() starts it now, so that a census taken next counts it
// as the baseline instead of a leak; without a sanitizer the weak symbol is
// null and nothing happens.
extern "C" void __sanitizer_symbolize_pc(void* pc, const char* format, char* out, std::size_t size)
    __attribute__((weak));

inline void start_symbolizer() {
  char name[256];
  if (__sanitizer_symbolize_pc)
    __sanitizer_symbolize_pc(__builtin_return_address(0), "%f", name, sizeof name);
}

// is_sanitizer_helper() is true for the sanitizer's symbolizer process.
inline bool is_sanitizer_helper(pid_t pid) {
  std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  std::getline(comm, name);
  return name.rfind("llvm-symbolizer", 0) == 0;
}

// no_children() is true when this process has no child left, not even a
// zombie, apart from a sanitizer's symbolizer: every process tandem made
// was reaped. (It scans /proc: kernels without CONFIG_PROC_CHILDREN have no
// list of children.)
inline bool no_children() {
  DIR* proc = opendir("/proc");
  if (!proc) return false;
  bool none = true;
  while (dirent* entry = readdir(proc)) {
    const pid_t pid = static_cast<pid_t>(std::atoi(entry->d_name));
    if (pid > 0 && parent_of(pid) == getpid() && !is_sanitizer_helper(pid)) none = false;
  }
  closedir(proc);
  return none;
}

struct process_census {
  // The symbolizer first: its descriptors are part of the baseline.
  std::size_t fds = (start_symbolizer(), count_entries("/proc/self/fd"));
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

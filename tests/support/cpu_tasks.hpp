// cpu_tasks.hpp — small helpers for tests of the cpu lane.
#pragma once

#include <dirent.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "support/eventually.hpp"
#include "tandem/runtime.hpp"

namespace tandem::test {

// lanes() are runtime options with `io_threads` io threads and
// `cpu_workers` worker processes, the rest default.
inline runtime_options lanes(unsigned io_threads, unsigned cpu_workers) {
  runtime_options options;
  options.io_threads = io_threads;
  options.cpu_workers = cpu_workers;
  return options;
}

// spin_for() computes (never sleeps) for about `ms` milliseconds.
inline std::uint64_t spin_for(int ms) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  std::uint64_t x = 1;
  while (std::chrono::steady_clock::now() < until)
    for (int i = 0; i < 1000; ++i) x = x * 6364136223846793005ull + 1442695040888963407ull;
  return x;
}

// now_ns() is CLOCK_MONOTONIC, comparable across processes.
inline std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// stat_of() is /proc/PID/stat, or "" once the process is gone: reading the
// file of a process that exits meanwhile fails with ESRCH, which
// libstdc++'s filebuf reports by throwing.
inline std::string stat_of(pid_t pid) {
  try {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    return std::string((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  } catch (const std::ios_base::failure&) {
    return "";
  }
}

// parent_of() reads a process's parent pid from /proc (0 if it is gone).
inline pid_t parent_of(pid_t pid) {
  const std::string text = stat_of(pid);
  const auto close_paren = text.rfind(')');
  if (close_paren == std::string::npos) return 0;
  char state = 0;
  int parent = 0;
  std::sscanf(text.c_str() + close_paren + 1, " %c %d", &state, &parent);
  return parent;
}

// process_exists() is true while `pid` names a process that is not a zombie.
inline bool process_exists(pid_t pid) {
  const std::string text = stat_of(pid);
  const auto close_paren = text.rfind(')');
  return close_paren != std::string::npos && close_paren + 2 < text.size() &&
         text[close_paren + 2] != 'Z' && text[close_paren + 2] != 'X';
}

// living_children_of() are the processes, zombies apart, whose parent is
// `parent` (found by scanning /proc).
inline std::vector<pid_t> living_children_of(pid_t parent) {
  std::vector<pid_t> children;
  DIR* proc = opendir("/proc");
  if (!proc) return children;
  while (dirent* entry = readdir(proc)) {
    const pid_t pid = static_cast<pid_t>(std::atoi(entry->d_name));
    if (pid > 0 && parent_of(pid) == parent && process_exists(pid)) children.push_back(pid);
  }
  closedir(proc);
  return children;
}

// replaced_soon() waits (up to 5 s) until `pid` is no longer among the
// workers and the lane has `workers` again.
inline bool replaced_soon(const runtime& rt, pid_t pid, std::size_t workers) {
  return eventually(
      [&] {
        const auto pids = rt.cpu_worker_pids();
        return pids.size() == workers && std::find(pids.begin(), pids.end(), pid) == pids.end();
      },
      std::chrono::seconds(5));
}

}  // namespace tandem::test

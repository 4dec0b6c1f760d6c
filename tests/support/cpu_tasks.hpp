// cpu_tasks.hpp — small helpers for tests of the cpu lane.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <string>

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

// parent_of() reads a process's parent pid from /proc (0 if it is gone).
inline pid_t parent_of(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const auto close_paren = text.rfind(')');
  if (close_paren == std::string::npos) return 0;
  char state = 0;
  int parent = 0;
  std::sscanf(text.c_str() + close_paren + 1, " %c %d", &state, &parent);
  return parent;
}

// process_exists() is true while `pid` names a process that is not a zombie.
inline bool process_exists(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const auto close_paren = text.rfind(')');
  return close_paren != std::string::npos && close_paren + 2 < text.size() &&
         text[close_paren + 2] != 'Z' && text[close_paren + 2] != 'X';
}

}  // namespace tandem::test

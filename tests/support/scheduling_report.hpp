// scheduling_report.hpp — what a child reports of its own scheduling, for
// the tests that check which scheduling a started program gets: the child
// runs `cat /proc/self/status /proc/self/stat`, and read_report() reads it.
#pragma once

#include <sys/resource.h>

#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

namespace tandem::test {

// reported_scheduling is what the child printed, read back.
struct reported_scheduling {
  std::string cpus;  // as Cpus_allowed_list shows it: "0-3,6"
  int nice = 99;     // 99: not found
};

// cpus_allowed_list() is the Cpus_allowed_list line's value in a
// /proc/.../status text.
inline std::string cpus_allowed_list(const std::string& status) {
  const std::string key = "Cpus_allowed_list:\t";
  const auto start = status.find(key);
  if (start == std::string::npos) return {};
  const auto from = start + key.size();
  return status.substr(from, status.find('\n', from) - from);
}

// nice_in_stat() is the nice field (the 19th) of a /proc/.../stat line;
// the fields are counted after the command name, which may hold spaces.
inline int nice_in_stat(const std::string& stat) {
  const auto name_end = stat.rfind(')');
  if (name_end == std::string::npos) return 99;
  std::istringstream fields(stat.substr(name_end + 1));
  std::string field;
  for (int number = 3; number < 19; ++number) fields >> field;
  int nice = 99;
  fields >> nice;
  return nice;
}

// read_report() reads the output of `cat /proc/self/status
// /proc/self/stat`: the status text, then the one stat line.
inline reported_scheduling read_report(const std::string& output) {
  const auto stat_start = output.rfind('\n', output.size() - 2) + 1;
  return {cpus_allowed_list(output.substr(0, stat_start)), nice_in_stat(output.substr(stat_start))};
}

// this_threads_cpus() is the calling thread's Cpus_allowed_list.
inline std::string this_threads_cpus() {
  std::ifstream status("/proc/thread-self/status");
  return cpus_allowed_list(std::string(std::istreambuf_iterator<char>(status), {}));
}

// this_threads_nice() is the calling thread's nice value.
inline int this_threads_nice() { return getpriority(PRIO_PROCESS, 0); }

}  // namespace tandem::test

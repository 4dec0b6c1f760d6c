// vfork_exec: the child's set-up (stdio, descriptors, cwd, group, signals,
// scheduling), failures reported by step, and the child's death with its
// starting thread.
#include "ipc/vfork_exec.hpp"

#include "child.hpp"
#include "support/capabilities.hpp"
#include "support/scheduling_report.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <utility>

using namespace tandem::ipc;
using namespace std::chrono_literals;

namespace {

// child_output is a pipe whose write end, above 2 and close-on-exec,
// becomes the child's stdout and stderr (and /dev/null its stdin).
struct child_output {
  int read_end = -1;
  int write_end = -1;
  int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
  child_output() {
    int fds[2];
    REQUIRE(pipe2(fds, O_CLOEXEC) == 0);
    read_end = fds[0];
    write_end = fds[1];
  }
  child_output(const child_output&) = delete;
  child_output& operator=(const child_output&) = delete;
  ~child_output() {
    close(read_end);
    close(write_end);
    close(null);
  }
  exec_request request(char* const* argv, const char* cwd = nullptr) const {
    static char* const no_env[] = {nullptr};
    return {.path = argv[0],
            .argv = argv,
            .envp = no_env,
            .stdio = {null, write_end, write_end},
            .cwd = cwd};
  }
  // all() is what the child wrote until it exited (it must have).
  std::string all() {
    close(std::exchange(write_end, -1));
    std::string text;
    char buffer[4096];
    for (ssize_t n; (n = read(read_end, buffer, sizeof buffer)) > 0;) text.append(buffer, n);
    return text;
  }
};

// ended_within() polls `pid` until it ends (true, its status in `status`)
// or `limit` passes (false: it is killed and reaped).
bool ended_within(pid_t pid, std::chrono::milliseconds limit, int& status) {
  const auto give_up = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < give_up) {
    if (waitpid(pid, &status, WNOHANG) == pid) return true;
    std::this_thread::sleep_for(5ms);
  }
  kill(pid, SIGKILL);
  test::reap(pid);
  return false;
}

// other_policy_with_nice() is SCHED_OTHER at `nice`, on the CPUs this
// thread may use.
exec_scheduling other_policy_with_nice(int nice) {
  exec_scheduling scheduling{};
  REQUIRE(sched_getaffinity(0, sizeof scheduling.affinity, &scheduling.affinity) == 0);
  scheduling.has_affinity = true;
  scheduling.policy = SCHED_OTHER;
  scheduling.nice = nice;
  return scheduling;
}

// report_of_child_with() is what a child started with `scheduling` reports
// of its own.
tandem::test::reported_scheduling report_of_child_with(const exec_scheduling& scheduling) {
  child_output output;
  char cat[] = "/bin/cat", status[] = "/proc/self/status", stat[] = "/proc/self/stat";
  char* const argv[] = {cat, status, stat, nullptr};
  exec_request request = output.request(argv);
  request.scheduling = &scheduling;
  const exec_result started = vfork_exec(request);
  REQUIRE(started.failed == exec_step::none);
  const auto report = tandem::test::read_report(output.all());
  REQUIRE(test::exited_zero(test::reap(started.pid)));
  return report;
}

}  // namespace

TEST_CASE("the child gets its stdio, cwd and group, no other descriptor, clean signals" *
          doctest::timeout(20)) {
  const int inheritable = open("/dev/null", O_RDONLY);  // no O_CLOEXEC: must be closed anyway
  REQUIRE(inheritable > 2);
  struct sigaction ignore {};
  struct sigaction old {};
  ignore.sa_handler = SIG_IGN;
  REQUIRE(sigaction(SIGPIPE, &ignore, &old) == 0);
  child_output output;
  char sh[] = "/bin/sh", dash_c[] = "-c";
  // The shell reads its own signal masks with builtins only: a forked grep
  // could read them while the shell is still inside fork(), which blocks
  // every signal around the system call (glibc's _Fork).
  char script[] =
      "pwd; ls /proc/$$/fd; while IFS= read -r line; do case $line in SigBlk:*|SigIgn:*) "
      "printf '%s\\n' \"$line\";; esac; done < /proc/$$/status; exit 7";
  char* const argv[] = {sh, dash_c, script, nullptr};
  const exec_result started = vfork_exec(output.request(argv, "/tmp"));
  REQUIRE(sigaction(SIGPIPE, &old, nullptr) == 0);
  close(inheritable);
  REQUIRE(started.failed == exec_step::none);
  CHECK(getpgid(started.pid) == started.pid);
  CHECK(output.all() == "/tmp\n0\n1\n2\nSigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
  const int status = test::reap(started.pid);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 7);
}

TEST_CASE("the child takes the affinity and nice value it is given" * doctest::timeout(20)) {
  exec_scheduling scheduling =
      other_policy_with_nice(std::min(tandem::test::this_threads_nice() + 5, 19));
  int last_cpu = CPU_SETSIZE - 1;
  while (!CPU_ISSET(last_cpu, &scheduling.affinity)) --last_cpu;
  CPU_ZERO(&scheduling.affinity);
  CPU_SET(last_cpu, &scheduling.affinity);
  const auto report = report_of_child_with(scheduling);
  CHECK(report.cpus == std::to_string(last_cpu));
  CHECK(report.nice == scheduling.nice);
}

// Without privilege a thread may not lower its nice value, nor may the
// child it starts: the child keeps that thread's and still runs.
TEST_CASE("a lower nice value refused for want of privilege leaves the child at the thread's" *
          doctest::timeout(20)) {
  const pid_t host = test::fork_child([] {
    const int nicer = std::min(tandem::test::this_threads_nice() + 5, 19);
    const rlimit no_lowering{0, 0};
    if (setpriority(PRIO_PROCESS, 0, nicer) != 0 || setrlimit(RLIMIT_NICE, &no_lowering) != 0 ||
        !tandem::test::drop_cap_sys_nice())
      return 10;
    return report_of_child_with(other_policy_with_nice(nicer - 5)).nice == nicer ? 0 : 11;
  });
  CHECK(test::exited_zero(test::reap(host)));
}

TEST_CASE("a failed exec or chdir is reported with its errno, the child reaped" *
          doctest::timeout(20)) {
  child_output output;
  char missing[] = "/nonexistent/program";
  char* const missing_argv[] = {missing, nullptr};
  const exec_result not_found = vfork_exec(output.request(missing_argv));
  CHECK(not_found.failed == exec_step::exec);
  CHECK(not_found.error == ENOENT);
  CHECK(std::string(step_name(not_found.failed)) == "execve");

  char true_path[] = "/bin/true";
  char* const true_argv[] = {true_path, nullptr};
  const exec_result no_dir = vfork_exec(output.request(true_argv, "/nonexistent/dir"));
  CHECK(no_dir.failed == exec_step::chdir);
  CHECK(no_dir.error == ENOENT);
  CHECK(waitpid(-1, nullptr, WNOHANG) < 0);  // ECHILD: both were reaped
}

// PR_SET_PDEATHSIG follows the thread that made the child: this is why
// tandem starts children on a thread of its own that outlives them.
TEST_CASE("the child is killed when the thread that started it exits" * doctest::timeout(20)) {
  child_output output;
  char sleep_path[] = "/bin/sleep", seconds[] = "30";
  char* const argv[] = {sleep_path, seconds, nullptr};
  exec_result started;
  std::thread([&] { started = vfork_exec(output.request(argv)); }).join();
  REQUIRE(started.failed == exec_step::none);
  int status = 0;
  REQUIRE(ended_within(started.pid, 5s, status));
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);
}

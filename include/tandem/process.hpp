// process.hpp — running other programs: the options and the result of
// tandem::runtime::run_process().
//
//   tandem::runtime rt;
//   tandem::process_result r = rt.run_process({"git", "rev-parse", "HEAD"}).get();
//   if (r.ok()) std::cout << r.out;                       // else r.exit_code, r.err
//
//   auto n = rt.run_process(tandem::shell("ls | wc -l"), {.cwd = "/tmp", .timeout = 5s});
//   auto log = rt.run_process({"make", "-j4"}, {.on_stdout = [](std::string_view chunk) {
//     std::cout << chunk;                                 // streamed, not kept
//   }});
//
// A program is run directly (argv[0] is the program, looked up in PATH like
// execvp when it has no '/'); a shell only runs when tandem::shell() asks
// for one. The child changes to its cwd before the program is found, as
// `cd cwd && exec program` would: a relative program path ("./tool") and
// a relative PATH entry ("bin", or an empty one for ".") are taken from
// cwd. A non-zero exit is a result, not an exception (as with Python's
// subprocess.run without check): look at ok(), or call check(), or set
// process_options::check. What stops a process from being run at all (no
// such program, an unusable cwd, a NUL byte in an argument) is a
// tandem::error in the future, naming the program (and the working
// directory, where a relative path was taken from it).
//
// The child gets pipes for stdin, stdout and stderr and no other descriptor
// of the host; default signal dispositions and an empty signal mask; and a
// process group of its own, so that a timeout or a cancel kills what it
// started too (SIGKILL to the group). A consequence: a Ctrl-C typed at the
// terminal reaches the host only, not the child. Every child is reaped by
// the runtime (through a pidfd: no SIGCHLD handler is installed); a program
// that sets SIGCHLD to SIG_IGN or reaps with waitpid(-1) takes exit
// statuses away from it.
//
// The child gets the CPU scheduling of the thread that calls run_process(),
// as fork() there would give it: that thread's CPU affinity, scheduling
// policy and priority, and nice value (with SCHED_RESET_ON_FORK set, no
// real-time policy and no negative nice value). Children are started by a
// thread of the runtime's own (below), which took the scheduling of the
// first thread to call run_process(); where moving a child from that
// scheduling to its caller's needs a privilege (CAP_SYS_NICE) the host
// lacks — a nice value lower than RLIMIT_NICE allows, a way out of
// SCHED_IDLE, a real-time priority above RLIMIT_RTPRIO — the kernel
// refuses it, and the child keeps that first caller's nice value or policy
// instead (and runs all the same); so it does for an affinity that a
// seccomp filter refuses. A
// thread under SCHED_DEADLINE, which fork() refuses too, cannot start a
// process (a tandem::error naming sched_setscheduler).
//
// A child never outlives the host: when the host process dies, however it
// dies (SIGKILL, a signal it has no handler for, a crash), the child gets
// SIGKILL from the kernel (PR_SET_PDEATHSIG). The kernel sends that when the
// thread that started the child exits, so children are started not by the
// thread calling run_process(), which may end first, but by one thread of
// the runtime's own, started with the first run_process() and ended once
// the runtime has stopped and reaped its last child. Limits: that signal
// reaches the child alone, not what it started in its process group; and
// the kernel drops it when the child execs a set-user-ID, set-group-ID or
// file-capability program.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tandem {

// process_environment maps variable names to values.
using process_environment = std::map<std::string, std::string>;

// output_callback receives a child's output as it arrives, one chunk at a
// time (chunks split anywhere, not at line ends).
using output_callback = std::function<void(std::string_view chunk)>;

// process_options configure one run_process() call; every field has a
// usable default (designated initializers read well: {.timeout = 5s}; each
// field has an initializer so that GCC's -Wmissing-field-initializers
// accepts naming only some).
struct process_options {
  // cwd is the child's working directory; empty: the host's. A relative
  // cwd is taken from the host's working directory when the process starts;
  // a relative program path or PATH entry is then taken from cwd.
  std::string cwd{};
  // env, when set, is the child's whole environment; unset: the host's
  // environment, read when the process starts (as getenv() would: a
  // setenv() on another thread meanwhile is a race, as it is for getenv).
  std::optional<process_environment> env{};
  // env_extra is set on top of the above (adding or replacing variables).
  // PATH, as it ends up, is where a program name without '/' is looked up.
  process_environment env_extra{};
  // stdin_data is written to the child's stdin, which is then closed. The
  // child never reads the host's stdin: with no data it sees end-of-file.
  // A child that exits without reading it all is fine (no SIGPIPE reaches
  // the host).
  std::string stdin_data{};
  // on_stdout / on_stderr, when set, receive that stream as it arrives
  // instead of process_result::out / err (which then stay empty). Calls run
  // on the io lane, in order, one at a time for the whole process (never
  // two at once, not even one per stream); a slow callback slows the child
  // down instead of buffering. An exception from a callback kills the
  // process and becomes the future's exception. After a timeout or a
  // cancel, no more calls are made.
  output_callback on_stdout{};
  output_callback on_stderr{};
  // timeout limits how long the process may run; zero: no limit. Past it
  // the child and its process group get SIGKILL and the future holds
  // tandem::task_timeout.
  std::chrono::nanoseconds timeout{0};
  // check makes a non-zero exit status (or a death by signal) a
  // tandem::error in the future, as process_result::check() would throw.
  bool check = false;
};

// process_result is how a finished process ended and what it wrote.
struct process_result {
  // args are the arguments it was started with (args[0]: the program).
  std::vector<std::string> args{};
  // exit_code is set when the process exited, signal when a signal killed
  // it; exactly one of them is set.
  std::optional<int> exit_code{};
  std::optional<int> signal{};
  // out and err are stdout and stderr, whole (empty when streamed to a
  // callback).
  std::string out{};
  std::string err{};

  // ok() is true when the process exited with status 0.
  bool ok() const noexcept { return exit_code == 0; }
  // status_text() says how it ended: "exited with status 3", "was killed
  // by signal 9 (Killed)".
  std::string status_text() const;
  // check() throws tandem::error naming the command and how it ended (and
  // the last line of err) unless ok().
  void check() const;
};

// shell() is the argument list that runs `command` with /bin/sh -c; pipes,
// globs and redirections in it are the shell's. Quote what comes from
// outside, or pass it as separate arguments without a shell instead.
//
//   rt.run_process(tandem::shell("sort data.txt | uniq -c"));
inline std::vector<std::string> shell(std::string command) {
  return {"/bin/sh", "-c", std::move(command)};
}

}  // namespace tandem

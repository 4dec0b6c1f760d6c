#include "python_peer.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <stdexcept>
#include <system_error>
#include <thread>

namespace tandem::bench {

namespace {

// parse_figures() reads the `"name": number` pairs of a flat JSON object.
figures parse_figures(const std::string& text) {
  figures got;
  std::size_t at = 0;
  while ((at = text.find('"', at)) != std::string::npos) {
    const std::size_t end = text.find('"', at + 1);
    if (end == std::string::npos) break;
    std::size_t value = text.find_first_not_of(" \t", end + 1);
    if (value == std::string::npos || text[value] != ':') {
      at = end + 1;
      continue;
    }
    const char* number = text.c_str() + value + 1;
    char* stop = nullptr;
    const double parsed = std::strtod(number, &stop);
    if (stop != number) got[text.substr(at + 1, end - at - 1)] = parsed;
    at = end + 1;
  }
  return got;
}

// child_output is a child process and the read end of the pipe its
// stdout goes to.
struct child_output {
  pid_t pid;
  int output;
};

// start_shell() runs `exec env COMMAND` in sh, its stdout on a pipe (env,
// so that a COMMAND that starts with assignments, LD_PRELOAD=..., still
// names a program after exec). The child
// is sent SIGTERM when this thread ends (PR_SET_PDEATHSIG), so that a peer
// never outlives the benchmark, however the benchmark dies (Ctrl-C,
// SIGTERM, a crash): the shell execs the command so that the signal reaches
// it, and `timeout`, which runs the Python peers, passes SIGTERM on to the
// peer's process group, its pool included (SIGKILL it could not pass on).
// The child calls only async-signal-safe functions: this process has threads.
// vfork, not fork: a fork would write-protect every page of this process,
// and the implementations measured after the peer would pay a page fault
// for each page they write (the child shares our memory until it execs).
child_output start_shell(const std::string& command) {
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) != 0)
    throw std::system_error(errno, std::generic_category(), "pipe2");
  const std::string line = "exec env " + command;
  const pid_t parent = ::getpid();
  // Every signal is blocked until the child has exec'd: a handler of the
  // benchmark (bench/pipeline's Ctrl-C) run in the child would act on the
  // parent's memory. The child gives the two caught ones their default
  // action back before it unblocks them for the program.
  sigset_t all, before;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &before);
  const pid_t pid = ::vfork();
  if (pid == 0) {
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(127);  // the benchmark died before the prctl
    ::dup2(ends[1], STDOUT_FILENO);           // the copy is not close-on-exec
    ::sigprocmask(SIG_SETMASK, &before, nullptr);
    ::execl("/bin/sh", "sh", "-c", line.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  const int fork_errno = errno;
  ::pthread_sigmask(SIG_SETMASK, &before, nullptr);
  ::close(ends[1]);
  if (pid < 0) {
    ::close(ends[0]);
    throw std::system_error(fork_errno, std::generic_category(), "vfork");
  }
  return {pid, ends[0]};
}

// read_all() reads `fd` to its end and closes it.
std::string read_all(int fd) {
  std::string text;
  char chunk[256];
  for (ssize_t n; (n = ::read(fd, chunk, sizeof chunk)) != 0;) {
    if (n > 0)
      text.append(chunk, static_cast<std::size_t>(n));
    else if (errno != EINTR)
      break;
  }
  ::close(fd);
  return text;
}

// wait_for() reaps `pid` and returns its wait status (0: exited with 0).
int wait_for(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

}  // namespace

bool python_available() {
#ifdef TANDEM_PYTHON3
  return true;
#else
  return false;
#endif
}

figures run_command(const std::string& command) {
  const child_output child = start_shell(command);
  const std::string output = read_all(child.output);
  const int status = wait_for(child.pid);
  figures got = parse_figures(output);
  if (status != 0 || got.empty())
    throw std::runtime_error("peer process failed (status " + std::to_string(status) +
                             "): " + command + "\noutput: " + output);
  return got;
}

implementation process_peer(const std::string& impl, std::function<figures()> run) {
  return {impl, [run = std::move(run)] {
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
            return run();
          }};
}

figures run_python(const std::string& script, const std::vector<std::string>& args) {
#ifdef TANDEM_PYTHON3
  // multiprocessing.Pool can hang for good after a worker is killed (in
  // terminate(), past the script's own timeouts): bounded, a hang is a
  // failed peer, never a stuck benchmark.
  std::string command = std::string("timeout -k 5 120 '") + TANDEM_PYTHON3 + "' '" +
                        TANDEM_BENCH_PEERS_DIR + "/" + script + "'";
  for (const auto& arg : args) command += " " + arg;
  return run_command(command);
#else
  (void)args;
  throw std::runtime_error("python peer " + script + " run without python3");
#endif
}

void add_python(harness& h, std::vector<implementation>& impls, const std::string& impl,
                const std::string& script, const std::vector<std::string>& args) {
  if (!python_available()) {
    h.skip(impl, "python3 was not found when configuring");
    return;
  }
  impls.push_back(process_peer(impl, [script, args] { return run_python(script, args); }));
}

}  // namespace tandem::bench

#include "ipc/vfork_exec.hpp"

#include <dlfcn.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

#include "ipc/pdeathsig.hpp"

// Code run by the child, on its own stack: a sanitizer's instrumentation
// would work on the host's per-thread state, which the child shares.
// no_sanitize stops the checks of memory accesses, but clang still calls
// ThreadSanitizer at each function's entry and exit, and the child never
// returns from child_main: disable_sanitizer_instrumentation (clang 14)
// removes those calls too.
#if defined(__has_attribute) && __has_attribute(disable_sanitizer_instrumentation)
#define TANDEM_CHILD_CODE __attribute__((disable_sanitizer_instrumentation))
#else
#define TANDEM_CHILD_CODE __attribute__((no_sanitize("address", "thread", "undefined")))
#endif

namespace tandem::ipc {
namespace {

constexpr std::size_t child_stack_bytes = std::size_t{64} << 10;
// The kernel's sigset_t (glibc's _NSIG counts one signal more).
constexpr unsigned long kernel_sigset_bytes = (_NSIG - 1) / 8;
// All bits clear: as a kernel sigaction (at most 64 bytes on any
// architecture), SIG_DFL (0) with no flags and an empty mask, whatever its
// layout; as a sigset, empty.
constexpr unsigned long no_bits[8] = {};
constexpr unsigned long all_bits[8] = {~0UL, ~0UL, ~0UL, ~0UL, ~0UL, ~0UL, ~0UL, ~0UL};

// child_job is shared by the two sides: the request, and the failure the
// child reports.
struct child_job {
  const exec_request& request;
  pid_t parent;
  long fd_limit;  // for closing descriptors one by one (see take_stdio)
  exec_step failed = exec_step::none;
  int error = 0;
};

[[noreturn]] TANDEM_CHILD_CODE void child_fails(child_job& job, exec_step step, int error) {
  job.failed = step;
  job.error = error;
  syscall(SYS_exit_group, 127);
  __builtin_unreachable();
}

TANDEM_CHILD_CODE void reset_signals() {
  // SIGKILL and SIGSTOP refuse: they have their default action already.
  for (int sig = 1; sig < _NSIG; ++sig)
    syscall(SYS_rt_sigaction, sig, no_bits, nullptr, kernel_sigset_bytes);
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, no_bits, nullptr, kernel_sigset_bytes);
}

// refused_without_privilege() is true for the errno of a scheduling change
// the kernel allows only with CAP_SYS_NICE (see exec_scheduling).
TANDEM_CHILD_CODE bool refused_without_privilege(int error) {
  return error == EPERM || error == EACCES;
}

// 0 names the calling thread to each call: the child, which has no other.
TANDEM_CHILD_CODE void take_scheduling(child_job& job) {
  const exec_scheduling* wanted = job.request.scheduling;
  if (!wanted) return;
  if (wanted->has_affinity &&
      syscall(SYS_sched_setaffinity, 0, sizeof wanted->affinity, &wanted->affinity) != 0 &&
      !refused_without_privilege(errno))
    child_fails(job, exec_step::affinity, errno);
  // The system call takes the nice value itself (only getpriority's is
  // biased, to stay positive).
  if (syscall(SYS_setpriority, PRIO_PROCESS, 0, wanted->nice) != 0 &&
      !refused_without_privilege(errno))
    child_fails(job, exec_step::nice, errno);
  if (syscall(SYS_sched_setscheduler, 0, wanted->policy, &wanted->parameters) != 0 &&
      !refused_without_privilege(errno))
    child_fails(job, exec_step::policy, errno);
}

TANDEM_CHILD_CODE void take_stdio(child_job& job) {
  for (int fd = 0; fd < 3; ++fd)
    if (syscall(SYS_dup3, job.request.stdio[fd], fd, 0) < 0)
      child_fails(job, exec_step::stdio, errno);
  if (syscall(SYS_close_range, 3U, ~0U, 0U) == 0) return;
  // Kernels before 5.9, and seccomp filters older than close_range, refuse
  // it: close one by one up to the descriptor limit, as glibc would.
  if (errno != ENOSYS && errno != EPERM) child_fails(job, exec_step::close_fds, errno);
  for (long fd = 3; fd < job.fd_limit; ++fd) syscall(SYS_close, fd);
}

TANDEM_CHILD_CODE int child_main(void* shared) {
  child_job& job = *static_cast<child_job*>(shared);
  const exec_request& request = job.request;
  const parent_tie tie = tie_to_parent(job.parent, SIGKILL);
  if (tie != parent_tie::tied)
    child_fails(job, exec_step::tie, tie == parent_tie::refused ? errno : ESRCH);
  if (syscall(SYS_setpgid, 0, 0) != 0) child_fails(job, exec_step::group, errno);
  take_scheduling(job);
  take_stdio(job);
  if (request.cwd && syscall(SYS_chdir, request.cwd) != 0)
    child_fails(job, exec_step::chdir, errno);
  reset_signals();
  syscall(SYS_execve, request.path, request.argv, request.envp);
  child_fails(job, exec_step::exec, errno);
}

void reap(pid_t pid) noexcept {
  while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

// libc_clone() is libc's clone() itself. ThreadSanitizer intercepts clone()
// and takes the call for a fork, which aborts its runtime when the child
// shares our memory; this child runs no instrumented code and execs or
// exits at once, so it needs no sanitizer's bookkeeping.
using clone_function = int (*)(int (*)(void*), void*, int, void*, ...);
clone_function libc_clone() noexcept {
  static const clone_function found = [] {
    clone_function next = &::clone;
    if (void* symbol = dlsym(RTLD_NEXT, "clone")) std::memcpy(&next, &symbol, sizeof next);
    return next;
  }();
  return found;
}

// cloned() runs child_main on `stack` and returns when the child has
// exec'd or exited. Every signal is blocked meanwhile (raw call: glibc's
// sigprocmask leaves its internal two open) and the child inherits that.
pid_t cloned(child_job& job, void* stack) noexcept {
  unsigned long old_mask[8] = {};
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, all_bits, old_mask, kernel_sigset_bytes);
  const pid_t pid = libc_clone()(child_main, static_cast<char*>(stack) + child_stack_bytes,
                                 CLONE_VM | CLONE_VFORK | SIGCHLD, &job);
  const int clone_error = errno;
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, old_mask, nullptr, kernel_sigset_bytes);
  errno = clone_error;
  return pid;
}

}  // namespace

exec_result vfork_exec(const exec_request& request) noexcept {
  void* stack = mmap(nullptr, child_stack_bytes, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) return {.failed = exec_step::start, .error = errno};
  child_job job{request, getpid(), sysconf(_SC_OPEN_MAX)};
  const pid_t pid = cloned(job, stack);
  const int clone_error = errno;
  munmap(stack, child_stack_bytes);
  if (pid < 0) return {.failed = exec_step::start, .error = clone_error};
  if (job.failed == exec_step::none) return {.pid = pid};
  reap(pid);
  return {.failed = job.failed, .error = job.error};
}

const char* step_name(exec_step step) noexcept {
  switch (step) {
    case exec_step::none:
      return "nothing";
    case exec_step::start:
      return "clone";
    case exec_step::tie:
      return "prctl(PR_SET_PDEATHSIG)";
    case exec_step::group:
      return "setpgid";
    case exec_step::affinity:
      return "sched_setaffinity";
    case exec_step::nice:
      return "setpriority";
    case exec_step::policy:
      return "sched_setscheduler";
    case exec_step::stdio:
      return "dup3";
    case exec_step::close_fds:
      return "close_range";
    case exec_step::chdir:
      return "chdir";
    case exec_step::exec:
      return "execve";
  }
  return "?";
}

}  // namespace tandem::ipc

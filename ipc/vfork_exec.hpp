// vfork_exec.hpp — the one place tandem starts a program with set-up code of
// its own in the child, which posix_spawn cannot run.
//
// The host has threads, so fork() (which copies one thread and every lock
// another thread held) is out. vfork_exec() does what glibc's posix_spawn
// does: clone(CLONE_VM | CLONE_VFORK), the calling thread suspended until
// the child has exec'd or died, the child on a stack of its own. The child
// shares our memory, so it makes raw system calls only (no allocation, no
// lock, no libc wrapper a sanitizer could intercept and update the host's
// state from) and reports a failure by writing the step and its errno into
// our memory before it exits. Before exec, the child:
//  * asks for SIGKILL when its parent thread, the caller, exits
//    (PR_SET_PDEATHSIG, kept across exec but for set-user-ID, set-group-ID
//    and file-capability programs), and gives up should the host be gone
//    already;
//  * leads a new process group (its pgid is its pid);
//  * takes request.scheduling, when given (see exec_scheduling);
//  * takes request.stdio as its 0, 1 and 2 and closes every other
//    descriptor, close-on-exec or not;
//  * changes into request.cwd, when given;
//  * gives every signal its default action (glibc's internal 32 and 33
//    included) and unblocks them all. Until then every signal is blocked,
//    so no handler of the host runs in the child.
#pragma once

#include <sched.h>
#include <sys/types.h>

namespace tandem::ipc {

// exec_scheduling is the CPU scheduling a child takes before exec, in this
// order: its affinity, then its nice value, then its policy and priority.
// The nice value goes first because the kernel lets a thread leave
// SCHED_IDLE only for a nice value it could also set (below), and checks
// the one the thread has then; sched_setscheduler keeps it. Without
// exec_scheduling the child keeps the scheduling of the thread calling
// vfork_exec(), as a child of clone() does.
//
// Without CAP_SYS_NICE a thread may not take every scheduling: not a nice
// value below what RLIMIT_NICE allows, not a real-time priority above
// RLIMIT_RTPRIO, not a way out of SCHED_IDLE. Where the kernel refuses the
// policy or the nice value so (EPERM, EACCES), the child keeps the calling
// thread's and goes on, as run_process() documents (process.hpp); so it
// does for an affinity refused with EPERM (a seccomp filter may refuse the
// call). Any other refusal is a failure of that step.
struct exec_scheduling {
  bool has_affinity;       // false: the affinity is left as it is
  cpu_set_t affinity;      // sched_setaffinity's mask
  int policy;              // sched_setscheduler's (SCHED_RESET_ON_FORK may be set)
  sched_param parameters;  // sched_setscheduler's: the priority of SCHED_FIFO or SCHED_RR
  int nice;                // -20 to 19
};

// exec_request is what the child runs, as the C strings execve takes.
struct exec_request {
  const char* path;   // execve's: no PATH lookup; relative to cwd
  char* const* argv;  // NULL-terminated
  char* const* envp;  // NULL-terminated
  int stdio[3];       // become the child's 0, 1 and 2; each must be above 2
  const char* cwd;    // nullptr: the host's
  const exec_scheduling* scheduling = nullptr;  // nullptr: the calling thread's
};

// exec_step names what failed: the start itself (mmap, clone) or a step of
// the child's set-up.
enum class exec_step {
  none,
  start,
  tie,
  group,
  affinity,
  nice,
  policy,
  stdio,
  close_fds,
  chdir,
  exec
};

// exec_result is a started child's pid, or the step that failed and its
// errno (the child, if one was made, already reaped).
struct exec_result {
  pid_t pid = -1;
  exec_step failed = exec_step::none;
  int error = 0;
};

// vfork_exec() starts `request` in a child as described above. It tells a
// program that could not be run (ENOENT, EACCES, ENOEXEC) from one that
// ran: the pid it returns is that of the running program, which the caller
// must reap. The child dies with the calling thread, not the process: call
// it from a thread that outlives the child.
exec_result vfork_exec(const exec_request& request) noexcept;

// step_name() is the system call behind `step`, for messages: "chdir".
const char* step_name(exec_step step) noexcept;

}  // namespace tandem::ipc

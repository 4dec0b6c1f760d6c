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
//  * takes request.stdio as its 0, 1 and 2 and closes every other
//    descriptor, close-on-exec or not;
//  * changes into request.cwd, when given;
//  * gives every signal its default action (glibc's internal 32 and 33
//    included) and unblocks them all. Until then every signal is blocked,
//    so no handler of the host runs in the child.
#pragma once

#include <sys/types.h>

namespace tandem::ipc {

// exec_request is what the child runs, as the C strings execve takes.
struct exec_request {
  const char* path;   // execve's: no PATH lookup; relative to cwd
  char* const* argv;  // NULL-terminated
  char* const* envp;  // NULL-terminated
  int stdio[3];       // become the child's 0, 1 and 2; each must be above 2
  const char* cwd;    // nullptr: the host's
};

// exec_step names what failed: the start itself (mmap, clone) or a step of
// the child's set-up.
enum class exec_step { none, start, tie, group, stdio, close_fds, chdir, exec };

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

// process_spawn.hpp — starting a child program safely from a threaded host.
//
// Children start on the runtime's spawner thread (spawner_thread.hpp)
// through ipc::vfork_exec(), which reports a failed exec (ENOENT, EACCES,
// ENOEXEC) synchronously. In the child, before exec:
//  * it is tied to the host: SIGKILL when the host dies, however it dies;
//  * stdin, stdout and stderr are pipes to us; every other descriptor is
//    closed, whether or not its owner set close-on-exec;
//  * the signal mask is empty and every signal has its default action (a
//    host that ignores SIGPIPE or blocks SIGTERM does not pass that on);
//  * it leads a new process group (its pgid is its pid), so the runtime
//    can kill what it starts along with it;
//  * it changes into the requested working directory.
// The program is looked up (PATH, as seen from cwd) before the child is
// made, so the child only execs. Our ends of the pipes are close-on-exec
// and numbered above 2, so they cannot collide with the child's 0, 1 and
// 2, even in a host that closed its own stdio.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ipc/pidfd.hpp"
#include "tandem/process.hpp"

namespace tandem::detail {

class spawner_thread;

// owned_fd closes the descriptor it holds unless release()d. Move-only.
class owned_fd {
 public:
  owned_fd() noexcept = default;
  explicit owned_fd(int fd) noexcept : fd_(fd) {}
  owned_fd(owned_fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  owned_fd& operator=(owned_fd&& other) noexcept;
  owned_fd(const owned_fd&) = delete;
  owned_fd& operator=(const owned_fd&) = delete;
  ~owned_fd();

  int get() const noexcept { return fd_; }
  int release() noexcept { return std::exchange(fd_, -1); }

 private:
  int fd_ = -1;
};

// child_process owns a started child through its pidfd (a pid alone could
// be reused once reaped). A child is never left behind: if it has not been
// reaped when its child_process is destroyed, it is killed (with its
// process group) and reaped then. Move-only; one owner, one thread at a
// time.
class child_process {
 public:
  explicit child_process(ipc::pidfd process) noexcept : pidfd_(std::move(process)) {}
  child_process(child_process&& other) noexcept = default;
  child_process& operator=(child_process&& other) = delete;
  ~child_process();

  int fd() const noexcept { return pidfd_.fd(); }
  pid_t pid() const noexcept { return pidfd_.pid(); }

  // kill_group() sends SIGKILL to the child's process group and to the
  // child itself (should it have left the group). Safe until reap(): the
  // unreaped child keeps its pid, and so its group id, from being reused.
  void kill_group() const noexcept;
  // reap() waits for the child to end and reaps it. nullopt when its exit
  // status was taken by someone else (the program ignores SIGCHLD or calls
  // waitpid(-1)). Call it once.
  std::optional<ipc::exit_status> reap() noexcept;

 private:
  ipc::pidfd pidfd_;
  bool reaped_ = false;
};

// spawned_child is a started child and our ends of its three pipes.
struct spawned_child {
  child_process process;
  owned_fd stdin_pipe;   // we write
  owned_fd stdout_pipe;  // we read
  owned_fd stderr_pipe;  // we read
};

// check_arguments() throws tandem::error naming what makes `args` or
// `options` unusable (no program, a NUL byte, a bad variable name).
void check_arguments(const std::vector<std::string>& args, const process_options& options);

// spawn_child() starts args[0] with `args` as configured by `options`
// (cwd, env, env_extra), on `spawner`'s thread. Throws tandem::error naming the program when it
// cannot be started (not found in PATH, not executable, cwd unusable, out
// of descriptors). On success the child runs and must be reaped.
spawned_child spawn_child(spawner_thread& spawner, const std::vector<std::string>& args,
                          const process_options& options);

// command_text() is `args` as one line for messages: "ls -l /tmp".
std::string command_text(const std::vector<std::string>& args);

}  // namespace tandem::detail

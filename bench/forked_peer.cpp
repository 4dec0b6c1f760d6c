#include "forked_peer.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <stdexcept>
#include <string>
#include <system_error>

#include "ipc/pdeathsig.hpp"

namespace ipc_bench {
namespace {

// run_child() is the child's whole life: it must never return into the
// benchmark (whose stack and harness belong to the parent).
[[noreturn]] void run_child(pid_t parent, const std::function<int()>& body,
                            std::chrono::seconds limit) {
  int code = 4;
  try {
    tandem::ipc::die_with_parent(parent, SIGKILL);
    alarm(static_cast<unsigned>(limit.count()));
    code = body();
  } catch (...) {
  }
  _exit(code);
}

}  // namespace

forked_peer::forked_peer(const std::function<int()>& body, std::chrono::seconds limit) {
  const pid_t parent = getpid();
  pid_ = fork();
  if (pid_ < 0) throw std::system_error(errno, std::generic_category(), "fork");
  if (pid_ == 0) run_child(parent, body, limit);
  try {
    watch_.emplace(pid_);
  } catch (...) {
    kill_and_reap();
    throw;
  }
}

forked_peer::~forked_peer() {
  if (pid_ > 0) kill_and_reap();
}

void forked_peer::join(std::chrono::milliseconds timeout) {
  if (!watch_->exited(timeout))
    throw std::runtime_error("peer process " + std::to_string(pid_) + " did not end in time");
  const auto status = watch_->try_reap();
  if (!status) throw std::runtime_error("peer process ended but cannot be reaped");
  pid_ = -1;  // reaped: the pid may already name another process
  if (status->signaled || status->number != 0)
    throw std::runtime_error("peer process failed (" +
                             std::string(status->signaled ? "signal " : "exit code ") +
                             std::to_string(status->number) + ")");
}

void forked_peer::kill_and_reap() noexcept {
  kill(pid_, SIGKILL);
  while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

}  // namespace ipc_bench

// forked_peer.hpp — a benchmark's peer process, never left behind.
//
// bench/ipc measures traffic between the benchmark and a forked child.
// forked_peer owns that child from fork to reap: the child dies with the
// benchmark (PR_SET_PDEATHSIG) and by SIGALRM past a time limit, and a
// forked_peer that is destroyed before join() succeeded (an exception, a
// failed check) SIGKILLs and reaps it. So no path leaves a process behind.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>

#include "ipc/pidfd.hpp"

namespace ipc_bench {

class forked_peer {
 public:
  // forked_peer() forks; the child runs `body` (which returns its exit
  // code; an exception exits 4) and never returns here. Throws
  // std::system_error when fork fails. Call from a single-threaded process.
  explicit forked_peer(const std::function<int()>& body,
                       std::chrono::seconds limit = std::chrono::seconds(120));
  forked_peer(const forked_peer&) = delete;
  forked_peer& operator=(const forked_peer&) = delete;
  ~forked_peer();

  // join() waits up to `timeout` for the child to end and reaps it; throws
  // std::runtime_error unless it exited with 0.
  void join(std::chrono::milliseconds timeout);

 private:
  void kill_and_reap() noexcept;

  pid_t pid_ = -1;
  std::optional<tandem::ipc::pidfd> watch_;
};

}  // namespace ipc_bench

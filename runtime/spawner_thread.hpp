// spawner_thread.hpp — the thread that starts a runtime's child processes.
//
// A child of run_process() must die with the host however the host dies
// (SIGKILL included, when no code of ours runs), so it asks the kernel for
// SIGKILL when its parent goes (ipc/vfork_exec.hpp). The kernel sends that
// when the *thread* that started the child exits, not the process, and
// run_process() may be called from any thread, which may end while its
// child runs on. So every child is started by this one thread: started by
// the first run_process(), it lives until the runtime has stopped, its last
// child reaped.
//
// That thread took its scheduling (CPU affinity, policy and priority, nice
// value) from the first caller, and each child would take it from that
// thread: so each child is given the scheduling of the thread that asked
// for it instead, as fork() or posix_spawn() there would have given it.
#pragma once

#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "ipc/vfork_exec.hpp"

namespace tandem::detail {

class spawner_thread {
 public:
  spawner_thread() = default;
  ~spawner_thread() { stop(); }
  spawner_thread(const spawner_thread&) = delete;
  spawner_thread& operator=(const spawner_thread&) = delete;

  // start() runs ipc::vfork_exec(request) on the spawner thread, starting
  // that thread first if needed, and returns its result. Without
  // request.scheduling the child takes that of the thread calling start(),
  // as fork() there would give it. Any thread; one request at a time.
  // Throws std::system_error if no thread can start, or if the calling
  // thread's scheduling cannot be read.
  ipc::exec_result start(const ipc::exec_request& request);
  // stop() ends the thread, which kills every child it started: call it
  // once they are all reaped, never during a start().
  void stop() noexcept;

 private:
  void serve();

  std::mutex callers_;  // held by the one caller of start() served now
  std::mutex mutex_;    // guards the three below
  std::condition_variable changed_;
  const ipc::exec_request* request_ = nullptr;
  std::optional<ipc::exec_result> result_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace tandem::detail

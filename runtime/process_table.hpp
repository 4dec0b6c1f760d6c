// process_table.hpp — the child processes a runtime is running, for
// shutdown.
//
// shutdown() must not stop the lanes while a child's handlers can still be
// queued, and must not return while a child runs or is unreaped. So a
// process counts as live from the moment run_process() is admitted (before
// it spawns) until its runner is destroyed, having reaped the child and
// resolved the future; the scheduler waits for live() to reach zero as it
// waits for queued tasks. stop_all() (shutdown(tandem::cancel)) stops every
// listed runner, and every runner listed after it.
//
// Memory ordering: live_ is changed and read seq_cst; the scheduler reads
// it before the lanes' task counters, and a process is reserved by a task
// (or an admitted outside submitter) before that task counts as finished.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <set>

namespace tandem::detail {

class process_runner;

// stop_reason says why a running process is being killed.
enum class stop_reason { kill_running, shutdown, timeout };

class process_table {
 public:
  // reserve() counts one more live process; release() one fewer.
  void reserve() noexcept { live_.fetch_add(1, std::memory_order_seq_cst); }
  void release() noexcept { live_.fetch_sub(1, std::memory_order_seq_cst); }
  std::int64_t live() const noexcept { return live_.load(std::memory_order_seq_cst); }

  // enlist() makes `runner` (owned by a shared_ptr already) reachable by
  // stop_all(), and stops it at once when stop_all() ran before.
  void enlist(process_runner& runner);
  // delist() forgets `runner`; its destructor calls it first.
  void delist(process_runner& runner) noexcept;
  // stop_all() kills every listed process, now and from now on (their
  // futures hold task_cancelled).
  void stop_all();

 private:
  std::atomic<std::int64_t> live_{0};
  std::mutex runners_mutex_;  // guards runners_ and stopping_
  std::set<process_runner*> runners_;
  bool stopping_ = false;
};

}  // namespace tandem::detail

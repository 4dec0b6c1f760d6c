// trace_recorder.hpp — runtime::start_trace() / stop_trace(): one slice per
// task, written as Chrome trace-event JSON (opens in Perfetto or
// chrome://tracing) with one row per io thread, blocking thread and cpu
// worker process.
//
// While a trace runs, every task queued is stamped (lane_tally.hpp) and
// its slice recorded under one lock: tracing is for looking, not for
// production throughput. Outside a trace the lanes pay one relaxed load per
// task.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/lane_tally.hpp"
#include "tandem/detail/task_node.hpp"

namespace tandem::detail {

class trace_recorder {
 public:
  // A slice's outcome beyond task_outcome: the cpu lane's own endings.
  enum class ending { completed, failed, cancelled, timed_out, crashed };

  bool active() const noexcept { return active_.load(std::memory_order_relaxed); }

  // start() begins a trace, dropping any earlier one; throws tandem::error
  // if a trace is running.
  void start();
  // stop() ends the trace and writes it to `path`; throws tandem::error
  // naming the path when it cannot be written, or if no trace is running.
  void stop(const std::string& path);

  // A task's times, steady-clock nanoseconds.
  struct task_times {
    std::int64_t queued_ns;
    std::int64_t start_ns;
    std::int64_t end_ns;
  };
  // record() adds one slice to row `row` (labelled `row_label` the first
  // time the row is seen), unless the task was queued before the trace
  // began. `name` and the labels must outlive the trace.
  void record(std::uint64_t row, const std::string& row_label, const char* name,
              const char* affinity, ending how, const task_times& times);

  static ending ending_of(task_outcome outcome) noexcept;

 private:
  struct slice {
    std::uint64_t row;
    const char* name;
    const char* affinity;
    ending how;
    std::int64_t start_ns;
    std::int64_t end_ns;
  };

  std::string render() const;  // under mutex_

  // Every queued and every run task reads active_: it gets a cache line of
  // its own, or the writes of whatever sat beside it (the scheduler's
  // submission counter did) would bounce that line between the cores.
  alignas(64) std::atomic<bool> active_{false};
  alignas(64) std::mutex mutex_;  // guards what follows
  std::int64_t started_ns_ = 0;
  std::map<std::uint64_t, std::string> rows_;
  std::vector<slice> slices_;
};

// traced_times() are the times of a task the io lane or the blocking pool
// ran and timed.
inline trace_recorder::task_times traced_times(const task_report& report) noexcept {
  return {report.start_ns - report.wait_ns, report.start_ns, report.start_ns + report.run_ns};
}

}  // namespace tandem::detail

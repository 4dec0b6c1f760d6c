// lane_tally.hpp — the counters behind runtime::metrics() (metrics.hpp).
//
// Each tally has one writer at a time — an io worker thread, the cpu
// lane's dispatcher, or whoever holds the blocking pool's lock — so a
// count is a plain load and store (no locked instruction on the task
// path); a reader on any thread sees every count as of some moment.
#pragma once

#include <array>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstdint>

#include "tandem/detail/task_node.hpp"
#include "tandem/metrics.hpp"

namespace tandem::detail {

// bump() adds `n` to a counter that has one writer.
inline void bump(std::atomic<std::uint64_t>& counter, std::uint64_t n = 1) noexcept {
  counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_release);
}

inline std::int64_t steady_now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// latency_tally is a latency_histogram with one writer. It keeps no count
// of its own: a reader reads the buckets one by one while the writer goes
// on, so a count read beside them could disagree with their sum, and a
// histogram whose count is not the sum of its buckets is malformed (the
// Prometheus text format requires _count to equal the +Inf bucket). The
// sum is read separately and may be a few samples ahead or behind.
class latency_tally {
 public:
  void record(std::int64_t ns) noexcept {
    const auto positive = static_cast<std::uint64_t>(ns > 0 ? ns : 0);
    bump(buckets_[bucket_of(positive)]);
    bump(sum_ns_, positive);
  }
  void add_to(latency_histogram& into) const noexcept {
    for (std::size_t i = 0; i < buckets_.size(); ++i) {
      const std::uint64_t in_bucket = buckets_[i].load(std::memory_order_acquire);
      into.buckets[i] += in_bucket;
      into.count += in_bucket;
    }
    into.sum_seconds += static_cast<double>(sum_ns_.load(std::memory_order_acquire)) * 1e-9;
  }

 private:
  // bucket_of() is the first bucket whose bound (1 us x 2^i) holds `ns`.
  static std::size_t bucket_of(std::uint64_t ns) noexcept {
    const std::uint64_t micros = (ns + 999) / 1000;
    const std::size_t i = micros <= 1 ? 0 : std::bit_width(micros - 1);
    return i < latency_histogram::bucket_count ? i : latency_histogram::bucket_count - 1;
  }

  std::array<std::atomic<std::uint64_t>, latency_histogram::bucket_count> buckets_{};
  std::atomic<std::uint64_t> sum_ns_{0};
};

// task_report is what running one task gave: its outcome and, for a task
// stamped when queued, how long it waited and ran.
struct task_report {
  task_outcome outcome;
  bool timed;
  std::int64_t wait_ns;
  std::int64_t start_ns;
  std::int64_t run_ns;
};

// run_and_time() runs `task` through `run` (which returns its outcome),
// timing it when it was stamped. The task is gone afterwards. One that was
// cancelled before it started did not run: it has no times (no histogram
// entry, no trace slice), as a cpu job cancelled in its queue has none.
template <class Run>
task_report run_and_time(task_node* task, Run&& run) noexcept {
  const std::int64_t enqueued = task->enqueued_ns;
  if (enqueued == 0) return {run(task), false, 0, 0, 0};
  const std::int64_t start = steady_now_ns();
  const task_outcome outcome = run(task);
  const bool ran = outcome != task_outcome::cancelled;
  return {outcome, ran, start - enqueued, start, steady_now_ns() - start};
}

// lane_tally counts what happened to the tasks its writer ran.
struct lane_tally {
  std::atomic<std::uint64_t> started{0};
  std::atomic<std::uint64_t> completed{0};
  std::atomic<std::uint64_t> failed{0};
  std::atomic<std::uint64_t> cancelled{0};
  std::atomic<std::uint64_t> timed_out{0};
  latency_tally queue_wait;
  latency_tally run_time;

  void count(task_outcome outcome) noexcept {
    switch (outcome) {
      case task_outcome::completed:
        bump(completed);
        break;
      case task_outcome::failed:
        bump(failed);
        break;
      case task_outcome::cancelled:
        bump(cancelled);
        break;
    }
  }
  void record(const task_report& report) noexcept {
    count(report.outcome);
    if (!report.timed) return;
    queue_wait.record(report.wait_ns);
    run_time.record(report.run_ns);
  }
  // add_to() adds this tally's counts to `into`; returns how many started.
  std::uint64_t add_to(lane_metrics& into) const noexcept {
    into.completed += completed.load(std::memory_order_acquire);
    into.failed += failed.load(std::memory_order_acquire);
    into.cancelled += cancelled.load(std::memory_order_acquire);
    into.timed_out += timed_out.load(std::memory_order_acquire);
    queue_wait.add_to(into.queue_wait);
    run_time.add_to(into.run_time);
    return started.load(std::memory_order_acquire);
  }
};

// sample_stamp() stamps a task being queued with the time, for one
// submission in metrics_snapshot::io_sample_every on this thread (or every
// one when `every` is set: tracing).
inline void sample_stamp(task_node& task, bool every) noexcept {
  thread_local std::uint32_t submissions = 0;
  if (every || ++submissions % metrics_snapshot::io_sample_every == 0)
    task.enqueued_ns = steady_now_ns();
}

// ended_count() is how many of the lane's tasks have ended, however.
inline std::uint64_t ended_count(const lane_metrics& m) noexcept {
  return m.completed + m.failed + m.cancelled + m.timed_out;
}

// settle_depths() fills queued and running from the submitted and started
// counts and the outcomes (clamped: the counts were read a moment apart).
inline void settle_depths(lane_metrics& m, std::uint64_t started) noexcept {
  const std::uint64_t ended = ended_count(m);
  m.queued = m.submitted > started ? m.submitted - started : 0;
  m.running = started > ended ? started - ended : 0;
}

}  // namespace tandem::detail

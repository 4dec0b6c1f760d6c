// metrics.hpp — what a runtime has done and is doing, for dashboards and
// alerts: rt.metrics() takes a snapshot, to_prometheus() formats it.
//
//   tandem::metrics_snapshot m = rt.metrics();
//   std::printf("%llu cpu tasks failed; p99 wait %.3f ms\n",
//               (unsigned long long)m.cpu.failed, m.cpu.queue_wait.percentile(99) * 1e3);
//   serve("/metrics", tandem::to_prometheus(m));
//
// Counters only grow; a snapshot is a consistent-enough view taken without
// stopping anything. Each figure is exact, and figures read a moment apart
// may disagree by the tasks that moved in between: submitted against the
// outcomes, queued and running (clamped at 0), a histogram's count against
// the lane's outcomes, a histogram's sum_seconds against its buckets (a
// few samples ahead or behind). What always holds: a histogram's count is
// the sum of its buckets. On the io lane, queue wait and run time are
// sampled: one task in io_sample_every is timed (a clock read per task
// would cost more than the task), so their counts are sample counts (while
// a trace is recorded, every io task is timed); the cpu lane times every
// task. Keeping metrics on costs the io lane about a nanosecond per task.
// runtime_options::metrics = false turns the io lane's and the blocking
// pool's counting off: they then report only submissions (queued and
// running stay 0). The cpu lane counts and times whatever the option says:
// next to a round trip to a worker process, that costs nothing.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace tandem {

// latency_histogram counts durations in buckets whose upper bounds are
// 1 us x 2^i (i = 0 .. bucket_count - 2, so up to about 16.8 s), then one
// for anything longer.
struct latency_histogram {
  static constexpr std::size_t bucket_count = 26;
  // upper_bound_seconds() is bucket i's upper bound (infinity for the last).
  static double upper_bound_seconds(std::size_t i) noexcept;

  std::array<std::uint64_t, bucket_count> buckets{};  // per bucket, not cumulative
  std::uint64_t count = 0;                            // the sum of buckets
  double sum_seconds = 0;

  // percentile() is the upper bound of the bucket that holds the p-th
  // percentile (0 < p <= 100), in seconds: at most 2x the true value. 0
  // when empty.
  double percentile(double p) const noexcept;
};

// lane_metrics are the figures every lane has.
struct lane_metrics {
  std::uint64_t submitted = 0;  // submitted so far (io: also continuations and Asio handlers)
  std::uint64_t completed = 0;  // ran and produced a value
  // failed: ran and threw (cpu: also crashed, a result too large, or
  // arguments too large or unencodable, refused before they were queued)
  std::uint64_t failed = 0;
  std::uint64_t cancelled = 0;  // cancelled, or dropped at shutdown
  std::uint64_t timed_out = 0;  // (cpu) stopped at their timeout
  std::uint64_t queued = 0;     // waiting now
  std::uint64_t running = 0;    // running now
  latency_histogram queue_wait;
  latency_histogram run_time;
};

struct io_lane_metrics : lane_metrics {
  unsigned threads = 0;
  std::uint64_t steals = 0;  // tasks a worker took from another's deque
  std::uint64_t parks = 0;   // times a worker went to sleep for lack of work
};

struct blocking_metrics : lane_metrics {
  unsigned threads = 0;  // alive now
};

struct cpu_lane_metrics : lane_metrics {
  unsigned workers = 0;        // configured
  unsigned workers_alive = 0;  // running a task or ready for one
  // Workers replaced, by cause.
  std::uint64_t restarts_crash = 0;    // died on their own (signal or exit)
  std::uint64_t restarts_timeout = 0;  // killed at a task's timeout
  std::uint64_t restarts_cancel = 0;   // killed by cancel(kill_running) or shutdown(cancel)
  std::uint64_t restarts_recycle = 0;  // retired: max_tasks_per_worker or max_worker_rss
};

struct metrics_snapshot {
  static constexpr unsigned io_sample_every = 64;
  io_lane_metrics io;
  blocking_metrics blocking;
  cpu_lane_metrics cpu;
};

// to_prometheus() writes `snapshot` in the Prometheus text exposition
// format (version 0.0.4), every name prefixed with `prefix` ("tandem_...").
// Numbers are written in the shortest form that reads back exactly
// (le="1e-06"), whole numbers with every digit (1000000). A histogram's
// _count is its count, which in a snapshot from runtime::metrics() equals
// its le="+Inf" bucket, as the format requires. Throws tandem::error
// naming `prefix` unless it is a valid start of a metric name:
// [a-zA-Z_:][a-zA-Z0-9_:]*.
std::string to_prometheus(const metrics_snapshot& snapshot, const std::string& prefix = "tandem");

}  // namespace tandem

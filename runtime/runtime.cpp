#include "tandem/runtime.hpp"

#include <algorithm>
#include <cstring>
#include <string>
#include <thread>

#include "runtime/process_runner.hpp"
#include "runtime/scheduler.hpp"
#include "runtime/thread_scheduling.hpp"
#include "tandem/io_executor.hpp"

namespace tandem {

namespace {

// check_thread_slice() refuses a slice the kernel would not take as it is.
void check_thread_slice(std::chrono::microseconds slice) {
  using namespace std::chrono_literals;
  if (slice != 0us && (slice < 100us || slice > 100ms))
    throw error("runtime_options::thread_slice is " + std::to_string(slice.count()) +
                " us: give 100 us to 100 ms (100000 us), or 0 for the kernel's default slice");
}

// check_realtime_priority() refuses a priority SCHED_RR has not, or one
// the kernel would not give this process's threads.
void check_realtime_priority(int priority) {
  const std::string option =
      "runtime_options::realtime_priority is " + std::to_string(priority) + ": ";
  if (priority < 0 || priority > 99)
    throw error(option + "give 1 to 99 (SCHED_RR), or 0 for ordinary scheduling");
  if (priority == 0) return;
  if (const int refusal = detail::realtime_refusal(priority); refusal != 0)
    throw error(option + "the kernel refuses SCHED_RR at that priority here (" +
                std::strerror(refusal) +
                "): it needs CAP_SYS_NICE or an RLIMIT_RTPRIO at least that high, and "
                "real-time time in the process's cgroup; or give 0");
}

// check_limits() refuses limits that mean nothing.
void check_limits(const runtime_options& options) {
  if (options.max_blocking_threads == 0)
    throw error("runtime_options::max_blocking_threads is 0: give at least 1");
  if (options.blocking_idle_timeout.count() < 0)
    throw error("runtime_options::blocking_idle_timeout is negative (" +
                std::to_string(options.blocking_idle_timeout.count()) + " ms)");
  if (options.default_timeout.count() < 0)
    throw error("runtime_options::default_timeout is negative (" +
                std::to_string(options.default_timeout.count()) + " ns): give 0 for no limit");
}

runtime_options with_defaults(runtime_options options) {
  check_thread_slice(options.thread_slice);
  check_realtime_priority(options.realtime_priority);
  check_limits(options);
  if (options.io_threads == 0)
    options.io_threads = std::max(1u, std::thread::hardware_concurrency());
  if (options.cpu_workers == 0)
    options.cpu_workers = std::max(1u, std::thread::hardware_concurrency());
  return options;
}

}  // namespace

runtime::runtime() : runtime(runtime_options{}) {}

runtime::runtime(const runtime_options& options)
    : scheduler_(std::make_unique<detail::scheduler>(with_defaults(options))),
      id_(scheduler_->id()) {}

runtime::~runtime() { scheduler_->shutdown(shutdown_mode::drain); }

void runtime::shutdown(shutdown_mode mode) { scheduler_->shutdown(mode); }

tandem::io_executor runtime::io_executor() const {
  return tandem::io_executor(*scheduler_, scheduler_->id());
}

boost::asio::io_context& runtime::io_context() const { return scheduler_->io_context(); }

future<process_result> runtime::run_process(std::vector<std::string> args,
                                            process_options options) {
  return detail::start_process(*scheduler_, id_, std::move(args), std::move(options));
}

std::vector<pid_t> runtime::cpu_worker_pids() const { return scheduler_->cpu().worker_pids(); }

metrics_snapshot runtime::metrics() const { return scheduler_->metrics(); }

void runtime::start_trace() { scheduler_->trace().start(); }

void runtime::stop_trace(const std::string& path) { scheduler_->trace().stop(path); }

const runtime_options& runtime::options() const noexcept { return scheduler_->options(); }

}  // namespace tandem

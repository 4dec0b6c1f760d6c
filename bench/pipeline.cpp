// bench/pipeline — logstats (examples/logstats) on generated web-server
// access logs: tandem's job pipeline vs the plain loop vs the same
// pipeline in Python (see shared/BENCH.md for the harness's rules).
//
//   logstats   500 MiB of logs (32 MiB with --quick), generated once into a
//              temporary directory that is removed at exit (on Ctrl-C and
//              SIGTERM too), and analyzed
//              whole by each implementation; mib_per_s.
//     tandem      logstats' pipeline: 8 MiB chunks read into a reused
//                 tandem::shared_buffer (io_blocking), parsed in place in
//                 2 worker processes (cpu), merged (io).
//     loop        each file read whole and parsed, in this thread.
//     threads     the loop on 2 threads of this process, each taking the
//                 next file whole until none is left, their stats merged
//                 at the end: no chunks, copies or messages. It is what
//                 these 2 cores give this work at most, so threads/loop is
//                 the machine's ceiling for any 2-way split (printed in the
//                 notes; these VMs' two vCPUs are not always equal).
//     python_ppe  peers/python_logstats.py on the first 64 MiB (16 MiB with
//                 --quick): chunks read in Python, parsed in a
//                 ProcessPoolExecutor of 2 workers, merged.
// Every repetition is checked: tandem's and the loop's stats must equal a
// reference pass of the loop's, and the Python peer's counts its. The
// notes add how many cores each C++ implementation kept busy: on a shared
// machine (Linux groups each session's processes for the scheduler) the
// pipeline may get no more CPU than the loop.
// Targets (issue 5): tandem >= 1.8x the loop on 2 cores, >= 5x python_ppe.
#include <fcntl.h>
#include <signal.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "analyze.hpp"
#include "harness.hpp"
#include "log_generator.hpp"
#include "python_peer.hpp"
#include "tandem/tandem.hpp"

namespace {

using tandem::bench::better;
using tandem::bench::figures;
using tandem::bench::implementation;
using clock_type = std::chrono::steady_clock;

constexpr unsigned workers = 2;  // the targets are for 2 cores
constexpr std::uint64_t seed = 1;

struct sizes {
  std::uint64_t mib;
  std::size_t python_files;  // of 16 MiB each
};
// Python gets fewer: at well under 20 MiB/s, 500 MiB would take half a
// minute a repetition. Rates are compared.
constexpr sizes full_sizes{500, 4};
constexpr sizes quick_sizes{32, 1};

// scratch_dir is a fresh directory under the system's temporary one,
// removed with everything in it when the scratch_dir is destroyed (also
// when the benchmark fails: guarded_main unwinds first).
class scratch_dir {
 public:
  scratch_dir() : path_(make()) {}
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
  ~scratch_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }

  const std::string& path() const { return path_; }

 private:
  static std::string make() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "tandem-bench-pipeline-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr)
      throw std::system_error(errno, std::generic_category(), "mkdtemp " + pattern);
    return pattern;
  }

  std::string path_;
};

// interrupt_cleanup makes SIGINT (Ctrl-C) and SIGTERM remove `dir`, which
// holds half a GiB of logs in a full run, before the benchmark dies of the
// signal as it would have (a Python peer dies with it: python_peer.hpp). The
// handler only writes the signal's number to a pipe (async-signal-safe); a
// thread of its own reads it, stops the runtime's tasks so that no worker
// writes a log into `dir` any more, removes `dir` and raises the signal
// again at its default action. A second signal while the tasks stop (the
// user who presses Ctrl-C again means "now") waits no longer for them: the
// benchmark dies at once, `dir` removed, its workers with it.
class interrupt_cleanup {
 public:
  interrupt_cleanup(tandem::runtime& rt, std::string dir) {
    int ends[2];
    if (::pipe2(ends, O_CLOEXEC) != 0)
      throw std::system_error(errno, std::generic_category(), "pipe2");
    read_end_ = ends[0];
    write_end = ends[1];
    watcher_ = std::thread([this, &rt, dir = std::move(dir)] { watch(rt, dir); });
    for (const int signal : handled) catch_unless_ignored(signal, on_signal);
  }
  interrupt_cleanup(const interrupt_cleanup&) = delete;
  interrupt_cleanup& operator=(const interrupt_cleanup&) = delete;
  // The watcher is told to end before the handlers go: this thread unwinds
  // here also when a first signal's cleanup cancelled its tasks, and the
  // handlers must then stay, or a second signal would kill the benchmark
  // before `dir` is removed. (A signal after the watcher ended and before
  // the handlers go is lost; the benchmark is ending, and scratch_dir
  // removes `dir`.)
  ~interrupt_cleanup() {
    send(stop_watching);
    watcher_.join();
    for (const int signal : handled) catch_unless_ignored(signal, SIG_DFL);
    ::close(read_end_);
    ::close(write_end);
  }

 private:
  static constexpr int handled[] = {SIGINT, SIGTERM};
  // What the pipe carries besides the numbers of the signals.
  static constexpr unsigned char stop_watching = 0;
  static constexpr unsigned char tasks_stopped = 255;

  // A signal ignored from the start stays so: a shell starts a background
  // job with SIGINT ignored, so that Ctrl-C meant for the foreground spares it.
  static void catch_unless_ignored(int signal, void (*handler)(int)) {
    struct sigaction action {};
    if (::sigaction(signal, nullptr, &action) == 0 && action.sa_handler == SIG_IGN) return;
    action = {};
    action.sa_handler = handler;
    action.sa_flags = SA_RESTART;  // the benchmark's reads and waits go on
    ::sigaction(signal, &action, nullptr);
  }

  static void on_signal(int signal) {
    const int saved_errno = errno;
    send(static_cast<unsigned char>(signal));
    errno = saved_errno;
  }

  static void send(unsigned char message) {
    [[maybe_unused]] const auto ignored = ::write(write_end, &message, 1);
  }

  unsigned char next_message() const {
    unsigned char message = stop_watching;
    while (::read(read_end_, &message, 1) < 0 && errno == EINTR) {
    }
    return message;
  }

  void watch(tandem::runtime& rt, const std::string& dir) const {
    const unsigned char signal = next_message();
    if (signal == stop_watching) return;
    stop_tasks(rt);
    remove_while_written(dir);
    std::signal(signal, SIG_DFL);
    std::raise(signal);
  }

  // remove_while_written() removes `dir`, trying again for up to a second:
  // after a second signal the workers may still be writing into it, and a
  // file made during the walk leaves the directory standing.
  static void remove_while_written(const std::string& dir) {
    for (int tries = 0; tries < 50; ++tries) {
      std::error_code left;  // set while the directory stands
      std::filesystem::remove_all(dir, left);
      if (!left) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  // stop_tasks() returns once the runtime's cancel has (it kills the
  // workers that run tasks and starts none: no worker writes into `dir` any
  // more), or at once when a second signal comes first. The cancel runs on
  // a thread of its own, so that the watcher hears that signal; the process
  // dies of the first signal before that thread could outlive what it uses.
  void stop_tasks(tandem::runtime& rt) const {
    std::thread([&rt] {
      rt.shutdown(tandem::cancel);
      send(tasks_stopped);
    }).detach();
    for (unsigned char message; (message = next_message()) != tasks_stopped;) {
      // The main thread unwinds (the cancel failed what it waited for) and
      // its ~interrupt_cleanup() waits for this thread: go on waiting.
      if (message != stop_watching) return;
    }
  }

  static inline int write_end = -1;  // the handler's, hence static
  int read_end_ = -1;
  std::thread watcher_;
};

// cpu_seconds() is the CPU time used so far by this process (its threads,
// ended ones included) and by the processes `others`, whose threads are
// read from the kernel's per-thread schedstat (nanoseconds).
double cpu_seconds(const std::vector<pid_t>& others) {
  timespec own{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &own);
  double total = static_cast<double>(own.tv_sec) + static_cast<double>(own.tv_nsec) / 1e9;
  for (const pid_t pid : others) {
    std::error_code gone;  // a process or thread that ended meanwhile counts nothing
    for (const auto& task :
         std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", gone)) {
      std::ifstream stat(task.path() / "schedstat");
      double nanoseconds = 0;
      if (stat >> nanoseconds) total += nanoseconds / 1e9;
    }
  }
  return total;
}

// thread_split is the loop on a few threads of this process: each takes
// the next file until none is left (so a slower core takes fewer), reads
// it whole into a buffer of its own and parses it, and the stats are
// merged once all are done. The buffers are made and touched once, as the
// loop's are kept by malloc (keep_freed_buffers), so that no repetition
// pays page faults that the loop does not.
class thread_split {
 public:
  thread_split(const std::vector<std::string>& files, unsigned threads) : files_(files) {
    for (const auto& file : files)
      buffer_bytes_ = std::max<std::size_t>(buffer_bytes_, std::filesystem::file_size(file));
    for (unsigned i = 0; i < threads; ++i) {
      buffers_.push_back(std::make_unique_for_overwrite<char[]>(buffer_bytes_));
      std::fill_n(buffers_.back().get(), buffer_bytes_, '\0');
    }
  }

  logstats::log_stats run() const {
    std::atomic<std::size_t> next{0};
    std::vector<logstats::log_stats> parts(buffers_.size());
    {
      std::vector<std::jthread> team;
      for (std::size_t t = 0; t < parts.size(); ++t)
        team.emplace_back([&, t] {
          // counted in a local first: parts[t] shares cache lines with parts[t + 1]
          const std::span<char> buffer(buffers_[t].get(), buffer_bytes_);
          logstats::log_stats part;
          for (std::size_t i; (i = next.fetch_add(1)) < files_.size();) {
            const logstats::chunk_ref whole{files_[i], 0, std::filesystem::file_size(files_[i])};
            logstats::parse_into(part, {buffer.data(), logstats::read_chunk(whole, buffer)});
          }
          parts[t] = std::move(part);
        });
    }
    logstats::log_stats total;
    for (const auto& part : parts) total.merge(part);
    return total;
  }

 private:
  const std::vector<std::string>& files_;
  std::size_t buffer_bytes_ = 0;
  std::vector<std::unique_ptr<char[]>> buffers_;
};

// analysis is one way to compute the stats, timed and checked by run_once():
// its speed, how many cores this process and the runtime's workers kept
// busy meanwhile, and the CPU time that cost per MiB (kept for the notes:
// on a shared machine the speed-up of the pipeline is bounded by the cores
// it gets, and the CPU per MiB shows what its processes add to the work).
struct analysis {
  const char* impl;
  std::function<logstats::log_stats()> analyze;
  std::vector<double> rates{};
  std::vector<double> cores{};
  std::vector<double> cpu_ms_per_mib{};

  figures run_once(tandem::runtime& rt, double mib, const logstats::log_stats& expected) {
    const std::vector<pid_t> workers = rt.cpu_worker_pids();
    const double cpu_before = cpu_seconds(workers);
    const auto start = clock_type::now();
    const logstats::log_stats got = analyze();
    const double seconds = std::chrono::duration<double>(clock_type::now() - start).count();
    const double cpu = cpu_seconds(workers) - cpu_before;
    if (!(got == expected))
      throw std::runtime_error(std::string(impl) + ": stats differ from the reference pass");
    rates.push_back(mib / seconds);
    cores.push_back(cpu / seconds);
    cpu_ms_per_mib.push_back(cpu * 1e3 / mib);
    return {{"mib_per_s", rates.back()}};
  }
};

// python_args() name the data, how many files the Python peer reads, its
// pool's size, and the counts it must reach on those files.
std::vector<std::string> python_args(const std::string& dir, const std::vector<std::string>& files,
                                     std::size_t first) {
  const auto expected = logstats::analyze_sequentially({files.begin(), files.begin() + first});
  return {dir,
          std::to_string(first),
          std::to_string(workers),
          std::to_string(expected.lines),
          std::to_string(expected.malformed),
          std::to_string(expected.bytes_sent)};
}

// median_ratio() is the median over repetitions of a's rate over b's.
double median_ratio(const analysis& a, const analysis& b) {
  std::vector<double> ratios;
  for (std::size_t i = 0; i < std::min(a.rates.size(), b.rates.size()); ++i)
    ratios.push_back(a.rates[i] / b.rates[i]);
  return ratios.empty() ? 0 : tandem::bench::median(ratios);
}

const analysis& way_named(const std::vector<analysis>& ways, std::string_view impl) {
  return *std::find_if(ways.begin(), ways.end(),
                       [&](const analysis& way) { return way.impl == impl; });
}

// print_median() prints " impl value" for each way (median over its
// repetitions; ways --only left out have none).
void print_median(const std::vector<analysis>& ways, std::vector<double> analysis::*figure) {
  for (const auto& way : ways)
    if (!(way.*figure).empty())
      std::printf(" %s %.2f", way.impl, tandem::bench::median(way.*figure));
  std::printf("\n");
}

void print_notes(double mib, std::size_t files, std::size_t python_files,
                 const std::vector<analysis>& ways) {
  std::printf(
      "notes:\n  logstats: %.1f MiB in %zu files of 16 MiB; the Python peer reads the first %zu "
      "(rates compare)\n",
      mib, files, python_files);
  std::printf("  cores kept busy (CPU time / wall time, median):");
  print_median(ways, &analysis::cores);
  std::printf("  CPU ms per MiB (this process and the cpu workers, median):");
  print_median(ways, &analysis::cpu_ms_per_mib);
  std::printf(
      "  the ceiling of a %u-way split on this machine now: threads vs loop %.3f (median of "
      "per-repetition ratios)\n",
      workers, median_ratio(way_named(ways, "threads"), way_named(ways, "loop")));
}

int run(int argc, char** argv) {
  tandem::bench::harness h("pipeline",
                           tandem::bench::parse_options(argc, argv, "pipeline", {"logstats"}));
  const sizes& sz = h.opts().quick ? quick_sizes : full_sizes;
  logstats::keep_freed_buffers();  // before the runtime: its workers inherit it
  tandem::runtime rt{logstats::runtime_options_for(workers)};
  const scratch_dir data;
  const interrupt_cleanup on_interrupt(rt, data.path());
  const auto files = logstats::generate_logs(rt, data.path(), sz.mib, seed);
  const double mib = static_cast<double>(logstats::total_bytes(files)) / (1u << 20);
  const logstats::log_stats expected = logstats::analyze_sequentially(files);
  logstats::chunk_pool pool = logstats::make_chunk_pool(rt);
  logstats::warm_up(rt, pool);

  const thread_split split(files, workers);
  std::vector<analysis> ways{
      {"tandem",
       [&] {
         auto chunks = logstats::plan_chunks(files, logstats::chunk_bytes);
         return logstats::analyze_with_pipeline(rt, pool, std::move(chunks), {}).stats;
       }},
      {"loop", [&] { return logstats::analyze_sequentially(files); }},
      {"threads", [&] { return split.run(); }},
  };
  std::vector<implementation> impls;
  for (auto& way : ways)
    impls.push_back({way.impl, [&] { return way.run_once(rt, mib, expected); }});
  const std::size_t python_files = std::min(sz.python_files, files.size());
  tandem::bench::add_python(h, impls, "python_ppe", "python_logstats.py",
                            python_args(data.path(), files, python_files));
  h.run_workload("logstats", {{"mib_per_s", better::higher}}, impls);
  const int rc = h.finish();
  print_notes(mib, files.size(), python_files, ways);
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  return tandem::bench::guarded_main("pipeline", [&] { return run(argc, argv); });
}

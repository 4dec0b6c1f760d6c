// harness.hpp — the shared frame of every benchmark under bench/.
//
// A benchmark names its workloads and, for each, the implementations to
// compare ("tandem" first, then its peers). run_workload() runs them
// interleaved (A B C A B C ...) after one warm-up round, so machine noise
// hits every implementation alike, and keeps every repetition. finish()
// prints the table and the ratios, and writes the JSON described in
// shared/BENCH.md when --json was given. A ratio above 1.0 always means
// tandem is ahead.
#pragma once

#include <cstdio>
#include <exception>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace tandem::bench {

enum class better { higher, lower };

struct metric {
  std::string name;  // unit in the name: "tasks_per_s", "p99_us", "ms"
  better direction;
};

// One repetition's figures, metric name -> value.
using figures = std::map<std::string, double>;

struct implementation {
  std::string name;
  std::function<figures()> run_once;
};

struct options {
  bool quick = false;                  // a few seconds in all: proves the binary works
  std::string json_path;               // empty: no JSON file
  int repetitions = 5;                 // counted repetitions after the warm-up
  std::vector<std::string> only;       // --only W1,W3: run just these workloads
  std::vector<std::string> workloads;  // every workload the benchmark runs
};

// parse_options() reads --quick, --json FILE, --reps N and --only LIST (a
// comma-separated list of names among `workloads`, which the benchmark runs
// in that order). --help (-h) prints usage and the workloads on stdout and
// exits(0); anything else, a workload not among `workloads` included, is
// refused with a message and exit(2), before any work.
options parse_options(int argc, char** argv, const std::string& bench_name,
                      std::vector<std::string> workloads);

class harness {
 public:
  harness(std::string bench_name, options opts);

  const options& opts() const { return opts_; }

  // skip() records a peer that cannot run here (not installed, say) and
  // prints why; it is never faked.
  void skip(const std::string& impl, const std::string& why);

  // selected() is whether --only leaves `workload` in; a workload not
  // named to parse_options() is a bug of the benchmark (std::logic_error).
  bool selected(const std::string& workload) const;
  // run_workload() runs every implementation interleaved; the first one is
  // the implementation the ratios are taken for (tandem). A workload left
  // out by --only is skipped with a line saying so.
  void run_workload(const std::string& workload, const std::vector<metric>& metrics,
                    const std::vector<implementation>& impls);

  // finish() prints the table and ratios, writes JSON if asked; returns the
  // process exit code: 1, having said why, when the JSON cannot be written.
  int finish();

 private:
  struct series {
    std::string workload, impl;
    metric what;
    std::vector<double> values;
  };
  struct ratio {
    std::string workload, metric, impl, vs;
    double median;
  };

  void print_table() const;
  std::string json() const;
  void add_ratios(const std::string& workload, const std::vector<metric>& metrics,
                  const std::vector<implementation>& impls);
  const series* find(const std::string& workload, const std::string& impl,
                     const std::string& metric) const;

  std::string name_;
  options opts_;
  std::vector<series> results_;
  std::vector<ratio> ratios_;
};

// guarded_main() is a benchmark's main: it returns run()'s exit code, or
// prints an escaping exception (a wrong result, a failed peer) and returns
// 1 once the stack has unwound, so every peer process was ended and reaped.
template <class Run>
int guarded_main(const char* bench_name, Run&& run) {
  try {
    return run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", bench_name, e.what());
    return 1;
  }
}

// median() of a non-empty sample (copied, then partially sorted).
double median(std::vector<double> values);

// percentile() with p in [0, 100], nearest rank, of a non-empty sample.
double percentile(std::vector<double> values, double p);

}  // namespace tandem::bench

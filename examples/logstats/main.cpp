// logstats — a job pipeline on real work: web-server access logs in,
// a report out (status codes, busiest paths, latency percentiles).
//
//   logstats --generate DIR --mib N [--seed S]    write N MiB of logs into DIR
//   logstats DIR [--check] [--workers N] [--report FILE]
//
// The analysis runs as a tandem pipeline — read chunks (io), parse them in
// worker processes (cpu), merge (io), write the report (io) — and then as a
// plain single-threaded loop, and prints both wall times. --check also
// compares the two reports and fails when they differ.
#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <utility>

#include <tandem/tandem.hpp>

#include "analyze.hpp"
#include "log_generator.hpp"
#include "progress_bar.hpp"
#include "report.hpp"

namespace {

using stopwatch = std::chrono::steady_clock;

struct options {
  std::string dir;
  bool generate = false;
  std::uint64_t mib = 0;
  std::uint64_t seed = 1;
  bool check = false;
  unsigned workers = 0;  // 0: one per core
  std::string report;    // default: DIR/report.txt
};

[[noreturn]] void usage(const char* problem) {
  std::fprintf(stderr,
               "logstats: %s\n"
               "usage: logstats --generate DIR --mib N [--seed S]\n"
               "       logstats DIR [--check] [--workers N] [--report FILE]\n",
               problem);
  std::exit(2);
}

std::uint64_t count_arg(int& i, int argc, char** argv) {
  if (++i >= argc) usage("a number is missing");
  char* end = nullptr;
  const auto value = std::strtoull(argv[i], &end, 10);
  if (*end != '\0' || end == argv[i]) usage("not a number");
  return value;
}

std::string text_arg(int& i, int argc, char** argv) {
  if (++i >= argc) usage("an argument is missing");
  return argv[i];
}

options parse_options(int argc, char** argv) {
  options opts;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--generate") {
      opts.generate = true;
      opts.dir = text_arg(i, argc, argv);
    } else if (arg == "--mib") {
      opts.mib = count_arg(i, argc, argv);
    } else if (arg == "--seed") {
      opts.seed = count_arg(i, argc, argv);
    } else if (arg == "--check") {
      opts.check = true;
    } else if (arg == "--workers") {
      opts.workers = static_cast<unsigned>(count_arg(i, argc, argv));
    } else if (arg == "--report") {
      opts.report = text_arg(i, argc, argv);
    } else if (!arg.starts_with("--") && opts.dir.empty()) {
      opts.dir = arg;
    } else {
      usage(("unknown argument " + std::string(arg)).c_str());
    }
  }
  if (opts.dir.empty()) usage("no directory given");
  if (opts.generate && opts.mib == 0) usage("--generate needs --mib N (N > 0)");
  if (opts.report.empty()) opts.report = opts.dir + "/report.txt";
  return opts;
}

double seconds_since(stopwatch::time_point start) {
  return std::chrono::duration<double>(stopwatch::now() - start).count();
}

int generate(tandem::runtime& rt, const options& opts) {
  const auto start = stopwatch::now();
  const auto files = logstats::generate_logs(rt, opts.dir, opts.mib, opts.seed);
  std::printf("logstats: wrote %" PRIu64 " MiB of access logs in %zu files to %s in %.2f s\n",
              opts.mib, files.size(), opts.dir.c_str(), seconds_since(start));
  return 0;
}

// timed_report is a report and how long it took to make.
struct timed_report {
  logstats::log_stats stats;
  std::string text;
  double seconds = 0;
  std::vector<tandem::stage_summary> stages;  // the pipeline's only
};

timed_report by_pipeline(tandem::runtime& rt, logstats::chunk_pool& pool,
                         const std::vector<std::string>& files, const options& opts) {
  logstats::progress_bar bar("chunks");
  const auto start = stopwatch::now();
  auto [stats, summary] = logstats::analyze_with_pipeline(
      rt, pool, logstats::plan_chunks(files, logstats::chunk_bytes), bar.callback());
  std::string text = logstats::format_report(stats, 50);
  rt.submit(tandem::io_blocking, [&] { logstats::write_report(opts.report, text); }).get();
  return {std::move(stats), std::move(text), seconds_since(start), std::move(summary.stages)};
}

timed_report by_loop(const std::vector<std::string>& files) {
  const auto start = stopwatch::now();
  auto stats = logstats::analyze_sequentially(files);
  std::string text = logstats::format_report(stats, 50);
  return {std::move(stats), std::move(text), seconds_since(start), {}};
}

void print_stages(const std::vector<tandem::stage_summary>& stages) {
  std::printf("  stages (time items spent in each, summed):");
  for (const auto& stage : stages)
    std::printf(" %s %.2f s,", stage.name.c_str(),
                std::chrono::duration<double>(stage.busy).count());
  std::printf(" %" PRIu64 " chunks\n", stages.back().items_out);
}

int analyze(tandem::runtime& rt, const options& opts) {
  const auto files = logstats::list_logs(opts.dir);
  if (files.empty()) usage(("no *.log files in " + opts.dir).c_str());
  const double mib = static_cast<double>(logstats::total_bytes(files)) / (1u << 20);
  // An untimed round just before each timed one, the pipeline's over as
  // many chunks as its pool has slots and the loop's on the first file:
  // both start from memory every process has touched just before, as in a
  // long-running program.
  logstats::chunk_pool pool = logstats::make_chunk_pool(rt);
  logstats::warm_up(rt, pool);
  auto warm_chunks = logstats::plan_chunks(files, logstats::chunk_bytes);
  warm_chunks.resize(std::min(warm_chunks.size(), pool.slots()));
  logstats::analyze_with_pipeline(rt, pool, std::move(warm_chunks), {});
  const timed_report pipeline = by_pipeline(rt, pool, files, opts);
  logstats::analyze_sequentially({files[0]});
  const timed_report loop = by_loop(files);
  std::printf("logstats: %.1f MiB in %zu files\n%s", mib, files.size(),
              logstats::format_report(pipeline.stats, 10).c_str());
  std::printf("report: %s\n", opts.report.c_str());
  const std::string lanes = "pipeline (" + std::to_string(rt.options().cpu_workers) +
                            " cpu workers, " + std::to_string(rt.options().io_threads) +
                            " io threads):";
  std::printf("%-42s %6.2f s  %7.1f MiB/s\n", lanes.c_str(), pipeline.seconds,
              mib / pipeline.seconds);
  print_stages(pipeline.stages);
  std::printf("%-42s %6.2f s  %7.1f MiB/s\n", "single-threaded loop:", loop.seconds,
              mib / loop.seconds);
  std::printf("speed-up: %.2fx\n", loop.seconds / pipeline.seconds);
  if (!opts.check) return 0;
  const bool same = pipeline.stats == loop.stats && pipeline.text == loop.text;
  std::printf("check: %s\n", same ? "the sequential report matches the pipeline's"
                                  : "MISMATCH between the pipeline and the sequential loop");
  return same ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const options opts = parse_options(argc, argv);
  logstats::keep_freed_buffers();
  try {
    tandem::runtime rt{logstats::runtime_options_for(opts.workers)};
    return opts.generate ? generate(rt, opts) : analyze(rt, opts);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "logstats: %s\n", e.what());
    return 1;
  }
}

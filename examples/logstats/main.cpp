// logstats — a job pipeline on real work: web-server access logs in,
// a report out (status codes, busiest paths, latency percentiles).
//
//   logstats --generate DIR --mib N [--seed S]    write N MiB of logs into DIR
//   logstats DIR [--check] [--workers N] [--report FILE]
//   logstats --help                               every option
//
// The analysis runs as a tandem pipeline — read chunks (io), parse them in
// worker processes (cpu), merge (io), write the report (io) — and then as a
// plain single-threaded loop, and prints both wall times. --check also
// compares the two reports and fails when they differ.
#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include <tandem/tandem.hpp>

#include "analyze.hpp"
#include "common/command_line.hpp"
#include "log_generator.hpp"
#include "progress_bar.hpp"
#include "report.hpp"
#include "whole_file.hpp"

namespace {

using stopwatch = std::chrono::steady_clock;

// Past these a run asks more of a machine than an example should: the
// generator writes up to 1 TiB, and each worker is a process that reads
// the whole chunk pool (32 MiB per core) before the timed runs.
constexpr std::uint64_t max_mib = std::uint64_t{1} << 20;
constexpr unsigned max_workers = 256;

struct options {
  std::string dir;
  bool generate = false;
  std::uint64_t mib = 0;
  std::uint64_t seed = 1;
  bool check = false;
  unsigned workers = 0;  // 0: one per core
  std::string report;    // default: DIR/report.txt
  bool help = false;
};

using examples::usage_error;
using examples::whole_number;

std::string_view value_of(int& i, int argc, const char* const* argv) {
  if (i + 1 == argc) throw usage_error(std::string(argv[i]) + " needs a value");
  return argv[++i];
}

options parse_options(int argc, const char* const* argv) {
  options opts;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--generate") {
      opts.generate = true;
      opts.dir = value_of(i, argc, argv);
    } else if (arg == "--mib") {
      opts.mib = whole_number(arg, value_of(i, argc, argv), 1, max_mib);
    } else if (arg == "--seed") {
      opts.seed = whole_number(arg, value_of(i, argc, argv), 0, UINT64_MAX);
    } else if (arg == "--check") {
      opts.check = true;
    } else if (arg == "--workers") {
      opts.workers = unsigned(whole_number(arg, value_of(i, argc, argv), 0, max_workers));
    } else if (arg == "--report") {
      opts.report = value_of(i, argc, argv);
    } else if (arg == "--help" || arg == "-h") {
      opts.help = true;
    } else if (!arg.starts_with("-") && opts.dir.empty()) {
      opts.dir = arg;
    } else {
      throw usage_error("unknown argument '" + std::string(arg) + "'");
    }
  }
  if (opts.help) return opts;
  if (opts.dir.empty()) throw usage_error("no directory given");
  if (opts.generate && opts.mib == 0) throw usage_error("--generate needs --mib N");
  if (opts.report.empty()) opts.report = opts.dir + "/report.txt";
  return opts;
}

const char* const usage = R"(usage: logstats --generate DIR --mib N [--seed S] [--workers N]
       logstats DIR [--check] [--workers N] [--report FILE]
Web-server access logs in, a report out (status codes, busiest paths, latency
percentiles): computed by a tandem pipeline (chunks read on the io lane,
parsed in worker processes), then by a plain single-threaded loop, with both
wall times printed.

  --generate DIR   write N MiB of generated logs into DIR as access-NNN.log,
                   first removing the access-NNN.log files already there
                   (each is written as access-NNN.log.partial, renamed whole)
  --mib N          how much to generate: 1 to 1048576 (MiB)
  --seed S         the generator's seed (default 1): the same N and S give the same bytes
  DIR              analyze every *.log file in DIR
  --check          also compare the two reports; exit 1 if they differ
  --workers N      cpu worker processes: 0 to 256 (default 0: one per core)
  --report FILE    where the full report goes (default DIR/report.txt); checked
                   before the analysis, written as FILE.partial and renamed once
                   whole (so it must be a regular file where it exists)
  --help           this text
)";

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
  if (files.empty()) throw std::runtime_error("no *.log files in " + opts.dir);
  // Checked before the analysis, which may take minutes, and without
  // blocking: a path that is not, and cannot become, a regular file is
  // refused at once. The report is written beside it and renamed over it,
  // so that a failed run leaves no empty or cut-short report; a FIFO or a
  // device would be replaced rather than written to, and opening a FIFO to
  // check it would wait for a reader.
  logstats::check_whole_file(opts.report);
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

int run(const options& opts) {
  logstats::keep_freed_buffers();
  tandem::runtime rt{logstats::runtime_options_for(opts.workers)};
  return opts.generate ? generate(rt, opts) : analyze(rt, opts);
}

}  // namespace

int main(int argc, char** argv) {
  return examples::command_line_main("logstats", argc, argv, parse_options, usage, run);
}

#include "harness.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace tandem::bench {

namespace {

std::string joined(const std::vector<std::string>& names) {
  std::string list;
  for (const auto& name : names) list += (list.empty() ? "" : ",") + name;
  return list;
}

// usage() goes to stdout with status 0 when asked for (--help), else to
// stderr with status 2.
[[noreturn]] void usage(const std::string& bench_name, const std::vector<std::string>& workloads,
                        int status) {
  std::fprintf(status == 0 ? stdout : stderr,
               "usage: %s [--quick] [--json FILE] [--reps N] [--only WORKLOAD,...]\n"
               "workloads: %s\n",
               bench_name.c_str(), joined(workloads).c_str());
  std::exit(status);
}

// refuse() names what is wrong with the arguments, then the usage.
[[noreturn]] void refuse(const std::string& bench_name, const std::vector<std::string>& workloads,
                         const std::string& what) {
  std::fprintf(stderr, "%s: %s\n", bench_name.c_str(), what.c_str());
  usage(bench_name, workloads, 2);
}

// json_problem() is why --json `path` could not be written when the run
// ends, or "": asked before the run, so that no run's figures are lost to
// a mistyped path.
std::string json_problem(const std::string& path) {
  std::error_code ignored;
  const std::filesystem::path target = std::filesystem::absolute(path, ignored);
  const std::filesystem::path folder = target.parent_path();
  if (!std::filesystem::is_directory(folder, ignored))
    return "no such directory " + folder.string();
  if (std::filesystem::is_directory(target, ignored)) return "a directory";
  // An existing file (or /dev/null) is opened for writing, a new one
  // created in its folder.
  if (std::filesystem::exists(target, ignored))
    return access(target.c_str(), W_OK) == 0 ? "" : "not writable";
  if (access(folder.c_str(), W_OK | X_OK) != 0) return folder.string() + " is not writable";
  return "";
}

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::vector<std::string> split_commas(const std::string& list) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t comma; (comma = list.find(',', start)) != std::string::npos; start = comma + 1)
    parts.push_back(list.substr(start, comma - start));
  parts.push_back(list.substr(start));
  return parts;
}

std::string json_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

// write_file() writes `text` to `path` whole: 0, or the errno of what
// failed (a full disk shows only when the data is flushed, at fclose).
int write_file(const std::string& path, const std::string& text) {
  std::FILE* file = std::fopen(path.c_str(), "w");
  if (file == nullptr) return errno;
  const bool written = std::fwrite(text.data(), 1, text.size(), file) == text.size();
  const int write_errno = errno;
  if (std::fclose(file) != 0 && written) return errno;
  return written ? 0 : write_errno;
}

}  // namespace

options parse_options(int argc, char** argv, const std::string& bench_name,
                      std::vector<std::string> workloads) {
  options opts;
  opts.workloads = std::move(workloads);
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      usage(bench_name, opts.workloads, 0);
    } else if (arg == "--quick") {
      opts.quick = true;
    } else if (arg == "--json" && i + 1 < argc) {
      opts.json_path = argv[++i];
    } else if (arg == "--reps" && i + 1 < argc) {
      opts.repetitions = std::atoi(argv[++i]);
      if (opts.repetitions < 1) refuse(bench_name, opts.workloads, "--reps needs a count above 0");
    } else if (arg == "--only" && i + 1 < argc) {
      opts.only = split_commas(argv[++i]);
      for (const auto& name : opts.only)
        if (!contains(opts.workloads, name))
          refuse(bench_name, opts.workloads, "unknown workload '" + name + "'");
    } else {
      refuse(bench_name, opts.workloads, "unknown or incomplete argument '" + arg + "'");
    }
  }
  if (const std::string problem = opts.json_path.empty() ? "" : json_problem(opts.json_path);
      !problem.empty())
    refuse(bench_name, opts.workloads, "--json " + opts.json_path + ": " + problem);
  if (opts.quick) opts.repetitions = std::min(opts.repetitions, 2);
  return opts;
}

double median(std::vector<double> values) { return percentile(std::move(values), 50); }

double percentile(std::vector<double> values, double p) {
  const double rank = std::ceil(p / 100.0 * static_cast<double>(values.size()));
  const std::size_t index = rank < 1 ? 0 : static_cast<std::size_t>(rank) - 1;
  const auto nth = values.begin() + static_cast<std::ptrdiff_t>(std::min(index, values.size() - 1));
  std::nth_element(values.begin(), nth, values.end());
  return *nth;
}

harness::harness(std::string bench_name, options opts)
    : name_(std::move(bench_name)), opts_(std::move(opts)) {
  std::printf("bench %s: %u cores, %d repetitions after one warm-up%s\n", name_.c_str(),
              std::thread::hardware_concurrency(), opts_.repetitions,
              opts_.quick ? " (quick: figures are not judged)" : "");
}

void harness::skip(const std::string& impl, const std::string& why) {
  std::printf("skipping %s: %s\n", impl.c_str(), why.c_str());
}

bool harness::selected(const std::string& workload) const {
  if (!contains(opts_.workloads, workload))
    throw std::logic_error("workload " + workload + " is not in the list given to parse_options");
  return opts_.only.empty() || contains(opts_.only, workload);
}

void harness::run_workload(const std::string& workload, const std::vector<metric>& metrics,
                           const std::vector<implementation>& impls) {
  if (!selected(workload)) {
    std::printf("skipping %s: not in --only\n", workload.c_str());
    return;
  }
  std::printf("running %s ...\n", workload.c_str());
  std::fflush(stdout);
  const std::size_t first = results_.size();
  for (const auto& impl : impls)
    for (const auto& m : metrics) results_.push_back({workload, impl.name, m, {}});
  for (int round = 0; round <= opts_.repetitions; ++round) {
    for (std::size_t i = 0; i < impls.size(); ++i) {
      const figures got = impls[i].run_once();
      if (round == 0) continue;  // warm-up
      for (std::size_t m = 0; m < metrics.size(); ++m) {
        const auto it = got.find(metrics[m].name);
        if (it != got.end()) results_[first + i * metrics.size() + m].values.push_back(it->second);
      }
    }
  }
  add_ratios(workload, metrics, impls);
}

const harness::series* harness::find(const std::string& workload, const std::string& impl,
                                     const std::string& metric) const {
  for (const auto& s : results_)
    if (s.workload == workload && s.impl == impl && s.what.name == metric) return &s;
  return nullptr;
}

void harness::add_ratios(const std::string& workload, const std::vector<metric>& metrics,
                         const std::vector<implementation>& impls) {
  if (impls.size() < 2) return;
  for (const auto& m : metrics) {
    const series* ours = find(workload, impls[0].name, m.name);
    for (std::size_t i = 1; i < impls.size(); ++i) {
      const series* peer = find(workload, impls[i].name, m.name);
      const std::size_t n = std::min(ours->values.size(), peer->values.size());
      if (n == 0) continue;
      std::vector<double> per_rep;
      for (std::size_t r = 0; r < n; ++r) {
        const double a = ours->values[r], b = peer->values[r];
        per_rep.push_back(m.direction == better::higher ? a / b : b / a);
      }
      ratios_.push_back({workload, m.name, impls[0].name, impls[i].name, median(per_rep)});
    }
  }
}

void harness::print_table() const {
  std::printf("\n%-16s %-14s %-18s %14s %14s %14s\n", "workload", "impl", "metric", "min", "median",
              "max");
  for (const auto& s : results_) {
    if (s.values.empty()) continue;
    const auto [lo, hi] = std::minmax_element(s.values.begin(), s.values.end());
    std::printf("%-16s %-14s %-18s %14.3f %14.3f %14.3f\n", s.workload.c_str(), s.impl.c_str(),
                s.what.name.c_str(), *lo, median(s.values), *hi);
  }
  std::printf("\nratios (median of per-repetition ratios; > 1.0 means %s is ahead)\n",
              ratios_.empty() ? "tandem" : ratios_.front().impl.c_str());
  for (const auto& r : ratios_)
    std::printf("%-16s %-18s %s vs %-14s %8.3f\n", r.workload.c_str(), r.metric.c_str(),
                r.impl.c_str(), r.vs.c_str(), r.median);
}

std::string harness::json() const {
  std::ostringstream out;
  out << "{\n  \"bench\": \"" << json_escape(name_)
      << "\",\n  \"cores\": " << std::thread::hardware_concurrency()
      << ",\n  \"quick\": " << (opts_.quick ? "true" : "false") << ",\n  \"results\": [";
  bool first = true;
  for (const auto& s : results_) {
    if (s.values.empty()) continue;
    const auto [lo, hi] = std::minmax_element(s.values.begin(), s.values.end());
    out << (first ? "\n" : ",\n") << "    {\"workload\": \"" << json_escape(s.workload)
        << "\", \"impl\": \"" << json_escape(s.impl) << "\", \"metric\": \""
        << json_escape(s.what.name) << "\", \"better\": \""
        << (s.what.direction == better::higher ? "higher" : "lower") << "\", \"min\": " << *lo
        << ", \"median\": " << median(s.values) << ", \"max\": " << *hi
        << ", \"reps\": " << s.values.size() << "}";
    first = false;
  }
  out << "\n  ],\n  \"ratios\": [";
  first = true;
  for (const auto& r : ratios_) {
    out << (first ? "\n" : ",\n") << "    {\"workload\": \"" << json_escape(r.workload)
        << "\", \"metric\": \"" << json_escape(r.metric) << "\", \"impl\": \""
        << json_escape(r.impl) << "\", \"vs\": \"" << json_escape(r.vs)
        << "\", \"median_ratio\": " << r.median << "}";
    first = false;
  }
  out << "\n  ]\n}\n";
  return out.str();
}

int harness::finish() {
  print_table();
  if (opts_.json_path.empty()) return 0;
  if (const int error = write_file(opts_.json_path, json()); error != 0) {
    std::fprintf(stderr, "%s: cannot write %s: %s\n", name_.c_str(), opts_.json_path.c_str(),
                 std::strerror(error));
    return 1;
  }
  std::printf("wrote %s\n", opts_.json_path.c_str());
  return 0;
}

}  // namespace tandem::bench

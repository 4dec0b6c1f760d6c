#include "report.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <utility>
#include <vector>

namespace logstats {

namespace {

// grouped() writes 1234567 as "1,234,567".
std::string grouped(std::uint64_t n) {
  const std::string digits = std::to_string(n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

template <class... A>
void append(std::string& out, const char* format, A... args) {
  char line[256];
  const int n = std::snprintf(line, sizeof line, format, args...);
  out.append(line, static_cast<std::size_t>(std::min<int>(n, sizeof line - 1)));
}

std::vector<std::pair<std::string, std::uint64_t>> busiest(const path_counts& paths,
                                                           std::size_t n) {
  std::vector<std::pair<std::string, std::uint64_t>> all(paths.begin(), paths.end());
  const auto order = [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  };
  const auto keep = std::min(n, all.size());
  std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(keep), all.end(), order);
  all.resize(keep);
  return all;
}

double share(std::uint64_t part, std::uint64_t whole) {
  return whole == 0 ? 0.0 : 100.0 * static_cast<double>(part) / static_cast<double>(whole);
}

}  // namespace

std::string format_report(const log_stats& stats, std::size_t top_paths) {
  std::string out;
  const std::uint64_t good = stats.lines - stats.malformed;
  append(out, "%s requests (%s malformed lines skipped), %.2f GiB sent\n", grouped(good).c_str(),
         grouped(stats.malformed).c_str(), static_cast<double>(stats.bytes_sent) / (1u << 30));
  out += "status codes:\n";
  for (const auto& [code, n] : stats.status)
    append(out, "  %d %14s  %5.1f%%\n", code, grouped(n).c_str(), share(n, good));
  append(out, "top %zu paths:\n", top_paths);
  std::size_t rank = 0;
  for (const auto& [path, n] : busiest(stats.paths, top_paths))
    append(out, "  %2zu. %-28s %12s  %5.1f%%\n", ++rank, path.c_str(), grouped(n).c_str(),
           share(n, good));
  append(out, "latency: p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, p99.9 %.2f ms\n",
         stats.latency.percentile(50) / 1000, stats.latency.percentile(90) / 1000,
         stats.latency.percentile(99) / 1000, stats.latency.percentile(99.9) / 1000);
  return out;
}

void write_report(const std::string& path, const std::string& text) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file << text;
  file.flush();
  if (!file) throw std::runtime_error("cannot write the report to " + path);
}

}  // namespace logstats

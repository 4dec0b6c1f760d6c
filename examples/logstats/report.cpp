#include "report.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <utility>
#include <vector>

#include "whole_file.hpp"

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

// busiest() is the `n` largest entries of `table`, by `weight`, ties by
// name, so the report depends on the stats alone.
template <class Table, class Weight>
auto busiest(const Table& table, std::size_t n, Weight weight) {
  std::vector<std::pair<typename Table::key_type, typename Table::mapped_type>> all(table.begin(),
                                                                                    table.end());
  const auto order = [&](const auto& a, const auto& b) {
    const auto wa = weight(a.second), wb = weight(b.second);
    return wa != wb ? wa > wb : a.first < b.first;
  };
  const auto keep = std::min(n, all.size());
  std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(keep), all.end(), order);
  all.resize(keep);
  return all;
}

std::string hour_name(std::int64_t hour) {
  const auto seconds = static_cast<std::time_t>(hour * 3600);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char name[32];
  std::strftime(name, sizeof name, "%Y-%m-%d %H:00 UTC", &utc);
  return name;
}

double share(std::uint64_t part, std::uint64_t whole) {
  return whole == 0 ? 0.0 : 100.0 * static_cast<double>(part) / static_cast<double>(whole);
}

}  // namespace

std::string format_report(const log_stats& stats, std::size_t top_paths) {
  std::string out;
  const std::uint64_t good = stats.lines - stats.malformed;
  append(out, "%s requests (%s malformed lines skipped), %.2f GiB sent, ~%s clients\n",
         grouped(good).c_str(), grouped(stats.malformed).c_str(),
         static_cast<double>(stats.bytes_sent) / (1u << 30),
         grouped(static_cast<std::uint64_t>(stats.clients.estimate() + 0.5)).c_str());
  if (const auto peak = busiest(stats.hourly, 1, [](auto n) { return n; }); !peak.empty())
    append(out, "busiest hour: %s, %s requests (of %zu hours)\n", hour_name(peak[0].first).c_str(),
           grouped(peak[0].second).c_str(), stats.hourly.size());
  out += "status codes:\n";
  for (const auto& [code, n] : stats.status)
    append(out, "  %d %14s  %5.1f%%\n", code, grouped(n).c_str(), share(n, good));
  append(out, "top %zu paths:\n", top_paths);
  std::size_t rank = 0;
  for (const auto& [path, n] : busiest(stats.paths, top_paths, [](auto n) { return n; }))
    append(out, "  %2zu. %-28s %12s  %5.1f%%\n", ++rank, path.c_str(), grouped(n).c_str(),
           share(n, good));
  out += "endpoints:                          requests    5xx       p50       p99\n";
  for (const auto& [name, e] :
       busiest(stats.endpoints, stats.endpoints.size(), [](const auto& e) { return e.requests; }))
    append(out, "  %-28s %14s  %4.1f%%  %5.1f ms  %5.1f ms\n", name.c_str(),
           grouped(e.requests).c_str(), share(e.server_errors, e.requests),
           e.latency.percentile(50) / 1000, e.latency.percentile(99) / 1000);
  append(out, "latency: p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, p99.9 %.2f ms\n",
         stats.latency.percentile(50) / 1000, stats.latency.percentile(90) / 1000,
         stats.latency.percentile(99) / 1000, stats.latency.percentile(99.9) / 1000);
  return out;
}

void write_report(const std::string& path, const std::string& text) {
  write_whole_file(path, [&](std::FILE* file) {
    return std::fwrite(text.data(), 1, text.size(), file) == text.size();
  });
}

}  // namespace logstats

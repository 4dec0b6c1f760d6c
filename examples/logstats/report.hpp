// report.hpp — the text logstats writes and prints: status codes, the
// busiest paths, latency percentiles.
#pragma once

#include <cstddef>
#include <string>

#include "log_stats.hpp"

namespace logstats {

// format_report() lists every status code, the `top_paths` busiest paths
// (ties by name, so the text depends on the stats alone) and the p50, p90,
// p99 and p99.9 latencies.
std::string format_report(const log_stats& stats, std::size_t top_paths);

// check_report_path() opens `path` for writing, creating it if need be,
// so that a report that cannot be written fails before the analysis;
// throws std::system_error naming `path` and the reason when it cannot.
void check_report_path(const std::string& path);

// write_report() writes `text` to `path` (a blocking write); throws
// std::system_error naming `path` and the reason when it cannot.
void write_report(const std::string& path, const std::string& text);

}  // namespace logstats

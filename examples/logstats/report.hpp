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

// write_report() writes `text` to `path` whole (whole_file.hpp: check the
// path first with check_whole_file()), a blocking write; throws
// std::runtime_error naming `path` and the reason when it cannot.
void write_report(const std::string& path, const std::string& text);

}  // namespace logstats

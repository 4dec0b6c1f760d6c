// log_generator.hpp — deterministic web-server access logs to work on.
//
// generate_logs() writes N MiB as files of at most 16 MiB (access-000.log,
// access-001.log, ...). Each file depends only on the seed and its
// number, so the files are written in parallel, one cpu task each, and the
// same (N, seed) always gives the same bytes. Lines follow the combined
// log format with the latency appended (log_stats.hpp): 50,000 clients,
// 2,000 paths of which a few are hot, latencies with a long tail, and
// about one line in 130,000 garbage, as in real logs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <tandem/runtime.hpp>

namespace logstats {

// generate_logs() creates `dir` if needed, removes the access-NNN.log files
// an earlier call left there (so that a smaller set is not read with the
// rest of a larger one) and their partial ones, and returns the files
// written. Each file is written as access-NNN.log.partial and renamed once
// whole: an interrupted call leaves no cut-short access-NNN.log. Other
// files in `dir` are left alone.
std::vector<std::string> generate_logs(tandem::runtime& rt, const std::string& dir,
                                       std::uint64_t mib, std::uint64_t seed);

}  // namespace logstats

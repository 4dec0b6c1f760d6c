// analyze.hpp — the two ways logstats computes its stats: a tandem
// pipeline, and the plain single-threaded loop it is measured against.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <tandem/pipeline.hpp>
#include <tandem/runtime.hpp>

#include "chunks.hpp"
#include "log_stats.hpp"

namespace logstats {

// chunk_bytes is how much text one pipeline item carries.
inline constexpr std::uint64_t chunk_bytes = std::uint64_t{4} << 20;

// piped_stats is what the pipeline found, and how its stages did.
struct piped_stats {
  log_stats stats;
  tandem::pipeline_summary summary;
};

// analyze_with_pipeline() reads the chunks (io, blocking reads), parses
// each in a worker process (parse_task), and merges the results as they
// come (io, one at a time).
piped_stats analyze_with_pipeline(
    tandem::runtime& rt, std::vector<chunk_ref> chunks,
    std::function<void(const tandem::pipeline_progress&)> on_progress);

// analyze_sequentially() reads each file whole and parses it, in this
// thread: no chunking, so it also checks the pipeline's cuts.
log_stats analyze_sequentially(const std::vector<std::string>& files);

// keep_freed_buffers() has malloc keep freed chunk buffers for reuse
// instead of handing them back to the kernel: each fresh buffer costs a
// page fault per 4 KiB, dear in a virtual machine, and both the pipeline
// and the loop allocate a buffer per chunk or file. Call it before the
// runtime exists, so that its workers inherit it.
void keep_freed_buffers();

// warm_up() returns once the cpu workers have each served a task, so a
// timing that follows does not count their start.
void warm_up(tandem::runtime& rt);

}  // namespace logstats

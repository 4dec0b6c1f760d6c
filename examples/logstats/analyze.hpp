// analyze.hpp — the two ways logstats computes its stats: a tandem
// pipeline, and the plain single-threaded loop it is measured against.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <tandem/pipeline.hpp>
#include <tandem/runtime.hpp>

#include "chunk_pool.hpp"
#include "chunks.hpp"
#include "log_stats.hpp"

namespace logstats {

// chunk_bytes is how much text one pipeline item carries at most: the
// size of a chunk_pool slot. Every chunk costs a fresh tally in the worker,
// a reply and a merge (about 4% of the parse at 8 MiB, measured; 8% at 4
// MiB), while the last chunk leaves the other workers idle (at 16 MiB that
// lost more than it saved). 8 MiB and a little: chunks end at a line end,
// so chunks of just under 8 MiB would leave a sliver of a third in each 16
// MiB file, which costs a whole item's overhead.
inline constexpr std::uint64_t chunk_bytes = (std::uint64_t{8} << 20) + (std::uint64_t{64} << 10);
static_assert(max_line_bytes < chunk_bytes, "a line that fills a chunk must count as malformed");

// runtime_options_for() is a runtime of `cpu_workers` worker processes (0:
// one per core, the runtime's default) whose shared object space has room
// for make_chunk_pool() beside the default's.
tandem::runtime_options runtime_options_for(unsigned cpu_workers);

// make_chunk_pool() is the pool that analyze_with_pipeline() reads chunks
// into, in rt's shared memory (made with runtime_options_for()): twice as
// many slots as the parses in flight of as many workers as there are cores
// (those the cores can run at once), so the reads keep ahead of the
// parses, and wait for a slot (backpressure) when they are a pool ahead.
// Make it once and reuse it: its memory is then warm.
chunk_pool make_chunk_pool(tandem::runtime& rt);

// piped_stats is what the pipeline found, and how its stages did.
struct piped_stats {
  log_stats stats;
  tandem::pipeline_summary summary;
};

// analyze_with_pipeline() reads the chunks into slots of `pool` (io,
// blocking reads), parses each where it lies in a worker process
// (parse_task), and merges the results as they come (io, one at a time).
piped_stats analyze_with_pipeline(
    tandem::runtime& rt, chunk_pool& pool, std::vector<chunk_ref> chunks,
    std::function<void(const tandem::pipeline_progress&)> on_progress);

// analyze_sequentially() reads each file whole and parses it, in this
// thread: no chunking, so it also checks the pipeline's cuts.
log_stats analyze_sequentially(const std::vector<std::string>& files);

// keep_freed_buffers() has malloc keep freed file buffers for reuse
// instead of handing them back to the kernel: each fresh buffer costs a
// page fault per 4 KiB, dear in a virtual machine, and the loop allocates
// a buffer per file. Call it before the runtime exists, so that its
// workers inherit it.
void keep_freed_buffers();

// warm_up() returns once the cpu workers have each served a task that
// read the whole pool, so a timing that follows counts neither their start
// nor their first reads of the pool: a process's first pass over shared
// memory costs about 1.5 ms per MiB on these virtual machines (shadow page
// tables), a later one a fiftieth of that.
void warm_up(tandem::runtime& rt, chunk_pool& pool);

}  // namespace logstats

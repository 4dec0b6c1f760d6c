#include "analyze.hpp"

#include <malloc.h>

#include <algorithm>
#include <string_view>
#include <thread>
#include <utility>

namespace logstats {

namespace {

// Twice as many parses in flight as workers: a worker that finishes finds
// its next chunk already queued.
unsigned parsers_for(unsigned cpu_workers) { return 2 * cpu_workers; }

// Twice as many slots as parses in flight, so the reads can run ahead of
// them by as much again; but only for as many workers as there are cores.
// Workers beyond those share the cores, so more slots would not keep more
// of them busy; and every worker reads the whole pool in warm_up(), so a
// pool growing with the workers would make the start-up grow with their
// square (16 workers on 2 cores took 35 s to start so, 4 s with this bound).
std::size_t slots_for(unsigned cpu_workers) {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  return 2 * std::size_t{parsers_for(std::min(cpu_workers, cores))};
}

// loaded_chunk is a chunk read into a slot of the pool, which it holds.
struct loaded_chunk {
  chunk_pool::slot slot;
  std::size_t size;

  std::string_view text() const { return {slot.bytes().data(), size}; }
};

loaded_chunk load(chunk_pool& pool, const chunk_ref& chunk) {
  chunk_pool::slot slot = pool.take();
  const std::size_t size = read_chunk(chunk, slot.bytes());
  return {std::move(slot), size};
}

// parsed_chunk is a chunk's stats with the chunk they were parsed from:
// the stats name their paths by where they lie in it (path_ref).
struct parsed_chunk {
  loaded_chunk chunk;
  chunk_stats stats;

  void merge_into(log_stats& total) const { stats.merge_into(total, chunk.text()); }
};

// parse_in_place() hands the worker a view of the slot, and keeps the slot
// until its stats are merged, however the parse ends: the worker reads the
// slot till then, and the merge reads the paths there.
tandem::future<parsed_chunk> parse_in_place(tandem::runtime& rt, loaded_chunk chunk) {
  return rt.submit(parse_task, chunk.slot.view(chunk.size))
      .then(tandem::inline_executor{},
            [held = std::move(chunk)](tandem::future<chunk_stats> parsed) mutable {
              return parsed_chunk{std::move(held), parsed.get()};
            });
}

}  // namespace

tandem::runtime_options runtime_options_for(unsigned cpu_workers) {
  tandem::runtime_options options;
  options.cpu_workers =
      cpu_workers != 0 ? cpu_workers : std::max(1u, std::thread::hardware_concurrency());
  options.shared_memory_bytes += slots_for(options.cpu_workers) * chunk_bytes;
  return options;
}

chunk_pool make_chunk_pool(tandem::runtime& rt) {
  return chunk_pool(rt, slots_for(rt.options().cpu_workers), chunk_bytes);
}

piped_stats analyze_with_pipeline(
    tandem::runtime& rt, chunk_pool& pool, std::vector<chunk_ref> chunks,
    std::function<void(const tandem::pipeline_progress&)> on_progress) {
  log_stats total;
  // The reads are io_blocking, not io: load() waits in pool.take() for a
  // slot that only the sink gives back, and the sink runs on the io lane,
  // so reads waiting on io workers could hold every io worker (tried: the
  // pipeline hung).
  auto summary =
      tandem::pipeline<chunk_ref>(std::move(chunks))
          .then("read", [&pool](const chunk_ref& chunk) { return load(pool, chunk); },
                {.affinity = tandem::io_blocking, .parallelism = 2})
          .then("parse", [&rt](loaded_chunk chunk) { return parse_in_place(rt, std::move(chunk)); },
                {.parallelism = parsers_for(rt.options().cpu_workers)})
          .sink([&total](const parsed_chunk& part) { part.merge_into(total); })
          .run(rt, {.order = tandem::unordered, .on_progress = std::move(on_progress)})
          .get();
  return {std::move(total), std::move(summary)};
}

log_stats analyze_sequentially(const std::vector<std::string>& files) {
  log_stats total;
  for (const auto& path : files) parse_into(total, read_file(path).view());
  return total;
}

void keep_freed_buffers() {
  mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's largest: files come from the heap
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
}

void warm_up(tandem::runtime& rt, chunk_pool& pool) {
  // A parse of the whole pool reads every page of it (zeros when the pool
  // is new: one line with no end); its stats are dropped.
  std::vector<tandem::future<chunk_stats>> parses;
  for (unsigned i = 0; i < rt.options().cpu_workers; ++i)
    parses.push_back(rt.submit(parse_task, pool.whole()));
  for (auto& parse : parses) parse.get();
}

}  // namespace logstats

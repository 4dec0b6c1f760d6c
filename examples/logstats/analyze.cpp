#include "analyze.hpp"

#include <malloc.h>

#include <utility>

namespace logstats {

piped_stats analyze_with_pipeline(
    tandem::runtime& rt, std::vector<chunk_ref> chunks,
    std::function<void(const tandem::pipeline_progress&)> on_progress) {
  // Twice as many parses in flight as workers: a worker that finishes
  // finds its next chunk already queued.
  const unsigned parsers = 2 * rt.options().cpu_workers;
  log_stats total;
  auto summary = tandem::pipeline<chunk_ref>(std::move(chunks))
                     .then("read", read_chunk, {.affinity = tandem::io_blocking, .parallelism = 2})
                     .then("parse", parse_task, {.parallelism = parsers})
                     .sink([&total](const log_stats& part) { total.merge(part); })
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
  mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's largest: chunks and files come from the heap
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
}

void warm_up(tandem::runtime& rt) {
  std::vector<tandem::future<log_stats>> parses;
  for (unsigned i = 0; i < rt.options().cpu_workers; ++i)
    parses.push_back(rt.submit(parse_task, chunk_text{}));
  for (auto& parse : parses) parse.get();
}

}  // namespace logstats

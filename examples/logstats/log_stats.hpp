// log_stats.hpp — what logstats learns from access-log lines, in a form
// that merges: requests per status code, path, endpoint and hour, distinct
// clients, latency histograms. Any split of the input into chunks, parsed
// separately and merged, gives exactly the stats of one pass over it.
//
// A line looks like (see log_generator.hpp):
//   10.1.2.3 - - [12/Mar/2024:10:15:32 +0000] "GET /api/v1/items/42 HTTP/1.1" 200 5123 12.345
// the last field being the latency in milliseconds, to the microsecond.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <tandem/serialize.hpp>
#include <tandem/task.hpp>

#include "chunk_pool.hpp"
#include "latency_histogram.hpp"
#include "unique_counter.hpp"

namespace logstats {

// path_hash lets the path table be searched with a string_view, so a
// known path costs no allocation.
struct path_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view path) const noexcept {
    return std::hash<std::string_view>{}(path);
  }
};
using path_counts = std::unordered_map<std::string, std::uint64_t, path_hash, std::equal_to<>>;

// endpoint_stats is one endpoint: a path with its ids and query taken out
// (/api/v1/items/42?x=1 is /api/v1/items/{id}).
struct endpoint_stats {
  std::uint64_t requests = 0;
  std::uint64_t server_errors = 0;  // 5xx
  latency_histogram latency;

  void merge(const endpoint_stats& other);
  friend bool operator==(const endpoint_stats&, const endpoint_stats&) = default;
};
using endpoint_table = std::map<std::string, endpoint_stats, std::less<>>;

struct log_stats {
  std::uint64_t lines = 0;
  std::uint64_t malformed = 0;  // lines that are not access-log lines
  std::uint64_t bytes_sent = 0;
  std::map<int, std::uint64_t> status;
  path_counts paths;
  endpoint_table endpoints;
  std::map<std::int64_t, std::uint64_t> hourly;  // requests by hour since the epoch (UTC)
  unique_counter clients;                        // by address
  latency_histogram latency;

  // merge() adds `other` in (commutative and associative).
  void merge(const log_stats& other);
  friend bool operator==(const log_stats&, const log_stats&) = default;
};

// max_line_bytes is the longest line read as an access-log line (real ones
// are a few hundred bytes); a longer one counts as malformed, unread. The
// bound is below a pipeline chunk's size (analyze.hpp), so a line too long
// for a chunk, of which the pipeline parses only the start (chunks.hpp), is
// malformed however the text is cut, and the pipeline's stats equal those
// of one pass over the whole file.
inline constexpr std::size_t max_line_bytes = 64 * 1024;

// parse_into() adds every line of `text` (complete lines; a last line
// without '\n' counts) to `stats`.
void parse_into(log_stats& stats, std::string_view text);

// path_ref is a path counted in a chunk, named by where it lies in the
// chunk's text. A worker replies with these rather than with copies of the
// paths: the host holds the chunk, so it reads the paths there, and a
// reply shrinks from about a hundred KiB of strings to 16 bytes a path.
struct path_ref {
  std::uint32_t offset;  // from the start of the chunk's text
  std::uint32_t length;
  std::uint64_t requests;
};

// chunk_stats is what a worker learns from one chunk: everything but the
// path counts in `stats`, and those as path_refs.
struct chunk_stats {
  log_stats stats;
  std::vector<path_ref> paths;

  // merge_into() adds this chunk, whose text is `text`, to `total`;
  // std::out_of_range when a path_ref does not lie within `text`.
  void merge_into(log_stats& total, std::string_view text) const;
};

// parse_chunk() is the stats of one chunk of lines, read where the chunk
// lies: the pipeline's cpu stage, defined as parse_task.
chunk_stats parse_chunk(const chunk_view& chunk);

// parse_task runs parse_chunk in a worker process.
extern const tandem::task_ref<chunk_stats(chunk_view)> parse_task;

}  // namespace logstats

// endpoint_stats and log_stats cross processes as their fields, in order.
template <>
struct tandem::serializer<logstats::endpoint_stats> {
  static void write(tandem::writer& out, const logstats::endpoint_stats& e) {
    out.write(e.requests, e.server_errors, e.latency);
  }
  static logstats::endpoint_stats read(tandem::reader& in) {
    logstats::endpoint_stats e;
    e.requests = in.read<std::uint64_t>();
    e.server_errors = in.read<std::uint64_t>();
    e.latency = in.read<logstats::latency_histogram>();
    return e;
  }
};

template <>
struct tandem::serializer<logstats::log_stats> {
  static void write(tandem::writer& out, const logstats::log_stats& s) {
    out.write(s.lines, s.malformed, s.bytes_sent, s.status, s.paths, s.endpoints, s.hourly,
              s.clients, s.latency);
  }
  static logstats::log_stats read(tandem::reader& in) {
    logstats::log_stats s;
    s.lines = in.read<std::uint64_t>();
    s.malformed = in.read<std::uint64_t>();
    s.bytes_sent = in.read<std::uint64_t>();
    s.status = in.read<decltype(s.status)>();
    s.paths = in.read<logstats::path_counts>();
    s.endpoints = in.read<logstats::endpoint_table>();
    s.hourly = in.read<decltype(s.hourly)>();
    s.clients = in.read<logstats::unique_counter>();
    s.latency = in.read<logstats::latency_histogram>();
    return s;
  }
};

template <>
struct tandem::serializer<logstats::chunk_stats> {
  static void write(tandem::writer& out, const logstats::chunk_stats& c) {
    out.write(c.stats, c.paths);
  }
  static logstats::chunk_stats read(tandem::reader& in) {
    logstats::chunk_stats c;
    c.stats = in.read<logstats::log_stats>();
    c.paths = in.read<std::vector<logstats::path_ref>>();
    return c;
  }
};

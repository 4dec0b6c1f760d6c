// log_stats.hpp — what logstats learns from access-log lines, in a form
// that merges: counts per status code and per path, and a latency
// histogram for percentiles. Any split of the input into chunks, parsed
// separately and merged, gives exactly the stats of one pass over it.
//
// A line looks like (see log_generator.hpp):
//   10.1.2.3 - - [12/Mar/2024:10:15:32 +0000] "GET /api/v1/items/42 HTTP/1.1" 200 5123 12.345
// the last field being the latency in milliseconds, to the microsecond.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <tandem/serialize.hpp>
#include <tandem/task.hpp>

namespace logstats {

// latency_histogram counts latencies (microseconds) in log-linear buckets:
// exact below 64 us, then 32 buckets per power of two (about 3% wide).
class latency_histogram {
 public:
  latency_histogram();

  void add(std::uint64_t micros);
  void merge(const latency_histogram& other);
  // percentile() is the middle of the bucket holding the nearest-rank
  // p-th percentile (p in (0, 100]), in microseconds; 0 when empty.
  double percentile(double p) const;

  std::vector<std::uint64_t> buckets;  // public for serialization
  friend bool operator==(const latency_histogram&, const latency_histogram&) = default;
};

// path_hash lets the path table be searched with a string_view, so a
// known path costs no allocation.
struct path_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view path) const noexcept {
    return std::hash<std::string_view>{}(path);
  }
};
using path_counts = std::unordered_map<std::string, std::uint64_t, path_hash, std::equal_to<>>;

struct log_stats {
  std::uint64_t lines = 0;
  std::uint64_t malformed = 0;  // lines that are not access-log lines
  std::uint64_t bytes_sent = 0;
  std::map<int, std::uint64_t> status;
  path_counts paths;
  latency_histogram latency;

  // merge() adds `other` in (commutative and associative).
  void merge(const log_stats& other);
  friend bool operator==(const log_stats&, const log_stats&) = default;
};

// parse_into() adds every line of `text` (complete lines; a last line
// without '\n' counts) to `stats`.
void parse_into(log_stats& stats, std::string_view text);

// parse_chunk() is the stats of one chunk of lines: the cpu stage of the
// pipeline, also defined as the task below.
log_stats parse_chunk(std::string text);

// check_histogram_size() throws tandem::decode_error unless `histogram`
// has the bucket count this program uses (a decoded one could lie).
void check_histogram_size(const latency_histogram& histogram);

// parse_task runs parse_chunk in a worker process.
extern const tandem::task_ref<log_stats(std::string)> parse_task;

}  // namespace logstats

// log_stats crosses processes as its fields, in this order.
template <>
struct tandem::serializer<logstats::log_stats> {
  static void write(tandem::writer& out, const logstats::log_stats& s) {
    out.write(s.lines, s.malformed, s.bytes_sent, s.status, s.paths, s.latency.buckets);
  }
  static logstats::log_stats read(tandem::reader& in) {
    logstats::log_stats s;
    s.lines = in.read<std::uint64_t>();
    s.malformed = in.read<std::uint64_t>();
    s.bytes_sent = in.read<std::uint64_t>();
    s.status = in.read<decltype(s.status)>();
    s.paths = in.read<logstats::path_counts>();
    s.latency.buckets = in.read<std::vector<std::uint64_t>>();
    logstats::check_histogram_size(s.latency);
    return s;
  }
};

#include "log_stats.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>

namespace logstats {

namespace {

constexpr unsigned exact_below = 64;  // microseconds counted one by one
constexpr unsigned sub_buckets = 32;  // per power of two above that
constexpr unsigned powers = 58;       // enough for any 64-bit latency
constexpr std::size_t bucket_count = exact_below + sub_buckets * powers;

std::size_t bucket_of(std::uint64_t micros) {
  if (micros < exact_below) return micros;
  const unsigned shift = static_cast<unsigned>(std::bit_width(micros)) - 6;  // keep 6 bits
  const std::uint64_t top = micros >> shift;                                 // 32..63
  return exact_below + (shift - 1) * sub_buckets + (top - sub_buckets);
}

double bucket_middle(std::size_t index) {
  if (index < exact_below) return static_cast<double>(index);
  const std::size_t shift = (index - exact_below) / sub_buckets + 1;
  const std::size_t top = (index - exact_below) % sub_buckets + sub_buckets;
  return std::ldexp(static_cast<double>(top) + 0.5, static_cast<int>(shift));
}

// number() parses the unsigned decimal at the front of `text` and drops it
// (with one space after it); false when there is none.
bool number(std::string_view& text, std::uint64_t& value) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{}) return false;
  text.remove_prefix(static_cast<std::size_t>(end - text.data()));
  if (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  return true;
}

// latency() parses "12.345" (milliseconds, three decimals) as microseconds.
bool latency(std::string_view text, std::uint64_t& micros) {
  std::uint64_t millis = 0;
  std::uint64_t fraction = 0;
  const auto dot = text.find('.');
  if (dot == std::string_view::npos || text.size() != dot + 4) return false;
  std::string_view whole = text.substr(0, dot);
  std::string_view decimals = text.substr(dot + 1);
  if (!number(whole, millis) || !whole.empty() || !number(decimals, fraction)) return false;
  micros = millis * 1000 + fraction;
  return decimals.empty();
}

// request_path() is the path inside the quoted request
// ("GET /path HTTP/1.1"); `line` is left after the closing quote.
std::string_view request_path(std::string_view& line) {
  const auto open = line.find('"');
  if (open == std::string_view::npos) return {};
  const auto method_end = line.find(' ', open);
  const auto path_end = line.find(' ', method_end + 1);
  const auto close = line.find('"', path_end);
  if (method_end == std::string_view::npos || path_end == std::string_view::npos ||
      close == std::string_view::npos || line.size() < close + 2)
    return {};
  const auto path = line.substr(method_end + 1, path_end - method_end - 1);
  line.remove_prefix(close + 2);
  return path;
}

// line_tally is one line's fields, read before anything is counted so a
// malformed line counts as nothing but malformed.
struct line_tally {
  std::string_view path;
  std::uint64_t status = 0;
  std::uint64_t bytes = 0;
  std::uint64_t micros = 0;
};

bool read_line(std::string_view line, line_tally& out) {
  out.path = request_path(line);
  return !out.path.empty() && number(line, out.status) && out.status >= 100 && out.status < 1000 &&
         number(line, out.bytes) && latency(line, out.micros);
}

void count_path(path_counts& paths, std::string_view path) {
  if (auto it = paths.find(path); it != paths.end())
    ++it->second;
  else
    paths.emplace(std::string(path), 1);
}

}  // namespace

latency_histogram::latency_histogram() : buckets(bucket_count, 0) {}

void latency_histogram::add(std::uint64_t micros) { ++buckets[bucket_of(micros)]; }

void latency_histogram::merge(const latency_histogram& other) {
  for (std::size_t i = 0; i < bucket_count; ++i) buckets[i] += other.buckets[i];
}

double latency_histogram::percentile(double p) const {
  std::uint64_t total = 0;
  for (const auto n : buckets) total += n;
  if (total == 0) return 0;
  const auto rank =
      std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::ceil(p / 100.0 * total)));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < bucket_count; ++i) {
    seen += buckets[i];
    if (seen >= rank) return bucket_middle(i);
  }
  return bucket_middle(bucket_count - 1);
}

void log_stats::merge(const log_stats& other) {
  lines += other.lines;
  malformed += other.malformed;
  bytes_sent += other.bytes_sent;
  for (const auto& [code, n] : other.status) status[code] += n;
  for (const auto& [path, n] : other.paths) paths[path] += n;
  latency.merge(other.latency);
}

void parse_into(log_stats& stats, std::string_view text) {
  std::array<std::uint64_t, 1000> status{};  // by code: cheaper than the map per line
  line_tally tally;
  while (!text.empty()) {
    const auto newline = text.find('\n');
    const auto line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    if (line.empty()) continue;
    ++stats.lines;
    if (!read_line(line, tally)) {
      ++stats.malformed;
      continue;
    }
    ++status[tally.status];
    stats.bytes_sent += tally.bytes;
    count_path(stats.paths, tally.path);
    stats.latency.add(tally.micros);
  }
  for (std::size_t code = 0; code < status.size(); ++code)
    if (status[code] != 0) stats.status[static_cast<int>(code)] += status[code];
}

log_stats parse_chunk(std::string text) {
  log_stats stats;
  parse_into(stats, text);
  return stats;
}

const tandem::task_ref<log_stats(std::string)> parse_task =
    tandem::define_task<log_stats(std::string)>("logstats.parse", tandem::cpu, parse_chunk);

void check_histogram_size(const latency_histogram& histogram) {
  if (histogram.buckets.size() != bucket_count)
    throw tandem::decode_error("logstats: a latency histogram of " +
                               std::to_string(histogram.buckets.size()) + " buckets, not " +
                               std::to_string(bucket_count));
}

}  // namespace logstats

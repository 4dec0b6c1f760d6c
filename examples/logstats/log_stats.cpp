#include "log_stats.hpp"

#include <array>
#include <cctype>
#include <charconv>
#include <cstring>
#include <stdexcept>
#include <string>
#include <unordered_map>

namespace logstats {

namespace {

// access_line is one line's fields, all read before anything is counted,
// so a malformed line counts as nothing but malformed.
struct access_line {
  std::uint32_t client = 0;
  std::int64_t hour = 0;
  std::string_view path;
  std::uint64_t status = 0;
  std::uint64_t bytes = 0;
  std::uint64_t micros = 0;
};

// number() parses the unsigned decimal at the front of `text` and drops
// it, and the one character `then` after it when given; false when either
// is missing.
bool number(std::string_view& text, std::uint64_t& value, char then = '\0') {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{}) return false;
  text.remove_prefix(static_cast<std::size_t>(end - text.data()));
  if (then == '\0') return true;
  if (text.empty() || text.front() != then) return false;
  text.remove_prefix(1);
  return true;
}

bool skip_past(std::string_view& text, char c) {
  const auto at = text.find(c);
  if (at == std::string_view::npos) return false;
  text.remove_prefix(at + 1);
  return true;
}

// client() reads "10.1.2.3 " as one number.
bool client(std::string_view& line, std::uint32_t& address) {
  std::uint64_t part[4];
  if (!number(line, part[0], '.') || !number(line, part[1], '.') || !number(line, part[2], '.') ||
      !number(line, part[3], ' '))
    return false;
  address = static_cast<std::uint32_t>(part[0] << 24 | part[1] << 16 | part[2] << 8 | part[3]);
  return true;
}

int month_of(std::string_view name) {
  static constexpr std::string_view months = "JanFebMarAprMayJunJulAugSepOctNovDec";
  const auto at = name.size() == 3 ? months.find(name) : std::string_view::npos;
  return at == std::string_view::npos || at % 3 != 0 ? 0 : static_cast<int>(at / 3) + 1;
}

// days_from_civil() counts days since 1970-01-01 (H. Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

// hour() reads "[12/Mar/2024:10" (minutes and zone are not needed) as
// hours since the epoch.
bool hour(std::string_view& line, std::int64_t& hours) {
  std::uint64_t day = 0, year = 0, h = 0;
  if (!skip_past(line, '[') || !number(line, day, '/') || line.size() < 4) return false;
  const int month = month_of(line.substr(0, 3));
  line.remove_prefix(3);
  if (month == 0 || line.empty() || line.front() != '/') return false;
  line.remove_prefix(1);
  if (!number(line, year, ':') || !number(line, h, ':')) return false;
  hours = days_from_civil(static_cast<std::int64_t>(year), static_cast<unsigned>(month),
                          static_cast<unsigned>(day)) *
              24 +
          static_cast<std::int64_t>(h);
  return true;
}

// request_path() is the path of the quoted request ("GET /path HTTP/1.1");
// `line` is left after the closing quote and its space.
std::string_view request_path(std::string_view& line) {
  if (!skip_past(line, '"') || !skip_past(line, ' ')) return {};
  const auto end = line.find(' ');
  const auto close = line.find('"', end);
  if (end == std::string_view::npos || close == std::string_view::npos || line.size() < close + 2)
    return {};
  const auto path = line.substr(0, end);
  line.remove_prefix(close + 2);
  return path;
}

// latency() parses "12.345" (milliseconds, three decimals) as microseconds.
bool latency(std::string_view text, std::uint64_t& micros) {
  std::uint64_t millis = 0;
  if (!number(text, millis, '.') || text.size() != 3) return false;
  std::uint64_t fraction = 0;
  if (!number(text, fraction) || !text.empty()) return false;
  micros = millis * 1000 + fraction;
  return true;
}

bool read_line(std::string_view line, access_line& out) {
  return client(line, out.client) && hour(line, out.hour) &&
         !(out.path = request_path(line)).empty() && number(line, out.status, ' ') &&
         out.status >= 100 && out.status < 1000 && number(line, out.bytes, ' ') &&
         latency(line, out.micros);
}

// endpoint_of() writes `path` into `buffer` without its query string and
// with each run of digits that does not follow a letter (an id, not the
// "1" of "v1") as {id}; a path too long for the buffer is cut short.
std::string_view endpoint_of(std::string_view path, std::array<char, 256>& buffer) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < path.size() && path[i] != '?' && n + 4 < buffer.size(); ++i) {
    const bool digit = std::isdigit(static_cast<unsigned char>(path[i]));
    if (!digit || (i > 0 && std::isalpha(static_cast<unsigned char>(path[i - 1])))) {
      buffer[n++] = path[i];
      continue;
    }
    std::memcpy(buffer.data() + n, "{id}", 4);
    n += 4;
    while (i + 1 < path.size() && std::isdigit(static_cast<unsigned char>(path[i + 1]))) ++i;
  }
  return {buffer.data(), n};
}

template <class Table>
auto& entry(Table& table, std::string_view key) {
  if (auto it = table.find(key); it != table.end()) return it->second;
  return table.emplace(std::string(key), typename Table::mapped_type{}).first->second;
}

// path_counters count one path's requests in this text, and point to its
// endpoint's entry in the stats.
struct path_counters {
  std::uint64_t requests = 0;
  endpoint_stats* endpoint;
};

// tally is what parse_into() keeps at hand while it counts: cheaper per
// line than the stats' maps, which it reaches once per path and per hour.
struct tally {
  std::array<std::uint64_t, 1000> status{};  // folded into stats.status at the end
  std::array<char, 256> endpoint_buffer{};
  // paths met in this text, keyed by the text's own bytes: a path seen
  // before costs one lookup, no endpoint_of() and no copy. (The endpoint
  // map's values never move, so the pointers hold.)
  std::unordered_map<std::string_view, path_counters> paths;
  // the current hour's counter: lines come in time order.
  std::int64_t hour = 0;
  std::uint64_t* hour_requests = nullptr;
};

path_counters& counters_of(log_stats& stats, tally& t, std::string_view path) {
  if (auto it = t.paths.find(path); it != t.paths.end()) return it->second;
  const path_counters found{0, &entry(stats.endpoints, endpoint_of(path, t.endpoint_buffer))};
  return t.paths.emplace(path, found).first->second;
}

void count(log_stats& stats, tally& t, const access_line& line) {
  ++t.status[line.status];
  stats.bytes_sent += line.bytes;
  path_counters& path = counters_of(stats, t, line.path);
  ++path.requests;
  ++path.endpoint->requests;
  path.endpoint->server_errors += line.status >= 500 && line.status < 600;
  path.endpoint->latency.add(line.micros);
  if (t.hour_requests == nullptr || line.hour != t.hour) {
    t.hour = line.hour;
    t.hour_requests = &stats.hourly[line.hour];
  }
  ++*t.hour_requests;
  stats.clients.add(line.client);
  stats.latency.add(line.micros);
}

// count_lines() adds every line of `text` to `stats`, except the path
// counts, which it leaves in `t.paths`.
void count_lines(log_stats& stats, tally& t, std::string_view text) {
  access_line line;
  while (!text.empty()) {
    const auto newline = text.find('\n');
    const auto raw = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    if (raw.empty()) continue;
    ++stats.lines;
    if (raw.size() <= max_line_bytes && read_line(raw, line))
      count(stats, t, line);
    else
      ++stats.malformed;
  }
  for (std::size_t code = 0; code < t.status.size(); ++code)
    if (t.status[code] != 0) stats.status[static_cast<int>(code)] += t.status[code];
}

}  // namespace

void endpoint_stats::merge(const endpoint_stats& other) {
  requests += other.requests;
  server_errors += other.server_errors;
  latency.merge(other.latency);
}

void log_stats::merge(const log_stats& other) {
  lines += other.lines;
  malformed += other.malformed;
  bytes_sent += other.bytes_sent;
  for (const auto& [code, n] : other.status) status[code] += n;
  for (const auto& [path, n] : other.paths) paths[path] += n;
  for (const auto& [name, endpoint] : other.endpoints) endpoints[name].merge(endpoint);
  for (const auto& [h, n] : other.hourly) hourly[h] += n;
  clients.merge(other.clients);
  latency.merge(other.latency);
}

void parse_into(log_stats& stats, std::string_view text) {
  tally t;
  count_lines(stats, t, text);
  for (const auto& [path, counters] : t.paths) entry(stats.paths, path) += counters.requests;
}

chunk_stats parse_chunk(const chunk_view& chunk) {
  const std::string_view text = chunk.text();
  chunk_stats out;
  tally t;
  count_lines(out.stats, t, text);
  out.paths.reserve(t.paths.size());
  for (const auto& [path, counters] : t.paths)
    out.paths.push_back({static_cast<std::uint32_t>(path.data() - text.data()),
                         static_cast<std::uint32_t>(path.size()), counters.requests});
  return out;
}

void chunk_stats::merge_into(log_stats& total, std::string_view text) const {
  total.merge(stats);
  for (const path_ref& path : paths) {
    if (path.offset > text.size() || path.length > text.size() - path.offset)
      throw std::out_of_range("logstats: a parse reply names bytes " + std::to_string(path.offset) +
                              "+" + std::to_string(path.length) + " outside its chunk of " +
                              std::to_string(text.size()) + " bytes");
    entry(total.paths, text.substr(path.offset, path.length)) += path.requests;
  }
}

const tandem::task_ref<chunk_stats(chunk_view)> parse_task =
    tandem::define_task<chunk_stats(chunk_view)>("logstats.parse", tandem::cpu, parse_chunk);

}  // namespace logstats

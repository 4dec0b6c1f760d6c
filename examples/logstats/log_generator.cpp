#include "log_generator.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <string_view>

#include <tandem/task.hpp>
#include <tandem/when_all.hpp>

#include "whole_file.hpp"

namespace logstats {

namespace {

constexpr std::uint64_t file_bytes = std::uint64_t{16} << 20;
constexpr std::uint64_t clients = 50'000;  // distinct addresses the requests come from

// splitmix64: small, fast, and the same everywhere.
class random_bits {
 public:
  explicit random_bits(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

 private:
  std::uint64_t state_;
};

const std::vector<std::string>& path_table() {
  static const std::vector<std::string> table = [] {
    const char* patterns[] = {"/api/v1/items/%u",  "/api/v1/users/%u", "/static/js/app.%u.js",
                              "/images/%u.png",    "/blog/post-%u",    "/search?q=term%u",
                              "/api/v1/orders/%u", "/docs/page-%u"};
    std::vector<std::string> paths{"/", "/login", "/health", "/favicon.ico"};
    char path[64];
    for (unsigned i = 0; paths.size() < 2000; ++i) {
      std::snprintf(path, sizeof path, patterns[i % std::size(patterns)], (i * 7919u) % 100000u);
      paths.emplace_back(path);
    }
    return paths;
  }();
  return table;
}

const char* pick_method(std::uint64_t r) {
  const auto p = r % 100;
  return p < 80 ? "GET" : p < 95 ? "POST" : p < 98 ? "PUT" : "DELETE";
}

unsigned pick_status(std::uint64_t r) {
  constexpr struct {
    unsigned below, status;
  } table[] = {{850, 200}, {900, 304}, {940, 404}, {960, 301},
               {980, 201}, {990, 500}, {995, 503}, {1000, 403}};
  const auto p = r % 1000;
  for (const auto& row : table)
    if (p < row.below) return row.status;
  return 200;
}

// pick_latency() in microseconds: a per-path base, noise, and a long tail.
std::uint64_t pick_latency(std::size_t path, std::uint64_t r) {
  const std::uint64_t base = 300 + (path * 2654435761u) % 30000;
  std::uint64_t micros = base + r % (2 * base);
  if ((r >> 40) % 16 == 0) micros *= 4;
  if ((r >> 48) % 1000 == 0) micros *= 20;
  return micros;
}

// line_writer appends log lines for one file; the clock moves on a second
// every 64 lines or so, and the timestamp is formatted only then.
class line_writer {
 public:
  line_writer(std::uint64_t seed, std::time_t start) : random_(seed), now_(start) { stamp(); }

  void append(std::string& out) {
    const std::uint64_t r = random_.next();
    if (r % 64 == 0) {
      ++now_;
      stamp();
    }
    if ((r >> 8) % 131072 == 0) {
      out += "GET /broken request line without fields\n";
      return;
    }
    const auto& paths = path_table();
    const double u = random_.unit();
    const auto path = static_cast<std::size_t>(u * u * u * static_cast<double>(paths.size()));
    const std::uint64_t s = random_.next();
    const std::uint64_t micros = pick_latency(path, s);
    const auto client = static_cast<std::uint32_t>((r >> 16) % clients * 2654435761u);
    char line[256];
    const int n =
        std::snprintf(line, sizeof line,
                      "10.%u.%u.%u - - [%s] \"%s %s HTTP/1.1\" %u %u %" PRIu64 ".%03" PRIu64 "\n",
                      client >> 16 & 255, client >> 8 & 255, client & 255, stamp_, pick_method(s),
                      paths[path].c_str(), pick_status(s >> 8), unsigned(200 + (s >> 20) % 50000),
                      micros / 1000, micros % 1000);
    out.append(line, static_cast<std::size_t>(n));
  }

 private:
  void stamp() {
    std::tm utc{};
    gmtime_r(&now_, &utc);
    std::strftime(stamp_, sizeof stamp_, "%d/%b/%Y:%H:%M:%S +0000", &utc);
  }

  random_bits random_;
  std::time_t now_;
  char stamp_[40]{};
};

// write_log_lines() writes about `bytes` bytes of file number `index` of
// the set to `file`, ending at a line's end; false when a write failed.
bool write_log_lines(FILE* file, std::uint64_t bytes, std::uint64_t seed, std::uint64_t index) {
  line_writer lines(random_bits(seed ^ (index * 0x9e3779b97f4a7c15ull)).next(),
                    1'710'000'000 + static_cast<std::time_t>(index) * 21'600);
  std::string block;
  for (std::uint64_t written = 0; written < bytes; written += block.size()) {
    block.clear();
    while (block.size() < (1u << 20) && written + block.size() < bytes) lines.append(block);
    if (std::fwrite(block.data(), 1, block.size(), file) != block.size()) return false;
  }
  return true;
}

// write_log_file() writes file number `index` of the set to `path`, whole
// (whole_file.hpp): an interrupted generation leaves no cut-short
// access-NNN.log to be analyzed as if it were complete (list_logs() reads
// *.log only).
void write_log_file(std::string path, std::uint64_t bytes, std::uint64_t seed,
                    std::uint64_t index) {
  write_whole_file(path,
                   [&](std::FILE* file) { return write_log_lines(file, bytes, seed, index); });
}

const auto write_log_task =
    tandem::define_task<void(std::string, std::uint64_t, std::uint64_t, std::uint64_t)>(
        "logstats.write_log", tandem::cpu, write_log_file);

// is_generated_name() says whether `name` is one generate_logs() gives a
// file: "access-", at least three digits, ".log", or that and the partial
// suffix (left by a generation that was interrupted).
bool is_generated_name(std::string_view name) {
  constexpr std::string_view prefix = "access-", suffix = ".log";
  if (name.ends_with(partial_suffix)) name.remove_suffix(partial_suffix.size());
  if (!name.starts_with(prefix) || !name.ends_with(suffix)) return false;
  const auto number = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  return number.size() >= 3 &&
         std::all_of(number.begin(), number.end(), [](char c) { return c >= '0' && c <= '9'; });
}

void remove_generated_logs(const std::string& dir) {
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.is_regular_file() && is_generated_name(entry.path().filename().string()))
      std::filesystem::remove(entry.path());
}

}  // namespace

std::vector<std::string> generate_logs(tandem::runtime& rt, const std::string& dir,
                                       std::uint64_t mib, std::uint64_t seed) {
  std::filesystem::create_directories(dir);
  remove_generated_logs(dir);
  std::vector<std::string> files;
  std::vector<tandem::future<void>> writes;
  char name[32];
  for (std::uint64_t left = mib << 20, index = 0; left > 0; ++index) {
    const std::uint64_t bytes = std::min(left, file_bytes);
    std::snprintf(name, sizeof name, "access-%03" PRIu64 ".log", index);
    files.push_back((std::filesystem::path(dir) / name).string());
    writes.push_back(rt.submit(write_log_task, files.back(), bytes, seed, index));
    left -= bytes;
  }
  for (auto& write : tandem::when_all(std::move(writes)).get()) write.get();
  return files;
}

}  // namespace logstats

// cpu_vs_thread — the seeds' second lesson: computation speeds up only
// when it runs in parallel processes (Python's GIL makes threads useless
// here; in C++ a worker process also keeps a crash away from the program).
//
// The same 16 slices of work run one after another in this thread, then
// as 16 cpu tasks in worker processes (one worker per core by default; the
// slices are many so that the workers stay evenly busy to the end).
#include <tandem/tandem.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "common/command_line.hpp"

using stopwatch = std::chrono::steady_clock;

namespace {

// count_primes() counts the primes in [from, to) by trial division: pure
// computation, no memory traffic to speak of.
std::int64_t count_primes(std::int64_t from, std::int64_t to) {
  std::int64_t count = 0;
  for (std::int64_t n = std::max<std::int64_t>(from, 2); n < to; ++n) {
    bool prime = true;
    for (std::int64_t d = 2; d * d <= n && prime; ++d) prime = n % d != 0;
    count += prime;
  }
  return count;
}

double seconds_since(stopwatch::time_point start) {
  return std::chrono::duration<double>(stopwatch::now() - start).count();
}

constexpr int slices = 16;
// Below one number per slice there is nothing to split; past 10^9 the
// count takes hours in one thread.
constexpr std::int64_t min_limit = slices, max_limit = 1'000'000'000;

// slice_start() is where slice `i` of [0, limit) begins (slice `slices`:
// limit itself). The bounds are rounded down from i * limit / slices, so the
// slices cover the whole range when `limit` is not a multiple of `slices`.
std::int64_t slice_start(int i, std::int64_t limit) { return i * limit / slices; }

struct options {
  std::int64_t limit = 4'000'000;
  bool help = false;
};

options parse_options(int argc, const char* const* argv) {
  options o;
  bool limit_given = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      o.help = true;
    } else if (limit_given) {
      throw examples::usage_error("takes one LIMIT, not also '" + std::string(arg) + "'");
    } else {
      o.limit = std::int64_t(examples::whole_number("LIMIT", arg, min_limit, max_limit));
      limit_given = true;
    }
  }
  return o;
}

const char* const usage =
    "usage: cpu_vs_thread [LIMIT]\n"
    "Counts the primes below LIMIT (16 to 1000000000, default 4000000) in 16 slices,\n"
    "one after another in this thread, then as 16 cpu tasks in worker processes,\n"
    "and prints both times. Exits 1 if the two counts differ.\n";

}  // namespace

const auto primes = tandem::define_task<std::int64_t(std::int64_t, std::int64_t)>(
    "seeds.count_primes", tandem::cpu, count_primes);

int run(const options& o) {
  tandem::runtime rt;

  auto start = stopwatch::now();
  std::int64_t in_thread = 0;
  for (int i = 0; i < slices; ++i)
    in_thread += count_primes(slice_start(i, o.limit), slice_start(i + 1, o.limit));
  const double thread_s = seconds_since(start);

  start = stopwatch::now();
  std::vector<tandem::future<std::int64_t>> parts;
  for (int i = 0; i < slices; ++i)
    parts.push_back(rt.submit(primes, slice_start(i, o.limit), slice_start(i + 1, o.limit)));
  std::int64_t in_workers = 0;
  for (auto& part : parts) in_workers += part.get();
  const double workers_s = seconds_since(start);

  std::printf("primes below %lld: %lld\n", static_cast<long long>(o.limit),
              static_cast<long long>(in_workers));
  std::printf("one thread:                 %.2f s\n", thread_s);
  std::printf("%zu worker processes:         %.2f s (%.1fx)\n", rt.cpu_worker_pids().size(),
              workers_s, thread_s / workers_s);
  return in_thread == in_workers ? 0 : 1;
}

int main(int argc, char** argv) {
  return examples::command_line_main("cpu_vs_thread", argc, argv, parse_options, usage, run);
}

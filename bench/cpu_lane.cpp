// cpu_lane.cpp — tandem's cpu lane side by side with its peers (shared/BENCH.md).
//
//   C1_hot       one trivial task (int -> int + 1) in flight, the next submitted as
//                soon as the previous returned: p50/p99 round trip
//   C1_parked    the same with a 2 ms pause before each request, so the workers
//                (and the peers' processes) have parked
//   C2_single    200,000 trivial tasks submitted one by one, then every result got
//   C2_batch     200,000 trivial tasks through runtime::map (256 to a chunk, as
//                Python's map(chunksize=256)) and runtime::submit_many (tasks/s), and
//                200,000 tasks of 256 ints each, as the peers batch: items/s
//   C3_copy      a 64 MiB std::vector<std::byte> argument, returned as the result
//   C3_zerocopy  the same size in a tandem::shared_buffer the task flips in place and
//                returns (a handle crosses); peers: multiprocessing.shared_memory by
//                name, tandem_trivial_task (int -> int + 1) and futex_floor; the
//                native rows: median of 5 trips, each after 20 ms idle
//   C3_zerocopy_hot  the native rows of C3_zerocopy, 201 trips back to back: median µs
//   C4           runtime construction to the first cpu result (destruction apart)
//   C5           SIGKILL of a busy worker until a task that only its replacement
//                can run has returned
//   C6           4 tasks of ~300 ms of computation on 2 workers: efficiency
//
// Every implementation gets `workers` (2) worker processes. The native peers
// (pipe_pool, futex_floor) live in cpu_lane_peers.hpp, the Python ones in
// peers/python_ppe_cpu.py and peers/python_pool_crash.py.
#include <malloc.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "cpu_lane_peers.hpp"
#include "harness.hpp"
#include "ipc/segment.hpp"
#include "python_peer.hpp"
// future.hpp first: runtime.hpp alone cannot compile a cpu submission, as
// detail/cpu_job.hpp calls wake_cpu_lane() before detail/lane_hooks.hpp
// (which future.hpp includes) declares it.
#include "tandem/future.hpp"
#include "tandem/runtime.hpp"
#include "tandem/shared_buffer.hpp"

namespace {

using namespace std::chrono_literals;
using tandem::bench::add_python;
using tandem::bench::better;
using tandem::bench::figures;
using tandem::bench::implementation;
using tandem::bench::run_command;
using clock_type = std::chrono::steady_clock;

constexpr unsigned workers = 2;
constexpr std::size_t chunk_items = 256;  // C2_batch: ints per task
constexpr auto parked_gap = 2ms;          // C1_parked: pause before each request
constexpr int crash_hold_ms = 10'000;     // C5: how long the busy tasks would run

// sizes: the full run, or --quick (a few seconds, only proves it works).
// Python runs fewer C2 tasks: at ~5k tasks/s, 200,000 would take 40 s a
// repetition; a rate is compared, and the final note says so.
struct sizes {
  int hot_rounds;
  int parked_rounds;
  int c2_tasks;
  int c2_python_tasks;
  int batch_tasks;
  int batch_python_chunks;
  std::size_t copy_bytes;
  int burn_ms;
};
constexpr sizes full_sizes{10'000, 500, 200'000, 20'000, 200'000, 2'000, std::size_t{64} << 20,
                           300};
constexpr sizes quick_sizes{200, 30, 5'000, 500, 500, 50, std::size_t{4} << 20, 30};

// ---- the tasks (defined before any runtime exists) ----------------------------

// hold_flags live in shared memory mapped before any runtime exists, so the
// workers (forked later, from the zygote) share them with this process.
struct hold_flags {
  std::atomic<int> started{0};
  std::atomic<int> stop{0};
};
hold_flags* holds = nullptr;

// hold() keeps its worker busy until told to stop (C5), at most `max_ms`.
int hold(int max_ms) {
  holds->started.fetch_add(1, std::memory_order_seq_cst);
  const auto deadline = clock_type::now() + std::chrono::milliseconds(max_ms);
  while (holds->stop.load(std::memory_order_seq_cst) == 0 && clock_type::now() < deadline)
    std::this_thread::sleep_for(1ms);
  return 0;
}

// burn() is pure computation the compiler cannot shorten (C6).
std::uint64_t burn(std::uint64_t iterations) {
  std::uint64_t x = iterations;
  for (std::uint64_t i = 0; i < iterations; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    x ^= x >> 29;
  }
  return x;
}

std::vector<int> increment_all(std::vector<int> items) {
  for (int& item : items) ++item;
  return items;
}

const auto inc_task =
    tandem::define_task<int(int)>("cpu_lane.inc", tandem::cpu, [](int x) { return x + 1; });
const auto chunk_task = tandem::define_task<std::vector<int>(std::vector<int>)>(
    "cpu_lane.increment_all", tandem::cpu, increment_all);
const auto echo_task = tandem::define_task<std::vector<std::byte>(std::vector<std::byte>)>(
    "cpu_lane.echo", tandem::cpu, [](std::vector<std::byte> bytes) { return bytes; });
const auto burn_task =
    tandem::define_task<std::uint64_t(std::uint64_t)>("cpu_lane.burn", tandem::cpu, burn);
const auto hold_task = tandem::define_task<int(int)>("cpu_lane.hold", tandem::cpu, hold);
const auto touch_task = tandem::define_task<tandem::shared_buffer(tandem::shared_buffer)>(
    "cpu_lane.touch", tandem::cpu, [](tandem::shared_buffer buffer) {
      buffer.data()[0] ^= std::byte{0xff};
      buffer.data()[buffer.size() - 1] ^= std::byte{0xff};
      return buffer;
    });

// ---- helpers ---------------------------------------------------------------

void check(bool ok, const char* workload, const char* impl) {
  if (!ok)
    throw std::runtime_error(std::string(workload) + ": " + impl + " computed a wrong result");
}

// settle() lets the previous implementation's processes go idle or exit
// before a timed run, so one implementation's leftovers do not slow the next.
void settle() { std::this_thread::sleep_for(5ms); }

double ms_since(clock_type::time_point start) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - start).count();
}

template <class F>
double timed_ms(F&& run) {
  settle();
  const auto start = clock_type::now();
  run();
  return ms_since(start);
}

figures per_second(const char* metric, double count, double ms) {
  return {{metric, count / (ms / 1000.0)}};
}

// round_trips() times `rounds` calls of `one_round` (one request and its
// reply), each after a pause of `gap`, and reports p50 and p99 in us.
template <class F>
figures round_trips(int rounds, std::chrono::microseconds gap, F&& one_round) {
  std::vector<double> us;
  us.reserve(static_cast<std::size_t>(rounds));
  settle();
  for (int i = 0; i < rounds; ++i) {
    if (gap.count() > 0) std::this_thread::sleep_for(gap);
    const auto start = clock_type::now();
    one_round(i);
    us.push_back(ms_since(start) * 1000.0);
  }
  return {{"p50_us", tandem::bench::percentile(us, 50)},
          {"p99_us", tandem::bench::percentile(us, 99)}};
}

std::vector<std::string> ppe_args(std::vector<std::string> mode) {
  mode.insert(mode.begin(), std::to_string(workers));
  return mode;
}

// ---- C1: round trip, p50_us / p99_us -------------------------------------------

figures c1_pipe_pool(int rounds, std::chrono::microseconds gap) {
  cpu_lane::pipe_pool pool(workers, 1);
  return round_trips(rounds, gap, [&](int i) {
    int got = 0;
    pool.run(
        1, [&](std::size_t, std::span<int> items) { items[0] = i; },
        [&](std::size_t, std::span<const int> items) { got = items[0]; });
    check(got == i + 1, "C1", "pipe_pool");
  });
}

figures c1_futex_floor(int rounds, std::chrono::microseconds gap, bool spinning) {
  cpu_lane::futex_floor floor(spinning);
  return round_trips(rounds, gap, [&](int) { floor.round_trip(); });
}

figures c1_tandem(tandem::runtime& rt, int rounds, std::chrono::microseconds gap) {
  return round_trips(rounds, gap,
                     [&](int i) { check(rt.submit(inc_task, i).get() == i + 1, "C1", "tandem"); });
}

// bench_c1() runs C1_hot (no pause; futex_floor spins) or C1_parked.
void bench_c1(tandem::bench::harness& h, tandem::runtime& rt, const char* workload, int rounds,
              std::chrono::microseconds gap) {
  std::vector<implementation> impls{{"tandem", [&] { return c1_tandem(rt, rounds, gap); }}};
  add_python(h, impls, "python_ppe", "python_ppe_cpu.py",
             ppe_args({"roundtrip", std::to_string(rounds), std::to_string(gap.count())}));
  impls.push_back({"pipe_pool", [&] { return c1_pipe_pool(rounds, gap); }});
  impls.push_back({"futex_floor", [&] { return c1_futex_floor(rounds, gap, gap.count() == 0); }});
  h.run_workload(workload, {{"p50_us", better::lower}, {"p99_us", better::lower}}, impls);
}

// ---- C2: throughput, tasks_per_s ------------------------------------------------

figures c2_single_tandem(tandem::runtime& rt, int tasks) {
  std::vector<tandem::future<int>> futures;
  futures.reserve(static_cast<std::size_t>(tasks));
  long long total = 0;
  const double ms = timed_ms([&] {
    for (int i = 0; i < tasks; ++i) futures.push_back(rt.submit(inc_task, i));
    for (auto& f : futures) total += f.get();
  });
  check(total == 1LL * tasks * (tasks + 1) / 2, "C2_single", "tandem");
  return per_second("tasks_per_s", tasks, ms);
}

figures c2_single_pipe_pool(cpu_lane::pipe_pool& pool, int tasks) {
  long long total = 0;
  const double ms = timed_ms([&] {
    pool.run(
        static_cast<std::size_t>(tasks),
        [](std::size_t i, std::span<int> items) { items[0] = static_cast<int>(i); },
        [&](std::size_t, std::span<const int> items) { total += items[0]; });
  });
  check(total == 1LL * tasks * (tasks + 1) / 2, "C2_single", "pipe_pool");
  return per_second("tasks_per_s", tasks, ms);
}

// The C2 pipe pools are forked once per workload, before its warm-up, not
// once per repetition: a fork write-protects every page of this process,
// and the next repetitions of the others (tandem allocates 200,000 jobs)
// would pay a page fault per page of their heap for the peer's fork.
void bench_c2_single(tandem::bench::harness& h, tandem::runtime& rt, const sizes& sz) {
  cpu_lane::pipe_pool pool(workers, 1);
  std::vector<implementation> impls{{"tandem", [&] { return c2_single_tandem(rt, sz.c2_tasks); }}};
  add_python(h, impls, "python_ppe", "python_ppe_cpu.py",
             ppe_args({"throughput", std::to_string(sz.c2_python_tasks)}));
  impls.push_back({"pipe_pool", [&] { return c2_single_pipe_pool(pool, sz.c2_tasks); }});
  h.run_workload("C2_single", {{"tasks_per_s", better::higher}}, impls);
}

// C2_batch: every task carries the same chunk 0..255 and returns it plus
// one; each implementation sums every returned item, inside the timing.
std::vector<int> batch_chunk() {
  std::vector<int> chunk(chunk_items);
  std::iota(chunk.begin(), chunk.end(), 0);
  return chunk;
}

long long batch_total(int tasks) {
  const long long per_chunk = 1LL * chunk_items * (chunk_items + 1) / 2;
  return per_chunk * tasks;
}

figures c2_batch_tandem(tandem::runtime& rt, int tasks) {
  const std::vector<int> chunk = batch_chunk();
  std::vector<tandem::future<std::vector<int>>> futures;
  futures.reserve(static_cast<std::size_t>(tasks));
  long long total = 0;
  const double ms = timed_ms([&] {
    for (int i = 0; i < tasks; ++i) futures.push_back(rt.submit(chunk_task, chunk));
    for (auto& f : futures) {
      const std::vector<int> items = f.get();
      total += std::accumulate(items.begin(), items.end(), 0LL);
    }
  });
  check(total == batch_total(tasks), "C2_batch", "tandem");
  return per_second("tasks_per_s", 1.0 * tasks * chunk_items, ms);
}

// c2_batch_submit_many(): `tasks` trivial tasks (int -> int + 1) through
// runtime::submit_many, one future each; every result summed in the timing.
figures c2_batch_submit_many(tandem::runtime& rt, int tasks) {
  std::vector<int> items(static_cast<std::size_t>(tasks));
  std::iota(items.begin(), items.end(), 0);
  long long total = 0;
  const double ms = timed_ms([&] {
    auto futures = rt.submit_many(inc_task, items);
    for (auto& f : futures) total += f.get();
  });
  check(total == 1LL * tasks * (tasks + 1) / 2, "C2_batch", "tandem_submit_many");
  return per_second("tasks_per_s", tasks, ms);
}

figures c2_batch_pipe_pool(cpu_lane::pipe_pool& pool, int tasks) {
  const std::vector<int> chunk = batch_chunk();
  long long total = 0;
  const double ms = timed_ms([&] {
    pool.run(
        static_cast<std::size_t>(tasks),
        [&](std::size_t, std::span<int> items) {
          std::copy(chunk.begin(), chunk.end(), items.begin());
        },
        [&](std::size_t, std::span<const int> items) {
          total += std::accumulate(items.begin(), items.end(), 0LL);
        });
  });
  check(total == batch_total(tasks), "C2_batch", "pipe_pool");
  return per_second("tasks_per_s", 1.0 * tasks * chunk_items, ms);
}

// c2_batch_map(): `tasks` trivial tasks through runtime::map in chunks of
// chunk_items, as Python's map(chunksize=256); every result summed.
figures c2_batch_map(tandem::runtime& rt, int tasks) {
  std::vector<int> items(static_cast<std::size_t>(tasks));
  std::iota(items.begin(), items.end(), 0);
  long long total = 0;
  const double ms = timed_ms([&] {
    const std::vector<int> results = rt.map(inc_task, items, {.chunk = chunk_items}).get();
    total = std::accumulate(results.begin(), results.end(), 0LL);
  });
  check(total == 1LL * tasks * (tasks + 1) / 2, "C2_batch", "tandem_map");
  return per_second("tasks_per_s", tasks, ms);
}

void bench_c2_batch(tandem::bench::harness& h, tandem::runtime& rt, const sizes& sz) {
  cpu_lane::pipe_pool pool(workers, chunk_items);
  std::vector<implementation> impls{
      {"tandem_map", [&] { return c2_batch_map(rt, sz.c2_tasks); }},
      {"tandem_submit_many", [&] { return c2_batch_submit_many(rt, sz.c2_tasks); }},
      {"tandem_chunks", [&] { return c2_batch_tandem(rt, sz.batch_tasks); }}};
  add_python(
      h, impls, "python_ppe", "python_ppe_cpu.py",
      ppe_args({"batch", std::to_string(sz.batch_python_chunks), std::to_string(chunk_items)}));
  impls.push_back({"pipe_pool", [&] { return c2_batch_pipe_pool(pool, sz.batch_tasks); }});
  h.run_workload("C2_batch", {{"tasks_per_s", better::higher}}, impls);
}

// ---- C3: a large argument and result, ms ----------------------------------------

// The copies are kept past the timing, so freeing them is never counted.
using bytes = std::vector<std::byte>;

// release_freed_memory() hands the heap's free pages back to the kernel
// before each timed copy. C2 leaves hundreds of MiB free in this process's
// heap, and each repetition frees 64 MiB blocks carved from it: paged in,
// so the in-process copies would reuse them and fault no page, while the
// worker's fresh vector faults all 16,384 of its pages (most of C3's time
// on these VMs). The ratio would compare unlike work (measured: 20 ms
// against 400). After this, both sides fault as in a fresh process.
void release_freed_memory() { malloc_trim(0); }

figures c3_tandem(tandem::runtime& rt, const bytes& data, std::optional<bytes>& result) {
  result.reset();
  release_freed_memory();
  const double ms = timed_ms([&] { result = rt.submit(echo_task, data).get(); });
  check(*result == data, "C3_copy", "tandem");
  return {{"ms", ms}};
}

figures c3_inprocess(const bytes& data, std::optional<bytes>& argument,
                     std::optional<bytes>& result) {
  argument.reset();
  result.reset();
  release_freed_memory();
  const double ms = timed_ms([&] {
    argument.emplace(data);
    result.emplace(*argument);
  });
  check(*result == data, "C3_copy", "inprocess_copy");
  return {{"ms", ms}};
}

void bench_c3(tandem::bench::harness& h, tandem::runtime& rt, const sizes& sz) {
  bytes data(sz.copy_bytes);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::byte>(i * 131);
  std::optional<bytes> argument, result;
  std::vector<implementation> impls{{"tandem", [&] { return c3_tandem(rt, data, result); }}};
  add_python(h, impls, "python_ppe", "python_ppe_cpu.py",
             ppe_args({"copy", std::to_string(sz.copy_bytes)}));
  impls.push_back({"inprocess_copy", [&] { return c3_inprocess(data, argument, result); }});
  h.run_workload("C3_copy", {{"ms", better::lower}}, impls);
}

// C3_zerocopy: the same bytes in a tandem::shared_buffer, which the task
// changes in place and returns: only a handle crosses. Each native row is
// the median of a few round trips. In C3_zerocopy each trip follows 20 ms
// of idling, as a buffer handed to an idle pool does: one single trip would
// be as slow or as fast as what ran just before it (the Python peer's
// processes, or another row). C3_zerocopy_hot sends them back to back, the
// worker still spinning from the trip before, as in a busy pool.
// Hot trips take microseconds, which three decimals of ms would round away.
struct trip_plan {
  int trips;
  std::chrono::milliseconds idle_before;
  const char* metric;
  double units_per_ms;
};
constexpr trip_plan c3_parked{5, std::chrono::milliseconds(20), "ms", 1.0};
constexpr trip_plan c3_hot{201, std::chrono::milliseconds(0), "us", 1000.0};

template <class Trip>
figures median_trip(const trip_plan& plan, Trip trip) {
  trip();  // untimed: the first trip after another row is a warm-up
  std::vector<double> ms;
  ms.reserve(static_cast<std::size_t>(plan.trips));
  for (int i = 0; i < plan.trips; ++i) {
    std::this_thread::sleep_for(plan.idle_before);
    const auto start = clock_type::now();
    trip();
    ms.push_back(ms_since(start));
  }
  std::nth_element(ms.begin(), ms.begin() + plan.trips / 2, ms.end());
  return {{plan.metric, ms[plan.trips / 2] * plan.units_per_ms}};
}

figures c3_zerocopy_tandem(tandem::runtime& rt, tandem::shared_buffer& buffer,
                           const trip_plan& plan) {
  return median_trip(plan, [&] {
    const tandem::shared_buffer back = rt.submit(touch_task, buffer).get();
    check(back.data() == buffer.data() && buffer.data()[0] != std::byte{0}, "C3_zerocopy",
          "tandem");
    buffer.data()[0] = std::byte{0};
  });
}

// The same round trip with an int instead of the buffer: what any task
// costs there, so the buffer's own cost is the difference.
figures c3_trivial_tandem(tandem::runtime& rt, const trip_plan& plan) {
  return median_trip(plan, [&] {
    check(rt.submit(inc_task, 1).get() == 2, "C3_zerocopy", "tandem_trivial_task");
  });
}

// The floor's child spins between hot trips, so it lives only for its own row.
figures c3_futex_floor(const trip_plan& plan) {
  cpu_lane::futex_floor floor(plan.idle_before.count() == 0);
  return median_trip(plan, [&] { floor.round_trip(); });
}

std::vector<implementation> c3_native_rows(tandem::runtime& rt, tandem::shared_buffer& buffer,
                                           const trip_plan& plan) {
  return {{"tandem", [&rt, &buffer, &plan] { return c3_zerocopy_tandem(rt, buffer, plan); }},
          {"tandem_trivial_task", [&rt, &plan] { return c3_trivial_tandem(rt, plan); }},
          {"futex_floor", [&plan] { return c3_futex_floor(plan); }}};
}

void bench_c3_zerocopy(tandem::bench::harness& h, tandem::runtime& rt, const sizes& sz) {
  tandem::shared_buffer buffer(rt, sz.copy_bytes);
  std::vector<implementation> impls = c3_native_rows(rt, buffer, c3_parked);
  add_python(h, impls, "python_shm", "python_ppe_cpu.py",
             ppe_args({"sharedmem", std::to_string(sz.copy_bytes)}));
  h.run_workload("C3_zerocopy", {{"ms", better::lower}}, impls);
  h.run_workload("C3_zerocopy_hot", {{c3_hot.metric, better::lower}},
                 c3_native_rows(rt, buffer, c3_hot));
}

// ---- fresh processes (C4, C5) ----------------------------------------------------
// A program makes its one runtime when it starts, while it is small; by C4
// this benchmark's process has grown (C1-C3 allocate hundreds of MiB) and
// runs another runtime, and fork, and a killed worker's exit, cost time in
// proportion to the memory mapped. So C4 and C5 are timed both ways:
// "tandem" in a fresh run of this binary (--probe C4|C5, which prints
// {"ms": ...}), as the Python peer runs in a fresh interpreter, and
// "tandem_in_bench" in this process.

std::string self_path() {
  char path[4096];
  const ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
  if (n <= 0) throw std::runtime_error("cannot read /proc/self/exe");
  return std::string(path, static_cast<std::size_t>(n));
}

figures in_fresh_process(const char* workload) {
  // Appended, not "'" + self_path(): GCC 12 gives a false -Wrestrict on that.
  std::string command = "'";
  command += self_path();
  command += "' --probe ";
  command += workload;
  return run_command(command);
}

// ---- C4: runtime construction to the first cpu result, ms ------------------------

figures c4_tandem() {
  std::optional<tandem::runtime> fresh;
  const double ms = timed_ms([&] {
    fresh.emplace(tandem::runtime_options{.cpu_workers = workers});
    check(fresh->submit(inc_task, 1).get() == 2, "C4", "tandem");
  });
  fresh.reset();  // destruction is not counted
  return {{"ms", ms}};
}

void bench_c4(tandem::bench::harness& h) {
  std::vector<implementation> impls{{"tandem", [] { return in_fresh_process("C4"); }}};
  add_python(h, impls, "python_ppe", "python_ppe_cpu.py", ppe_args({"startup"}));
  impls.push_back({"tandem_in_bench", c4_tandem});
  h.run_workload("C4", {{"ms", better::lower}}, impls);
}

// ---- C5: crash recovery, ms ------------------------------------------------------

template <class Condition>
void wait_until(Condition condition, const char* what) {
  const auto deadline = clock_type::now() + 10s;
  while (!condition()) {
    if (clock_type::now() > deadline) throw std::runtime_error(std::string("C5: ") + what);
    std::this_thread::sleep_for(100us);
  }
}

// get_within() is f.get(), or an error rather than a hang if the runtime
// never resolves f.
template <class T>
T get_within(tandem::future<T>& f, const char* what) {
  if (!f.wait_for(30s)) throw std::runtime_error(std::string("C5: ") + what + " never resolved");
  return f.get();
}

// release_holds ends every hold() on every path out of c5_tandem().
struct release_holds {
  ~release_holds() { holds->stop.store(1); }
};

// c5_tandem(): both workers run hold(); one is SIGKILLed; the clock runs from
// just before kill() until a trivial task submitted right after it has
// returned, which only the replacement worker can run. Then the other hold()
// is released; exactly one of the two must have failed with worker_crashed.
figures c5_tandem(tandem::runtime& rt) {
  holds->started.store(0);
  holds->stop.store(0);
  const release_holds release;
  std::vector<tandem::future<int>> busy;
  for (unsigned i = 0; i < workers; ++i) busy.push_back(rt.submit(hold_task, crash_hold_ms));
  wait_until([] { return holds->started.load() == static_cast<int>(workers); },
             "the workers never all ran hold()");
  const std::vector<pid_t> pids = rt.cpu_worker_pids();
  check(pids.size() == workers, "C5", "tandem (cpu_worker_pids)");
  const auto start = clock_type::now();
  if (kill(pids.front(), SIGKILL) != 0) throw std::runtime_error("C5: kill failed");
  auto after = rt.submit(inc_task, 1);
  check(get_within(after, "the task after the kill") == 2, "C5", "tandem");
  const double ms = ms_since(start);
  holds->stop.store(1);
  unsigned crashed = 0;
  for (auto& f : busy) {
    try {
      get_within(f, "a hold() task");
    } catch (const tandem::worker_crashed&) {
      ++crashed;
    }
  }
  check(crashed == 1, "C5", "tandem (worker_crashed)");
  return {{"ms", ms}};
}

// c5_fresh_runtime() is C5 with a runtime of its own, warmed up by a task.
figures c5_fresh_runtime() {
  tandem::runtime rt{tandem::runtime_options{.cpu_workers = workers}};
  check(rt.submit(inc_task, 1).get() == 2, "C5", "tandem (warm-up)");
  return c5_tandem(rt);
}

void bench_c5(tandem::bench::harness& h) {
  tandem::runtime rt{tandem::runtime_options{.cpu_workers = workers}};
  std::vector<implementation> impls{{"tandem", [] { return in_fresh_process("C5"); }}};
  add_python(h, impls, "python_pool", "python_pool_crash.py", {std::to_string(workers)});
  impls.push_back({"tandem_in_bench", [&] { return c5_tandem(rt); }});
  h.run_workload("C5", {{"ms", better::lower}}, impls);
}

// probe() times one C4 or C5 in this fresh process and prints it.
int probe(const std::string& workload) {
  figures got;
  if (workload == "C4") {
    got = c4_tandem();
  } else if (workload == "C5") {
    got = c5_fresh_runtime();
  } else {
    std::fprintf(stderr, "cpu_lane --probe: C4 or C5, not '%s'\n", workload.c_str());
    return 2;
  }
  std::printf("{\"ms\": %.6f}\n", got.at("ms"));
  return 0;
}

// ---- C6: parallel efficiency ------------------------------------------------------

// burn_iterations() calibrates burn() in this process to about `target_ms`.
std::uint64_t burn_iterations(int target_ms) {
  std::uint64_t iterations = 1'000'000;
  for (int pass = 0; pass < 3; ++pass) {
    const auto start = clock_type::now();
    volatile std::uint64_t sink = burn(iterations);
    (void)sink;
    iterations = std::max<std::uint64_t>(
        1, static_cast<std::uint64_t>(static_cast<double>(iterations) * target_ms /
                                      std::max(ms_since(start), 0.001)));
  }
  return iterations;
}

// Each repetition times one burn() in this process (single), then 4 on the
// workers (wall): efficiency = 4 * single / (workers * wall), 1.0 = perfect.
figures c6_tandem(tandem::runtime& rt, std::uint64_t iterations) {
  std::uint64_t expected = 0;
  const double single = timed_ms([&] { expected = burn(iterations); });
  std::vector<tandem::future<std::uint64_t>> parts;
  bool same = true;
  const double wall = timed_ms([&] {
    for (int i = 0; i < 4; ++i) parts.push_back(rt.submit(burn_task, iterations));
    for (auto& f : parts) same &= f.get() == expected;
  });
  check(same, "C6", "tandem");
  return {{"efficiency", 4 * single / (workers * wall)}};
}

void bench_c6(tandem::bench::harness& h, tandem::runtime& rt, const sizes& sz) {
  const std::uint64_t iterations = burn_iterations(sz.burn_ms);
  std::vector<implementation> impls{{"tandem", [&] { return c6_tandem(rt, iterations); }}};
  add_python(h, impls, "python_ppe", "python_ppe_cpu.py",
             ppe_args({"efficiency", std::to_string(sz.burn_ms)}));
  h.run_workload("C6", {{"efficiency", better::higher}}, impls);
}

void print_notes(const sizes& sz) {
  std::printf(
      "notes:\n"
      "  every implementation has %u worker processes; tandem's C1-C3 and C6 share one runtime\n"
      "  C1: futex_floor spins in C1_hot and parks (FUTEX_WAIT) in C1_parked; C1_parked pauses\n"
      "      %lld ms before every request, for every implementation\n"
      "  C2_single: python_ppe runs %d tasks, the others %d; tasks_per_s is a rate\n"
      "  C2_batch: tandem_map: %d trivial tasks through runtime::map, %zu to a chunk, one\n"
      "      vector of results; tandem_submit_many: the same through runtime::submit_many, one\n"
      "      future each; tandem_chunks: %d tasks of %zu ints each (vector<int> -> vector<int>),\n"
      "      pipe_pool %d requests of %zu ints, python_ppe map(chunksize=%zu) over %d items;\n"
      "      tasks_per_s counts ITEMS (tasks for submit_many), not submissions\n"
      "  C3_copy: %zu MiB; inprocess_copy = the argument copied into a fresh vector, then that\n"
      "      into a fresh result vector; before each repetition the heap's free pages go back\n"
      "      to the kernel (malloc_trim), so both sides fault their pages as a fresh process does\n"
      "  C3_zerocopy: the native rows are a round trip to workers idle for %lld ms (median of\n"
      "      %d); tandem vs tandem_trivial_task near 1 means the buffer costs nothing over any\n"
      "      task; C3_zerocopy_hot: the same native rows, %d trips back to back (the worker\n"
      "      still spinning)\n"
      "  C4, C5: tandem runs in a fresh process (this binary, --probe), as a program makes its\n"
      "      runtime at start; tandem_in_bench in this process, grown by C1-C3 and running\n"
      "      another runtime (fork and a killed worker's exit take longer in a larger process)\n"
      "  C5: from just before kill(SIGKILL) of one of 2 busy workers until a trivial task,\n"
      "      submitted right after the kill, has returned (only a replacement can run it)\n"
      "  C6: efficiency = 4 x (one %d ms task in-process) / (%u workers x wall of 4 tasks)\n",
      workers, static_cast<long long>(parked_gap.count()), sz.c2_python_tasks, sz.c2_tasks,
      sz.c2_tasks, chunk_items, sz.batch_tasks, chunk_items, sz.batch_tasks, chunk_items,
      chunk_items, sz.batch_python_chunks * static_cast<int>(chunk_items), sz.copy_bytes >> 20,
      static_cast<long long>(c3_parked.idle_before.count()), c3_parked.trips, c3_hot.trips,
      sz.burn_ms, workers);
}

int run(int argc, char** argv) {
  // Mapped before any runtime exists, so every worker inherits it.
  tandem::ipc::segment hold_memory(
      {std::size_t{64} << 10, tandem::ipc::segment_backing::anonymous});
  holds = hold_memory.construct<hold_flags>();
  if (argc == 3 && std::string(argv[1]) == "--probe") return probe(argv[2]);

  tandem::bench::harness h(
      "cpu_lane",
      tandem::bench::parse_options(argc, argv, "cpu_lane",
                                   {"C1_hot", "C1_parked", "C2_single", "C2_batch", "C3_copy",
                                    "C3_zerocopy", "C3_zerocopy_hot", "C4", "C5", "C6"}));
  const sizes& sz = h.opts().quick ? quick_sizes : full_sizes;
  std::printf("every implementation gets %u worker processes (tandem: cpu_workers = %u)\n", workers,
              workers);
  // C3's 64 MiB argument and result must fit the shared heaps (tandem's
  // default of 128 MiB, stated here because C3 depends on it).
  // C3_zerocopy's buffer lives in the shared object space.
  tandem::runtime rt{tandem::runtime_options{.cpu_workers = workers,
                                             .cpu_payload_bytes = std::size_t{128} << 20,
                                             .shared_memory_bytes = std::size_t{128} << 20}};
  bench_c1(h, rt, "C1_hot", sz.hot_rounds, 0us);
  bench_c1(h, rt, "C1_parked", sz.parked_rounds, parked_gap);
  bench_c2_single(h, rt, sz);
  bench_c2_batch(h, rt, sz);
  bench_c3(h, rt, sz);
  bench_c3_zerocopy(h, rt, sz);
  bench_c4(h);
  bench_c5(h);
  bench_c6(h, rt, sz);
  const int rc = h.finish();
  print_notes(sz);
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  return tandem::bench::guarded_main("cpu_lane", [&] { return run(argc, argv); });
}

// Batches (runtime::submit_many) and worker windows: several tasks queued
// in one worker's ring, taken back, withdrawn, re-run elsewhere, never run
// twice.
#include <doctest/doctest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <numeric>
#include <span>
#include <tuple>
#include <utility>
#include <vector>

#include "support/cpu_tasks.hpp"
#include "tandem/runtime.hpp"

namespace {

using tandem::test::lanes;
using tandem::test::spin_for;

// shared_atomics() maps n counters that every worker shares (mapped before
// any runtime, so the zygote and its workers inherit them).
std::atomic<int>* shared_atomics(std::size_t n) {
  void* memory = mmap(nullptr, n * sizeof(std::atomic<int>), PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) std::abort();  // before main: no test to fail yet
  return static_cast<std::atomic<int>*>(memory);
}

// run_counts[i] counts the runs of item i.
constexpr std::size_t max_items = 50'000;
std::atomic<int>* const run_counts = shared_atomics(max_items);
// released lets hold_until_released() return.
std::atomic<int>* const released = shared_atomics(1);

std::span<std::atomic<int>> counts(std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) run_counts[i].store(0);
  return {run_counts, n};
}

bool each_ran_once(std::span<std::atomic<int>> runs, std::size_t except = max_items) {
  for (std::size_t i = 0; i < runs.size(); ++i)
    if (runs[i].load() != (i == except ? 0 : 1)) return false;
  return true;
}

const auto count_run = tandem::define_task<int(int)>("batch.count_run", tandem::cpu, [](int i) {
  run_counts[i].fetch_add(1);
  return i;
});
// crash_at: item `bad` kills its worker before it counts its run.
const auto crash_at =
    tandem::define_task<int(int, int)>("batch.crash_at", tandem::cpu, [](int i, int bad) {
      if (i == bad) raise(SIGSEGV);
      run_counts[i].fetch_add(1);
      return i;
    });
const auto add = tandem::define_task<long(int, long)>("batch.add", tandem::cpu,
                                                      [](int a, long b) { return a + b; });
const auto fail_odd = tandem::define_task<int(int)>("batch.fail_odd", tandem::cpu, [](int i) {
  if (i % 2 != 0) throw std::invalid_argument("odd " + std::to_string(i));
  return i;
});
const auto hold = tandem::define_task<int(int)>("batch.hold", tandem::cpu, [](int ms) {
  spin_for(ms);
  return ms;
});
// hold_until_released() keeps its worker busy until the test sets
// `released` (or 30 s pass: a failure, not a hang).
const auto hold_until_released =
    tandem::define_task<int()>("batch.hold_until_released", tandem::cpu, [] {
      tandem::test::eventually([] { return released->load() != 0; }, std::chrono::seconds(30),
                               std::chrono::milliseconds(1));
      return released->load();
    });
const auto length_of = tandem::define_task<std::size_t(std::vector<std::byte>)>(
    "batch.length_of", tandem::cpu,
    [](const std::vector<std::byte>& bytes) { return bytes.size(); });
const auto where_io =
    tandem::define_task<int(int)>("batch.where_io", tandem::io, [](int) { return int(getpid()); });
const auto ping = tandem::define_task<int()>("batch.ping", tandem::cpu, [] { return 7; });

std::vector<int> iota(int n) {
  std::vector<int> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), 0);
  return v;
}

}  // namespace

TEST_CASE("submit_many returns one future per element, in order" * doctest::timeout(60)) {
  tandem::runtime rt{lanes(1, 2)};
  const auto runs = counts(1000);
  auto futures = rt.submit_many(count_run, iota(1000));
  REQUIRE(futures.size() == 1000);
  for (int i = 0; i < 1000; ++i) CHECK(futures[static_cast<std::size_t>(i)].get() == i);
  CHECK(each_ran_once(runs));
}

TEST_CASE("submit_many takes tuple-like elements for several parameters" * doctest::timeout(60)) {
  tandem::runtime rt{lanes(1, 2)};
  auto pairs = rt.submit_many(add, std::vector<std::pair<int, long>>{{1, 2}, {3, 4}});
  CHECK(pairs[0].get() == 3);
  CHECK(pairs[1].get() == 7);
  auto tuples = rt.submit_many(add, std::vector<std::tuple<int, long>>{{10, 20}});
  CHECK(tuples[0].get() == 30);
  auto none = rt.submit_many(ping, std::vector<std::tuple<>>(3));
  for (auto& f : none) CHECK(f.get() == 7);
  CHECK(rt.submit_many(ping, std::vector<std::tuple<>>{}).empty());
}

TEST_CASE("submit_many follows the task's affinity" * doctest::timeout(60)) {
  tandem::runtime rt{lanes(2, 1)};
  for (auto& f : rt.submit_many(where_io, iota(20))) CHECK(f.get() == getpid());
  auto on_cpu = rt.submit_many(tandem::cpu, where_io, iota(3));
  for (auto& f : on_cpu) CHECK(f.get() != getpid());
}

TEST_CASE("a batch of 20,000 tasks runs each exactly once" * doctest::timeout(120)) {
  tandem::runtime rt{lanes(1, 2)};
  const auto runs = counts(20'000);
  auto futures = rt.submit_many(count_run, iota(20'000));
  long long sum = 0;
  for (auto& f : futures) sum += f.get();
  CHECK(sum == 20'000LL * 19'999 / 2);
  CHECK(each_ran_once(runs));
  const auto m = rt.metrics();
  CHECK(m.cpu.completed == 20'000);
}

TEST_CASE("a task that throws fails alone in its batch" * doctest::timeout(60)) {
  tandem::runtime rt{lanes(1, 2)};
  auto futures = rt.submit_many(fail_odd, iota(200));
  for (int i = 0; i < 200; ++i) {
    auto& f = futures[static_cast<std::size_t>(i)];
    if (i % 2 == 0)
      CHECK(f.get() == i);
    else
      CHECK_THROWS_AS(f.get(), tandem::remote_error);
  }
}

TEST_CASE("a crash fails only its task: the rest of the worker's window runs elsewhere" *
          doctest::timeout(120)) {
  tandem::runtime rt{lanes(1, 2)};
  const int bad = 300;
  const auto runs = counts(2000);
  std::vector<std::pair<int, int>> items;
  for (int i = 0; i < 2000; ++i) items.emplace_back(i, bad);
  auto futures = rt.submit_many(crash_at, items);
  int crashed = 0;
  for (int i = 0; i < 2000; ++i) {
    try {
      const int got = futures[static_cast<std::size_t>(i)].get();
      CHECK(got == i);
    } catch (const tandem::worker_crashed& e) {
      ++crashed;
      CHECK(i == bad);
      CHECK(e.signal() == SIGSEGV);
    }
  }
  CHECK(crashed == 1);
  CHECK(each_ran_once(runs, bad));
}

TEST_CASE("cancel() withdraws a task waiting in a busy worker's window" * doctest::timeout(60)) {
  tandem::runtime rt{lanes(1, 1)};
  CHECK(rt.submit(ping).get() == 7);  // the worker is up
  const auto runs = counts(10);
  released->store(0);
  auto busy = rt.submit(hold_until_released);
  auto futures = rt.submit_many(count_run, iota(10));
  // With the one worker busy, the batch waits in its window (or the queue).
  for (std::size_t i = 3; i < 7; ++i) CHECK(futures[i].cancel());
  // Once withdrawn, a job is not withdrawn again (its future resolved once).
  for (std::size_t i = 3; i < 7; ++i) CHECK_FALSE(futures[i].cancel());
  futures[7].cancel(tandem::kill_running);  // not started: nothing is killed
  released->store(1);
  CHECK(busy.get() == 1);
  for (std::size_t i = 0; i < 10; ++i) {
    if (i >= 3 && i <= 7) {
      CHECK_THROWS_AS(futures[i].get(), tandem::task_cancelled);
      CHECK(runs[i].load() == 0);
    } else {
      CHECK(futures[i].get() == static_cast<int>(i));
      CHECK(runs[i].load() == 1);
    }
  }
  CHECK(rt.metrics().cpu.restarts_cancel == 0);
}

TEST_CASE("a task cancelled while queued is not withdrawn again once the lane let it go" *
          doctest::timeout(60)) {
  tandem::runtime rt{lanes(1, 1)};
  const auto runs = counts(2);
  released->store(0);
  auto busy = rt.submit(hold_until_released);
  auto cancelled = rt.submit(count_run, 0);
  CHECK(cancelled.cancel());
  auto behind = rt.submit(count_run, 1);
  // The lane counts the cancelled task when it meets it in the queue.
  REQUIRE(tandem::test::eventually([&] { return rt.metrics().cpu.cancelled == 1; }));
  CHECK_FALSE(cancelled.cancel());
  CHECK_THROWS_AS(cancelled.get(), tandem::task_cancelled);
  released->store(1);
  CHECK(busy.get() == 1);
  CHECK(behind.get() == 1);
  CHECK(runs[0].load() == 0);
}

TEST_CASE("a timeout kills only the task at the front of a window" * doctest::timeout(60)) {
  tandem::runtime rt{lanes(1, 1)};
  CHECK(rt.submit(ping).get() == 7);
  const auto runs = counts(20);
  auto slow =
      rt.submit(tandem::submit_options{.timeout = std::chrono::milliseconds(100)}, hold, 5000);
  auto futures = rt.submit_many(count_run, iota(20));
  CHECK_THROWS_AS(slow.get(), tandem::task_timeout);
  for (int i = 0; i < 20; ++i) CHECK(futures[static_cast<std::size_t>(i)].get() == i);
  CHECK(each_ran_once(runs));
}

TEST_CASE("a batch larger than the argument heap waits for room, never deadlocks" *
          doctest::timeout(120)) {
  auto options = lanes(1, 2);
  options.cpu_payload_bytes = std::size_t{1} << 20;
  tandem::runtime rt{options};
  std::vector<std::vector<std::byte>> items(40, std::vector<std::byte>(200'000));
  auto futures = rt.submit_many(length_of, items);
  for (auto& f : futures) CHECK(f.get() == 200'000);
}

TEST_CASE("arguments that fill a worker's ring wait for room" * doctest::timeout(120)) {
  tandem::runtime rt{lanes(1, 1)};
  // 15 KiB travels inline: a handful fill the 64 KiB ring long before the
  // window's depth.
  std::vector<std::vector<std::byte>> items(100, std::vector<std::byte>(15'000));
  auto futures = rt.submit_many(length_of, items);
  for (auto& f : futures) CHECK(f.get() == 15'000);
}

TEST_CASE("shutdown resolves every future of a queued batch" * doctest::timeout(120)) {
  for (auto mode : {tandem::drain, tandem::cancel}) {
    CAPTURE(static_cast<int>(mode));
    std::vector<tandem::future<int>> futures;
    {
      tandem::runtime rt{lanes(1, 2)};
      futures = rt.submit_many(hold, std::vector<int>(40, 5));
      rt.shutdown(mode);
    }
    int done = 0;
    for (auto& f : futures) {
      REQUIRE(f.is_ready());
      try {
        done += f.get() == 5;
      } catch (const tandem::error&) {  // task_cancelled or runtime_stopped
        CHECK(mode == tandem::cancel);
      }
    }
    if (mode == tandem::drain) CHECK(done == 40);
  }
}

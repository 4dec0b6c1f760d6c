// runtime::map(): a task over a range in chunks, in worker processes, its
// results in input order; failure per call, per chunk, and for the whole.
#include <doctest/doctest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <forward_list>
#include <list>
#include <numeric>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "support/cpu_tasks.hpp"
#include "tandem/runtime.hpp"

namespace {

using tandem::test::lanes;
using tandem::test::spin_for;

// shared_atomic() is a counter every worker shares (mapped before any
// runtime, so the zygote and its workers inherit it).
std::atomic<int>* shared_atomic() {
  void* memory = mmap(nullptr, sizeof(std::atomic<int>), PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) std::abort();  // before main: no test to fail yet
  return static_cast<std::atomic<int>*>(memory);
}

// calls counts the calls that ran, in every worker.
std::atomic<int>* const calls = shared_atomic();
// released lets hold_until_released() return.
std::atomic<int>* const released = shared_atomic();

const auto square = tandem::define_task<long(int)>("map.square", tandem::cpu, [](int x) {
  calls->fetch_add(1);
  return long{x} * x;
});
const auto join = tandem::define_task<std::string(std::string, int)>(
    "map.join", tandem::cpu, [](std::string s, int n) { return s + std::to_string(n); });
// in_which_process is declared for the io lane; map() still runs it in workers.
const auto in_which_process =
    tandem::define_task<int(int)>("map.in_which_process", tandem::io, [](int) { return getpid(); });
// refuse_negative throws for a negative element, naming it.
const auto refuse_negative =
    tandem::define_task<int(int)>("map.refuse_negative", tandem::cpu, [](int x) {
      calls->fetch_add(1);
      if (x < 0) throw std::invalid_argument("negative " + std::to_string(x));
      return x;
    });
const auto crash_on_7 = tandem::define_task<int(int)>("map.crash_on_7", tandem::cpu, [](int x) {
  if (x == 7) raise(SIGKILL);
  return x;
});
const auto spin_ms = tandem::define_task<int(int)>("map.spin_ms", tandem::cpu, [](int ms) {
  spin_for(ms);
  return ms;
});
const auto echo_text = tandem::define_task<std::string(std::string)>(
    "map.echo_text", tandem::cpu, [](std::string s) { return s; });
const auto count_call = tandem::define_task<int()>("map.count_call", tandem::cpu,
                                                   [] { return calls->fetch_add(1) + 1; });
// hold_until_released() keeps its worker busy until the test sets
// `released` (or 30 s pass: a failure, not a hang).
const auto hold_until_released =
    tandem::define_task<int()>("map.hold_until_released", tandem::cpu, [] {
      tandem::test::eventually([] { return released->load() != 0; }, std::chrono::seconds(30),
                               std::chrono::milliseconds(1));
      return released->load();
    });

std::vector<int> up_to(int n) {
  std::vector<int> items(static_cast<std::size_t>(n));
  std::iota(items.begin(), items.end(), 0);
  return items;
}

std::vector<long> squares_up_to(int n) {
  std::vector<long> expected;
  for (int i = 0; i < n; ++i) expected.push_back(long{i} * i);
  return expected;
}

TEST_CASE("map returns every result in input order, whatever the chunk size" *
          doctest::timeout(60)) {
  tandem::runtime rt{lanes(1, 2)};
  const auto items = up_to(1000);
  for (std::size_t chunk : {0, 1, 7, 256, 1000, 5000}) {
    CAPTURE(chunk);
    calls->store(0);
    CHECK(rt.map(square, items, {.chunk = chunk}).get() == squares_up_to(1000));
    CHECK(calls->load() == 1000);
  }
}

TEST_CASE("map chunks: the default is the element count over 4 x workers, at most 4096" *
          doctest::timeout(60)) {
  tandem::runtime rt{lanes(1, 2)};
  const auto before = rt.metrics().cpu.completed;
  CHECK(rt.map(square, up_to(1000)).get().size() == 1000);
  // 1000 elements over 8 chunks of 125: the lane ran 8 jobs.
  CHECK(rt.metrics().cpu.completed - before == 8);
  // 100,000 over 8 would be 12,500 a chunk: capped at 4096, 25 chunks.
  CHECK(rt.map(square, up_to(100'000)).get().size() == 100'000);
  CHECK(rt.metrics().cpu.completed - before == 8 + 25);
}

TEST_CASE("map takes ranges of unknown size and tuple-like elements" * doctest::timeout(60)) {
  tandem::runtime rt{lanes(1, 2)};
  // A forward_list knows no size: map() cannot divide it up ahead.
  std::forward_list<int> evens;
  for (int i = 598; i >= 0; i -= 2) evens.push_front(i);
  static_assert(!std::ranges::sized_range<decltype(evens)>);
  const auto got = rt.map(square, evens).get();
  REQUIRE(got.size() == 300);
  CHECK(got[299] == 598L * 598);

  const std::list<std::pair<std::string, int>> pairs{{"a", 1}, {"b", 2}, {"c", 3}};
  CHECK(rt.map(join, pairs, {.chunk = 2}).get() == std::vector<std::string>{"a1", "b2", "c3"});
}

TEST_CASE("map of nothing is an empty vector at once; a task of no argument maps too" *
          doctest::timeout(60)) {
  tandem::runtime rt{lanes(1, 1)};
  auto none = rt.map(square, std::vector<int>{});
  CHECK(none.is_ready());
  CHECK(none.get().empty());
  calls->store(0);
  auto counted = rt.map(count_call, std::vector<std::tuple<>>(5), {.chunk = 2}).get();
  std::sort(counted.begin(), counted.end());
  CHECK(counted == std::vector<int>{1, 2, 3, 4, 5});
}

TEST_CASE("map runs in worker processes whatever the task declares" * doctest::timeout(60)) {
  tandem::runtime rt{lanes(1, 2)};
  const auto pids = rt.map(in_which_process, up_to(20), {.chunk = 5}).get();
  const auto workers = rt.cpu_worker_pids();
  for (int pid : pids) {
    CHECK(pid != getpid());
    CHECK(std::find(workers.begin(), workers.end(), pid) != workers.end());
  }
}

TEST_CASE("a call that throws fails alone; the future holds the first failure in input order" *
          doctest::timeout(60)) {
  tandem::runtime rt{lanes(1, 2)};
  std::vector<int> items = up_to(100);
  items[40] = -40;
  items[90] = -90;
  calls->store(0);
  // Chunks of 10: the -90 chunk may well end first; -40 comes first in order.
  CHECK_THROWS_WITH_AS(rt.map(refuse_negative, items, {.chunk = 10}).get(),
                       doctest::Contains("std::invalid_argument: negative -40"),
                       tandem::remote_error);
  CHECK(calls->load() == 100);  // every other call ran
  CHECK(rt.map(refuse_negative, up_to(10)).get() == up_to(10));
}

TEST_CASE("a chunk whose worker dies fails its elements; other chunks and the lane go on" *
          doctest::timeout(60)) {
  tandem::runtime rt{lanes(1, 2)};
  CHECK_THROWS_AS(rt.map(crash_on_7, up_to(40), {.chunk = 5}).get(), tandem::worker_crashed);
  CHECK(rt.map(crash_on_7, up_to(7)).get() == up_to(7));
  CHECK(rt.map(square, up_to(50)).get() == squares_up_to(50));
}

TEST_CASE("a chunk past its timeout fails with task_timeout" * doctest::timeout(60)) {
  tandem::runtime rt{lanes(1, 2)};
  const auto started = std::chrono::steady_clock::now();
  CHECK_THROWS_AS(rt.map(spin_ms, std::vector<int>{1, 5000},
                         {.chunk = 1, .timeout = std::chrono::milliseconds(100)})
                      .get(),
                  tandem::task_timeout);
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(4));
  CHECK(rt.map(spin_ms, std::vector<int>{1, 2}).get() == std::vector<int>{1, 2});
}

TEST_CASE("cancel() withdraws the chunks not started; kill_running also stops the running" *
          doctest::timeout(60)) {
  tandem::runtime rt{lanes(1, 1)};
  SUBCASE("queued chunks never run, and are withdrawn once") {
    released->store(0);
    auto busy = rt.submit(hold_until_released);
    calls->store(0);
    auto mapped = rt.map(square, up_to(100), {.chunk = 10});
    CHECK(mapped.cancel());
    CHECK_FALSE(mapped.cancel());
    CHECK_THROWS_AS(mapped.get(), tandem::task_cancelled);
    released->store(1);
    CHECK(busy.get() == 1);
    CHECK(calls->load() == 0);
  }
  SUBCASE("queued chunks are withdrawn and a running one is killed") {
    auto mapped = rt.map(spin_ms, std::vector<int>{10'000, 10'000, 10'000}, {.chunk = 1});
    REQUIRE(tandem::test::eventually([&] { return rt.metrics().cpu.running == 1; },
                                     std::chrono::seconds(5), std::chrono::milliseconds(1)));
    const auto started = std::chrono::steady_clock::now();
    CHECK(mapped.cancel(tandem::kill_running));
    CHECK_THROWS_AS(mapped.get(), tandem::task_cancelled);
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(4));
    CHECK(rt.metrics().cpu.restarts_cancel == 1);
  }
  SUBCASE("a running chunk is killed") {
    auto mapped = rt.map(spin_ms, std::vector<int>{10'000});
    tandem::test::eventually([&] { return rt.metrics().cpu.running == 1; }, std::chrono::seconds(5),
                             std::chrono::milliseconds(1));
    const auto started = std::chrono::steady_clock::now();
    CHECK(mapped.cancel(tandem::kill_running));
    CHECK_THROWS_AS(mapped.get(), tandem::task_cancelled);
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(4));
  }
}

TEST_CASE("map's errors: an empty task, a chunk too large for the shared heap" *
          doctest::timeout(60)) {
  tandem::runtime rt{
      tandem::runtime_options{.cpu_workers = 1, .cpu_payload_bytes = std::size_t{1} << 20}};
  CHECK_THROWS_AS(rt.map(tandem::task_ref<long(int)>{}, up_to(3)).get(), tandem::error);
  const std::vector<std::string> texts(16, std::string(100'000, 'x'));
  CHECK_THROWS_AS(rt.map(echo_text, texts, {.chunk = 16}).get(), tandem::payload_too_large);
  // Smaller chunks fit.
  CHECK(rt.map(echo_text, texts, {.chunk = 2}).get() == texts);
}

TEST_CASE("shutdown resolves a map that is still running" * doctest::timeout(60)) {
  tandem::runtime rt{lanes(1, 1)};
  auto mapped = rt.map(spin_ms, std::vector<int>{200, 200, 200}, {.chunk = 1});
  rt.shutdown(tandem::cancel);
  CHECK_THROWS_AS(mapped.get(), tandem::task_cancelled);
}

}  // namespace

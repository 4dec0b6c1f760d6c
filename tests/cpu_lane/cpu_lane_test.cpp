// The cpu lane's normal work: routing by affinity, values of every kind,
// load balancing, concurrency, and continuations on cpu futures.
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "support/cpu_tasks.hpp"
#include "tandem/tandem.hpp"

using namespace std::chrono_literals;
using tandem::test::now_ns;
using tandem::test::spin_for;

namespace {

long slow_fib(int n) { return n < 2 ? n : slow_fib(n - 1) + slow_fib(n - 2); }

const auto fib = tandem::define_task<long(int)>("lane.fib", tandem::cpu, slow_fib);
const auto where =
    tandem::define_task<int()>("lane.where", tandem::cpu, [] { return int(getpid()); });
const auto where_any =
    tandem::define_task<int()>("lane.where_any", tandem::any, [] { return int(getpid()); });
const auto hold = tandem::define_task<int(int)>("lane.hold", tandem::cpu, [](int ms) {
  spin_for(ms);
  return int(getpid());
});
const auto stamps = tandem::define_task<std::pair<std::int64_t, std::int64_t>(int)>(
    "lane.stamps", tandem::cpu, [](int ms) {
      const auto start = now_ns();
      spin_for(ms);
      return std::pair{start, now_ns()};
    });
using record = std::map<std::string, std::vector<std::optional<int>>>;
const auto reshape = tandem::define_task<std::tuple<std::string, record, std::set<int>>(
    std::string, record, std::vector<int>)>(
    "lane.reshape", tandem::cpu, [](std::string s, record r, std::vector<int> v) {
      r["added"] = {1, std::nullopt};
      return std::tuple{s + "!", r, std::set<int>(v.begin(), v.end())};
    });
std::atomic<int> ran_here{0};
const auto nothing = tandem::define_task<void()>("lane.nothing", tandem::cpu, [] { ++ran_here; });

tandem::runtime_options two_workers() { return {.io_threads = 2, .cpu_workers = 2}; }

// both_workers_up() returns once two tasks ran at once on two workers: a
// worker still starting (slow under sanitizers) is not idle yet.
void both_workers_up(tandem::runtime& rt) {
  for (int i = 0; i < 100; ++i) {
    auto a = rt.submit(hold, 30);
    auto b = rt.submit(hold, 30);
    if (a.get() != b.get()) return;
  }
  FAIL("the second worker never started");
}

}  // namespace

TEST_CASE("a cpu task runs in a worker process and returns its value" * doctest::timeout(60)) {
  tandem::runtime rt{two_workers()};
  CHECK(rt.submit(fib, 20).get() == 6765);
  const auto pids = rt.cpu_worker_pids();
  REQUIRE(pids.size() == 2);
  CHECK(pids[0] != pids[1]);
  const int ran_in = rt.submit(where).get();
  CHECK(ran_in != getpid());
  CHECK(std::find(pids.begin(), pids.end(), ran_in) != pids.end());
  rt.submit(nothing).get();
  CHECK(ran_here == 0);  // it ran in the worker's copy of the counter
}

TEST_CASE("tandem::io overrides a task's affinity for one call" * doctest::timeout(60)) {
  tandem::runtime rt{two_workers()};
  CHECK(rt.submit(tandem::io, where).get() == getpid());
  CHECK(rt.submit(tandem::io, fib, 15).get() == 610);
  CHECK(rt.submit(tandem::cpu, where).get() != getpid());
}

TEST_CASE("tandem::any starts on an idle worker, else on an idle io thread" *
          doctest::timeout(60)) {
  tandem::runtime rt{two_workers()};
  both_workers_up(rt);
  std::this_thread::sleep_for(50ms);  // io threads parked
  CHECK(rt.submit(where_any).get() != getpid());
  // Long enough that a slow machine still asks while both are busy.
  auto busy1 = rt.submit(hold, 1500);
  auto busy2 = rt.submit(hold, 1500);
  tandem::test::eventually([&] { return rt.metrics().cpu.running == 2; });
  std::this_thread::sleep_for(100ms);  // both workers busy, io threads parked again
  CHECK(rt.submit(where_any).get() == getpid());
  busy1.get();
  busy2.get();
}

TEST_CASE("arguments and results of nested standard types cross the process boundary" *
          doctest::timeout(60)) {
  tandem::runtime rt{two_workers()};
  const record r{{"a", {1, 2}}, {"b", {std::nullopt}}};
  const auto [s, back, set] = rt.submit(reshape, "hi", r, std::vector<int>{3, 1, 3}).get();
  CHECK(s == "hi!");
  CHECK(back.at("a") == r.at("a"));
  CHECK(back.at("added") == std::vector<std::optional<int>>{1, std::nullopt});
  CHECK(set == std::set<int>{1, 3});
}

TEST_CASE("two long cpu tasks on two workers run at the same time" * doctest::timeout(60)) {
  tandem::runtime rt{two_workers()};
  both_workers_up(rt);
  auto a = rt.submit(stamps, 300);
  auto b = rt.submit(stamps, 300);
  const auto [a_start, a_end] = a.get();
  const auto [b_start, b_end] = b.get();
  CHECK(a_start < b_end);
  CHECK(b_start < a_end);
}

TEST_CASE("a long task never holds up short ones while another worker is free" *
          doctest::timeout(60)) {
  tandem::runtime rt{two_workers()};
  both_workers_up(rt);
  auto long_one = rt.submit(hold, 3000);
  std::vector<tandem::future<long>> short_ones;
  for (int i = 0; i < 50; ++i) short_ones.push_back(rt.submit(fib, 10));
  for (auto& f : short_ones) CHECK(f.get() == 55);
  CHECK_FALSE(long_one.is_ready());
  long_one.cancel(tandem::kill_running);
}

TEST_CASE("many threads submit cpu tasks at once" * doctest::timeout(120)) {
  tandem::runtime rt{two_workers()};
  std::atomic<int> wrong{0};
  std::vector<std::thread> submitters;
  for (int t = 0; t < 6; ++t)
    submitters.emplace_back([&, t] {
      std::vector<tandem::future<long>> mine;
      for (int i = 0; i < 300; ++i) mine.push_back(rt.submit(fib, (t + i) % 15));
      for (int i = 0; i < 300; ++i)
        if (mine[i].get() != slow_fib((t + i) % 15)) ++wrong;
    });
  for (auto& t : submitters) t.join();
  CHECK(wrong == 0);
}

TEST_CASE("then() and co_await work on cpu futures" * doctest::timeout(60)) {
  tandem::runtime rt{two_workers()};
  CHECK(rt.submit(fib, 10).then([](long v) { return v + 1; }).get() == 56);
  auto coroutine = [&]() -> tandem::future<long> {
    const long a = co_await rt.submit(fib, 12);
    const long b = co_await rt.submit(fib, 13);
    co_return a + b;
  };
  CHECK(rt.submit(tandem::io, coroutine).get() == 377);
}

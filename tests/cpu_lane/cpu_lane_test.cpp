// The cpu lane's normal work: routing by affinity, values of every kind,
// load balancing, concurrency, and continuations on cpu futures.
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "support/cpu_tasks.hpp"
#include "support/plain_structs.hpp"
#include "tandem/tandem.hpp"

using namespace std::chrono_literals;
using tandem::test::now_ns;
using tandem::test::spin_for;

namespace {

using tandem::test::tagged;
using tandem::test::vec3;

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
const auto shift = tandem::define_task<std::vector<vec3>(vec3, std::vector<vec3>)>(
    "lane.shift", tandem::cpu, [](vec3 by, std::vector<vec3> points) {
      for (auto& p : points) p = vec3(p.x + by.x, p.y + by.y, p.z + by.z);
      return points;
    });
const auto retag = tandem::define_task<std::vector<tagged>(tagged, std::vector<tagged>)>(
    "lane.retag", tandem::cpu, [](tagged first, std::vector<tagged> rest) {
      std::vector<tagged> all{first};  // no insert(): a tagged cannot be assigned
      for (const tagged& t : rest) all.push_back(t);
      return all;
    });
const auto one_tag = tandem::define_task<tagged(tagged)>("lane.one_tag", tandem::cpu, [](tagged t) {
  return tagged{t.tag + 1, t.value};
});
// It says in its message which process it ran in.
const auto throw_any = tandem::define_task<int()>("lane.throw_any", tandem::any, []() -> int {
  throw std::invalid_argument(std::to_string(getpid()));
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

TEST_CASE("plain structs with no default constructor or a const member cross it too" *
          doctest::timeout(60)) {
  tandem::runtime rt{two_workers()};
  CHECK(rt.submit(shift, vec3{1, 1, 1}, std::vector<vec3>{{0, 1, 2}, {3, 4, 5}}).get() ==
        std::vector<vec3>{{1, 2, 3}, {4, 5, 6}});
  CHECK(rt.submit(retag, tagged{1, 0.5}, std::vector<tagged>{{2, 1.5}}).get() ==
        std::vector<tagged>{{1, 0.5}, {2, 1.5}});
  CHECK(rt.submit(one_tag, tagged{1, 0.5}).get() == tagged{2, 0.5});
}

// remote_error_of() checks that `f` holds lane.throw_any's exception as a
// remote_error, thrown in a process that `pid_in` accepts.
template <class Check>
void remote_error_of(tandem::future<int> f, Check&& pid_in) {
  try {
    f.get();
    FAIL("no exception");
  } catch (const tandem::remote_error& e) {
    CHECK(e.type_name() == "std::invalid_argument");
    CHECK(pid_in(std::stoi(e.message())));
    CHECK(std::string(e.what()).find("lane.throw_any") != std::string::npos);
  }
}

TEST_CASE("a tandem::any task's exception is a remote_error on either lane" *
          doctest::timeout(60)) {
  tandem::runtime rt{two_workers()};
  both_workers_up(rt);
  std::this_thread::sleep_for(50ms);  // io threads parked
  remote_error_of(rt.submit(throw_any), [](int pid) { return pid != getpid(); });
  // Both workers busy: tandem::any picks an idle io thread.
  auto busy1 = rt.submit(hold, 1500);
  auto busy2 = rt.submit(hold, 1500);
  REQUIRE(tandem::test::eventually([&] { return rt.metrics().cpu.running == 2; }));
  std::this_thread::sleep_for(100ms);
  remote_error_of(rt.submit(throw_any), [](int pid) { return pid == getpid(); });
  // tandem::io named at the call keeps the exception itself.
  CHECK_THROWS_AS(rt.submit(tandem::io, throw_any).get(), std::invalid_argument);
  busy1.get();
  busy2.get();
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

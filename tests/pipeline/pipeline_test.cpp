// Pipelines: output order, stages on every lane, the memory bound, both
// error policies, cancellation, progress reports.
#include "tandem/pipeline.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <numeric>
#include <optional>
#include <random>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "support/eventually.hpp"
#include "tandem/runtime.hpp"

using namespace std::chrono_literals;

namespace {

const auto square = tandem::define_task<long(int)>("pipeline.square", tandem::cpu,
                                                   [](int x) { return long{x} * x; });
const auto picky = tandem::define_task<int(int)>("pipeline.picky", tandem::cpu, [](int x) {
  if (x % 5 == 0) throw std::invalid_argument("multiple of five: " + std::to_string(x));
  return x;
});

tandem::runtime_options small_runtime() { return {.io_threads = 2, .cpu_workers = 2}; }

std::vector<int> numbers(int n) {
  std::vector<int> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), 0);
  return v;
}

// collector is a sink that keeps what it receives (called one at a time).
struct collector {
  std::vector<int>* into;
  void operator()(int x) const { into->push_back(x); }
};

// jitter() sleeps a random 0-2 ms, so items overtake one another.
void jitter(int seed) {
  thread_local std::mt19937 random(static_cast<unsigned>(seed));
  std::this_thread::sleep_for(std::chrono::microseconds(random() % 2000));
}

// counted is an item that knows how many of its kind exist (moved-from
// shells do not count), so a test can see the pipeline's memory bound.
std::atomic<int> live{0};
std::atomic<int> peak{0};
struct counted {
  explicit counted(int v) : value(v) {
    const int now = ++live;
    int seen = peak.load();
    while (now > seen && !peak.compare_exchange_weak(seen, now)) {
    }
  }
  counted(counted&& other) noexcept : value(other.value), owns(std::exchange(other.owns, false)) {}
  counted(const counted&) = delete;
  counted& operator=(const counted&) = delete;
  counted& operator=(counted&&) = delete;
  ~counted() {
    if (owns) --live;
  }
  int value;
  bool owns = true;
};

}  // namespace

TEST_CASE("ordered output keeps input order through stages of random delay" *
          doctest::timeout(60)) {
  tandem::runtime rt{small_runtime()};
  std::vector<int> out;
  auto summary = tandem::pipeline<int>(numbers(300))
                     .then("sleepy",
                           [](int x) {
                             jitter(x);
                             return x * 2;
                           },
                           {.affinity = tandem::io_blocking, .parallelism = 4})
                     .then("jittery",
                           [](int x) {
                             jitter(x + 1);
                             return x + 1;
                           },
                           {.affinity = tandem::io_blocking, .parallelism = 3, .max_in_flight = 5})
                     .sink(collector{&out})
                     .run(rt)
                     .get();
  std::vector<int> expected;
  for (int x : numbers(300)) expected.push_back(x * 2 + 1);
  CHECK(out == expected);
  CHECK(summary.items_in == 300);
  CHECK(summary.items_out == 300);
  REQUIRE(summary.stages.size() == 3);
  CHECK(summary.stages[0].name == "sleepy");
  CHECK(summary.stages[2].name == "sink");
  for (const auto& stage : summary.stages) {
    CHECK(stage.items_in == 300);
    CHECK(stage.items_out == 300);
    CHECK(stage.items_failed == 0);
  }
  CHECK(summary.stages[0].busy > 0ns);
  CHECK(summary.wall > 0ns);
  CHECK(summary.failures.empty());
}

TEST_CASE("unordered output lets fast items pass a slow one" * doctest::timeout(60)) {
  tandem::runtime rt{small_runtime()};
  std::vector<int> out;
  tandem::pipeline<int>(numbers(40))
      .then("slow first",
            [](int x) {
              if (x == 0) std::this_thread::sleep_for(300ms);
              return x;
            },
            {.affinity = tandem::io_blocking, .parallelism = 4})
      .sink(collector{&out})
      .run(rt, {.order = tandem::unordered})
      .get();
  REQUIRE(out.size() == 40);
  CHECK(out.front() != 0);
  std::sort(out.begin(), out.end());
  CHECK(out == numbers(40));
}

TEST_CASE("io closures and cpu tasks mix in one pipeline" * doctest::timeout(60)) {
  tandem::runtime rt{small_runtime()};
  std::vector<std::string> out;
  auto summary = tandem::pipeline<int>(numbers(200))
                     .then("plus one", [](int x) { return x + 1; }, {.parallelism = 2})
                     .then("square", square, {.parallelism = 4})
                     .then("text", [](long x) { return std::to_string(x); })
                     .sink([&](std::string s) { out.push_back(std::move(s)); })
                     .run(rt)
                     .get();
  REQUIRE(out.size() == 200);
  for (int i = 0; i < 200; ++i)
    CHECK(out[static_cast<std::size_t>(i)] == std::to_string((i + 1L) * (i + 1L)));
  CHECK(summary.stages[1].name == "square");
  CHECK(summary.stages[1].items_out == 200);
}

TEST_CASE("a closure cannot be a cpu stage: said when the pipeline is built" *
          doctest::timeout(10)) {
  auto build = [] {
    return tandem::pipeline<int>(numbers(1))
        .then("f", [](int x) { return x; }, {.affinity = tandem::cpu});
  };
  CHECK_THROWS_WITH_AS(build(), doctest::Contains("define_task"), tandem::error);
}

TEST_CASE("a stage of parallelism 0 is a clear error naming it" * doctest::timeout(10)) {
  CHECK_THROWS_WITH_AS(tandem::pipeline<int>(numbers(3))
                           .then("square", [](int x) { return x * x; }, {.parallelism = 0}),
                       doctest::Contains("stage 'square' has parallelism 0"), tandem::error);
}

TEST_CASE("a builder used twice is a clear error, never a crash" * doctest::timeout(60)) {
  tandem::runtime rt{small_runtime()};
  auto head = tandem::pipeline<int>(numbers(3));
  auto whole = std::move(head).sink([](int) {});
  CHECK_THROWS_WITH_AS(std::move(head).sink([](int) {}), doctest::Contains("used already"),
                       tandem::error);
  CHECK(std::move(whole).run(rt).get().stages.size() == 1);
  CHECK_THROWS_WITH_AS(std::move(whole).run(rt), doctest::Contains("used already"), tandem::error);
}

TEST_CASE("a slow sink bounds the items alive, whatever the source holds" * doctest::timeout(60)) {
  tandem::runtime rt{small_runtime()};
  live = 0;
  peak = 0;
  std::atomic<int> made{0};
  std::atomic<int> consumed{0};
  std::stop_source stopper;
  const tandem::stage_options middle{.parallelism = 2, .max_in_flight = 3, .capacity = 4};
  const tandem::stage_options last{.affinity = tandem::io_blocking, .capacity = 2};
  const int bound = (4 + 3) + (2 + 2);  // capacity + max_in_flight of each stage
  auto run = tandem::pipeline<counted>([&]() -> std::optional<counted> { return counted(made++); })
                 .then(
                     "pass",
                     [](counted c) {
                       c.value += 1;
                       return c;
                     },
                     middle)
                 .sink(
                     [&](counted c) {
                       std::this_thread::sleep_for(200us);
                       if (++consumed == 300) stopper.request_stop();
                       CHECK(c.value > 0);
                     },
                     last)
                 .run(rt, {.stop_token = stopper.get_token()});
  CHECK_THROWS_AS(run.get(), tandem::task_cancelled);
  CHECK(consumed.load() >= 300);
  CHECK(peak.load() <= bound);
  CHECK(made.load() <= consumed.load() + bound);
  CHECK(live.load() == 0);
}

TEST_CASE("error_policy::stop rethrows the first error and processes nothing after it" *
          doctest::timeout(60)) {
  tandem::runtime rt{small_runtime()};
  std::atomic<int> checked{0};
  std::vector<int> out;
  auto run = tandem::pipeline<int>(numbers(1000))
                 .then("check",
                       [&](int x) {
                         ++checked;
                         if (x == 10) throw std::runtime_error("item ten is bad");
                         return x;
                       })
                 .sink(collector{&out})
                 .run(rt, {.errors = tandem::stop});
  CHECK_THROWS_WITH_AS(run.get(), "item ten is bad", std::runtime_error);
  CHECK(checked.load() == 11);  // one at a time: nothing after item 10 was started
  CHECK(out.size() <= 10);
  CHECK(std::all_of(out.begin(), out.end(), [](int x) { return x < 10; }));
}

TEST_CASE("error_policy::stop reports a cpu task's exception as remote_error" *
          doctest::timeout(60)) {
  tandem::runtime rt{small_runtime()};
  auto run = tandem::pipeline<int>(numbers(100))
                 .then("picky", picky, {.parallelism = 2})
                 .sink([](int) {})
                 .run(rt);
  CHECK_THROWS_AS(run.get(), tandem::remote_error);
}

TEST_CASE("error_policy::collect lists failed items and delivers the rest in order" *
          doctest::timeout(60)) {
  tandem::runtime rt{small_runtime()};
  std::vector<int> out;
  auto summary = tandem::pipeline<int>(numbers(100))
                     .then("tens",
                           [](int x) {
                             if (x % 10 == 3) throw std::runtime_error("bad " + std::to_string(x));
                             return x;
                           },
                           {.parallelism = 3})
                     .then("picky", picky, {.parallelism = 2})
                     .sink(collector{&out})
                     .run(rt, {.errors = tandem::collect})
                     .get();
  std::vector<int> expected;
  for (int x : numbers(100))
    if (x % 10 != 3 && x % 5 != 0) expected.push_back(x);
  CHECK(out == expected);
  REQUIRE(summary.failures.size() == 30);
  CHECK(summary.failures[0].stage == "picky");
  CHECK(summary.failures[0].index == 0);
  CHECK(summary.failures[1].stage == "tens");
  CHECK(summary.failures[1].index == 3);
  CHECK(summary.failures[1].message == "bad 3");
  CHECK_THROWS_AS(std::rethrow_exception(summary.failures[0].error), tandem::remote_error);
  CHECK(summary.stages[0].items_in == 100);
  CHECK(summary.stages[0].items_failed == 10);
  CHECK(summary.stages[0].items_out == 90);
  CHECK(summary.stages[1].items_failed == 20);
  CHECK(summary.items_out == expected.size());
}

TEST_CASE("a source that throws ends the pipeline under either policy" * doctest::timeout(60)) {
  tandem::runtime rt{small_runtime()};
  int n = 0;
  auto run = tandem::pipeline<int>([&]() -> std::optional<int> {
               if (n == 5) throw std::runtime_error("source broke");
               return n++;
             }).sink([](int) {
               }).run(rt, {.errors = tandem::collect});
  CHECK_THROWS_WITH(run.get(), "source broke");
}

TEST_CASE("a stop_token stops a pipeline; nothing of it runs afterwards" * doctest::timeout(60)) {
  tandem::runtime rt{small_runtime()};
  std::atomic<int> calls{0};
  std::atomic<int> consumed{0};
  std::stop_source stopper;
  int n = 0;
  auto run = tandem::pipeline<int>([&]() -> std::optional<int> { return n++; })
                 .then("work",
                       [&](int x) {
                         ++calls;
                         std::this_thread::sleep_for(100us);
                         return x;
                       },
                       {.parallelism = 2})
                 .sink([&](int) { ++consumed; })
                 .run(rt, {.stop_token = stopper.get_token()});
  CHECK_FALSE(run.cancel());  // running: cancel() cannot end it, the token does
  CHECK(tandem::test::eventually([&] { return consumed.load() >= 50; }));
  stopper.request_stop();
  CHECK_THROWS_AS(run.get(), tandem::task_cancelled);
  const int after = calls.load();
  std::this_thread::sleep_for(50ms);
  CHECK(calls.load() == after);
}

TEST_CASE("a pipeline whose token is already stopped does nothing" * doctest::timeout(60)) {
  tandem::runtime rt{small_runtime()};
  std::stop_source stopper;
  stopper.request_stop();
  bool asked = false;
  auto run = tandem::pipeline<int>([&]() -> std::optional<int> {
               asked = true;
               return 1;
             }).sink([](int) {
               }).run(rt, {.stop_token = stopper.get_token()});
  CHECK_THROWS_AS(run.get(), tandem::task_cancelled);
  CHECK_FALSE(asked);
}

TEST_CASE("progress reports count up to the total, the last one marked finished" *
          doctest::timeout(60)) {
  tandem::runtime rt{small_runtime()};
  struct seen {
    std::vector<std::uint64_t> done;
    std::uint64_t produced;
    std::optional<std::uint64_t> total;
    bool finished;
  };
  std::vector<seen> reports;  // on_progress is never called concurrently
  auto record = [&](const tandem::pipeline_progress& p) {
    seen s{{}, p.produced, p.total, p.finished};
    for (const auto& stage : p.stages) {
      s.done.push_back(stage.done);
      CHECK(stage.per_second >= 0);
    }
    reports.push_back(s);
  };
  tandem::pipeline<int>(numbers(200))
      .then("nap",
            [](int x) {
              std::this_thread::sleep_for(200us);
              return x;
            },
            {.affinity = tandem::io_blocking, .parallelism = 2})
      .sink([](int) {})
      .run(rt, {.on_progress = record, .progress_interval = 1ms})
      .get();
  REQUIRE_FALSE(reports.empty());
  CHECK(reports.back().finished);
  CHECK(std::count_if(reports.begin(), reports.end(), [](const seen& s) { return s.finished; }) ==
        1);
  CHECK(reports.back().done == std::vector<std::uint64_t>{200, 200});
  CHECK(reports.back().produced == 200);
  for (std::size_t i = 1; i < reports.size(); ++i) {
    CHECK(reports[i].total == std::optional<std::uint64_t>(200));
    CHECK(reports[i].produced >= reports[i - 1].produced);
    for (std::size_t k = 0; k < 2; ++k) CHECK(reports[i].done[k] >= reports[i - 1].done[k]);
  }
}

TEST_CASE("an empty source gives an empty summary" * doctest::timeout(30)) {
  tandem::runtime rt{small_runtime()};
  bool sank = false;
  int reports = 0;
  auto summary = tandem::pipeline<int>(std::vector<int>{})
                     .then("twice", [](int x) { return 2 * x; })
                     .sink([&](int) { sank = true; })
                     .run(rt, {.on_progress = [&](const tandem::pipeline_progress&) { ++reports; }})
                     .get();
  CHECK_FALSE(sank);
  CHECK(reports == 1);
  CHECK(summary.items_in == 0);
  CHECK(summary.items_out == 0);
  CHECK(summary.stages.size() == 2);
}

TEST_CASE("run().get() on the only io thread helps the pipeline along" * doctest::timeout(30)) {
  tandem::runtime rt{{.io_threads = 1, .cpu_workers = 1}};
  auto nested = rt.submit(tandem::io, [&rt] {
    std::vector<int> out;
    tandem::pipeline<int>(numbers(50))
        .then("inc", [](int x) { return x + 1; }, {.parallelism = 2})
        .sink(collector{&out})
        .run(rt)
        .get();
    return out.size();
  });
  CHECK(nested.get() == 50);
}

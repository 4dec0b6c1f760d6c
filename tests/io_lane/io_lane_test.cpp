// Behaviour of the io lane seen through the public API.
#include <doctest/doctest.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <set>
#include <thread>
#include <vector>

#include "runtime/sanitizers.hpp"
#include "tandem/runtime.hpp"
#include "tandem/when_all.hpp"

using namespace std::chrono_literals;

namespace {

long fib(tandem::runtime& rt, int n) {
  if (n < 2) return n;
  auto a = rt.submit(tandem::io, [&rt, n] { return fib(rt, n - 1); });
  auto b = rt.submit(tandem::io, [&rt, n] { return fib(rt, n - 2); });
  return a.get() + b.get();
}

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto secs = [](timeval t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6;
  };
  return secs(usage.ru_utime) + secs(usage.ru_stime);
}

}  // namespace

TEST_CASE("submit runs a callable with decay-copied arguments and returns its result" *
          doctest::timeout(20)) {
  tandem::runtime rt{tandem::runtime_options{.io_threads = 2}};
  std::string text = "abc";
  auto f = rt.submit(
      tandem::io, [](std::string s, int n) { return s.size() + static_cast<std::size_t>(n); }, text,
      2);
  CHECK(f.get() == 5);
  auto failing = rt.submit(tandem::io, [] { throw std::runtime_error("task failed"); });
  CHECK_THROWS_WITH_AS(failing.get(), "task failed", std::runtime_error);
  auto move_only = rt.submit(tandem::io, [p = std::make_unique<int>(4)] { return *p; });
  CHECK(move_only.get() == 4);
}

TEST_CASE("nested fork-join with get() does not deadlock, even on one thread" *
          doctest::timeout(60)) {
  for (unsigned threads : {1u, 2u, 4u}) {
    CAPTURE(threads);
    tandem::runtime rt{tandem::runtime_options{.io_threads = threads}};
    CHECK(rt.submit(tandem::io, [&rt] { return fib(rt, 18); }).get() == 2584);
  }
}

// Under ThreadSanitizer hundreds of blocking threads contending for the
// pool's lock crawl: 100,000 tasks there take longer than CI allows.
#if !defined(TANDEM_TSAN)
TEST_CASE("waits nested deep into an io thread's stack wait instead of overflowing it" *
          doctest::timeout(120)) {
  // Each task waits for a blocking child, so get() runs the next task on
  // top of it, deeper and deeper: past three quarters of the stack it must
  // only wait.
  constexpr int tasks = 100'000;
  tandem::runtime rt{tandem::runtime_options{.io_threads = 2}};
  std::vector<tandem::future<int>> results;
  for (int i = 0; i < tasks; ++i)
    results.push_back(rt.submit(tandem::io, [&rt, i] {
      return rt
          .submit(tandem::io_blocking,
                  [i] {
                    std::this_thread::sleep_for(10ms);
                    return i;
                  })
          .get();
    }));
  long long sum = 0;
  for (auto& f : results) sum += f.get();
  CHECK(sum == static_cast<long long>(tasks) * (tasks - 1) / 2);
}
#endif

TEST_CASE("wait_for() on an io thread runs no other task, so it returns on time" *
          doctest::timeout(30)) {
  tandem::runtime rt{tandem::runtime_options{.io_threads = 1}};
  auto outer = rt.submit(tandem::io, [&rt] {
    std::atomic<bool> ran{false};
    auto inner = rt.submit(tandem::io, [&ran] { ran = true; });
    const bool ready = inner.wait_for(20ms);
    const bool ran_meanwhile = ran.load();
    inner.get();  // get() runs it here: the lane's only thread is this one
    return !ready && !ran_meanwhile && ran.load();
  });
  CHECK(outer.get());
}

TEST_CASE("wait_for() with a huge timeout on an io thread still runs no other task" *
          doctest::timeout(30)) {
  tandem::runtime rt{tandem::runtime_options{.io_threads = 1}};
  auto outer = rt.submit(tandem::io, [&rt] {
    std::atomic<bool> ran{false};
    auto other = rt.submit(tandem::io, [&ran] { ran = true; });
    tandem::promise<int> p;
    auto waited = p.get_future();
    std::jthread setter([p = std::move(p)]() mutable {
      std::this_thread::sleep_for(50ms);
      p.set_value(1);
    });
    const bool ready = waited.wait_for(std::chrono::nanoseconds::max());
    return ready && !ran.load();  // `other` waits for this task to end
  });
  CHECK(outer.get());
}

TEST_CASE("tasks run on the configured number of worker threads" * doctest::timeout(30)) {
  tandem::runtime rt{tandem::runtime_options{.io_threads = 3}};
  std::mutex m;
  std::set<std::thread::id> seen;
  std::atomic<int> arrived{0};
  std::vector<tandem::future<void>> fs;
  for (int i = 0; i < 3; ++i)
    fs.push_back(rt.submit(tandem::io, [&] {
      {
        std::lock_guard lock(m);
        seen.insert(std::this_thread::get_id());
      }
      ++arrived;
      while (arrived.load() < 3) std::this_thread::yield();  // all three at once
    }));
  for (auto& f : fs) f.get();
  CHECK(seen.size() == 3);
  CHECK(seen.count(std::this_thread::get_id()) == 0);
}

TEST_CASE("an idle runtime uses (almost) no CPU" * doctest::timeout(30)) {
  tandem::runtime rt{tandem::runtime_options{.io_threads = 2}};
  rt.submit(tandem::io, [] {}).get();  // the lane has run, then goes idle
  std::this_thread::sleep_for(100ms);  // let the searchers park
  const double before = cpu_seconds();
  std::this_thread::sleep_for(1s);
  const double burned = cpu_seconds() - before;
  CHECK(burned < 0.010);
}

TEST_CASE("cancel() stops a queued task from running; a started one cannot be cancelled" *
          doctest::timeout(30)) {
  tandem::runtime rt{tandem::runtime_options{.io_threads = 1}};
  std::atomic<bool> release{false};
  std::atomic<bool> started{false};
  auto blocker = rt.submit(tandem::io, [&] {
    started = true;
    while (!release.load()) std::this_thread::yield();
  });
  while (!started.load()) std::this_thread::yield();
  std::atomic<bool> ran{false};
  auto queued = rt.submit(tandem::io, [&] { ran = true; });
  CHECK(queued.cancel());
  CHECK_FALSE(blocker.cancel());  // already running
  release = true;
  blocker.get();
  CHECK_THROWS_AS(queued.get(), tandem::task_cancelled);
  rt.submit(tandem::io, [] {}).get();  // the lane went past the cancelled task
  CHECK_FALSE(ran.load());
}

TEST_CASE("cancel racing with run: exactly one of them wins, every time" * doctest::timeout(120)) {
  tandem::runtime rt{tandem::runtime_options{.io_threads = 2}};
  int cancelled = 0, completed = 0;
  for (int i = 0; i < 20'000; ++i) {
    std::atomic<int> runs{0};
    auto f = rt.submit(tandem::io, [&runs] { return ++runs; });
    const bool won = f.cancel();
    int value = 0;
    bool was_cancelled = false;
    try {
      value = f.get();
    } catch (const tandem::task_cancelled&) {
      was_cancelled = true;
    }
    CHECK(was_cancelled == won);
    CHECK(value == (won ? 0 : 1));
    (won ? cancelled : completed) += 1;
    rt.submit(tandem::io, [] {}).get();
    CHECK(runs.load() == (won ? 0 : 1));
  }
  MESSAGE("cancelled " << cancelled << ", completed " << completed);
  CHECK(cancelled + completed == 20'000);
}

TEST_CASE("bursts separated by idle gaps are never lost (wake-up protocol)" *
          doctest::timeout(120)) {
  tandem::runtime rt{tandem::runtime_options{.io_threads = 2}};
  std::atomic<long> done{0};
  long expected = 0;
  for (int burst = 0; burst < 300; ++burst) {
    const int size = 1 + burst % 17;
    std::vector<tandem::future<void>> fs;
    for (int i = 0; i < size; ++i) fs.push_back(rt.submit(tandem::io, [&] { ++done; }));
    expected += size;
    for (auto& f : fs) f.get();
    if (burst % 10 == 0) std::this_thread::sleep_for(1ms);  // let workers park
  }
  CHECK(done.load() == expected);
}

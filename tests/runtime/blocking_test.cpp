#include <doctest/doctest.h>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "runtime/sanitizers.hpp"
#include "support/eventually.hpp"
#include "support/process_census.hpp"
#include "tandem/runtime.hpp"

using namespace std::chrono_literals;

namespace {

// peak_counter records the most tasks observed inside at once.
struct peak_counter {
  std::atomic<int> inside{0};
  std::atomic<int> peak{0};
  void enter() {
    const int now = ++inside;
    int seen = peak.load();
    while (now > seen && !peak.compare_exchange_weak(seen, now)) {
    }
  }
  void leave() { --inside; }
};

}  // namespace

TEST_CASE("1000 blocking tasks all block at once while io tasks still run" *
          doctest::timeout(120)) {
  tandem::runtime rt{tandem::runtime_options{.io_threads = 2, .max_blocking_threads = 1000}};
  peak_counter counter;
  std::atomic<bool> release{false};
  std::vector<tandem::future<void>> blocking;
  for (int i = 0; i < 1000; ++i)
    blocking.push_back(rt.submit(tandem::io_blocking, [&] {
      counter.enter();
      release.wait(false);  // blocks this thread until released
      counter.leave();
    }));
  // A non-blocking task submitted meanwhile completes: the workers are free.
  CHECK(rt.submit(tandem::io, [] { return 5; }).get() == 5);
  CHECK(tandem::test::eventually([&] { return counter.peak.load() >= 1000; }));
  release = true;
  release.notify_all();
  for (auto& f : blocking) f.get();
  CHECK(counter.peak.load() == 1000);
}

TEST_CASE("beyond max_blocking_threads, blocking tasks queue and all complete" *
          doctest::timeout(60)) {
  tandem::runtime rt{tandem::runtime_options{.io_threads = 1, .max_blocking_threads = 4}};
  peak_counter counter;
  std::vector<tandem::future<int>> fs;
  for (int i = 0; i < 40; ++i)
    fs.push_back(rt.submit(tandem::io_blocking, [&counter, i] {
      counter.enter();
      std::this_thread::sleep_for(2ms);
      counter.leave();
      return i;
    }));
  for (int i = 0; i < 40; ++i) CHECK(fs[static_cast<std::size_t>(i)].get() == i);
  CHECK(counter.peak.load() <= 4);
  CHECK(counter.peak.load() >= 1);
}

TEST_CASE("idle blocking threads retire after blocking_idle_timeout" * doctest::timeout(60)) {
  tandem::runtime rt{tandem::runtime_options{
      .io_threads = 1, .max_blocking_threads = 8, .blocking_idle_timeout = 50ms}};
  const tandem::test::process_census with_lane;
  // The threads are counted while all 8 tasks hold theirs: counted after
  // the tasks, they could already have retired on a slow machine.
  std::atomic<int> running{0};
  std::atomic<bool> release{false};
  std::vector<tandem::future<void>> fs;
  for (int i = 0; i < 8; ++i)
    fs.push_back(rt.submit(tandem::io_blocking, [&] {
      ++running;
      tandem::test::eventually([&] { return release.load(); }, 10s, 1ms);
    }));
  CHECK(tandem::test::eventually([&] { return running == 8; }));
  CHECK(tandem::test::process_census{}.threads >= with_lane.threads + 8);
  release = true;
  for (auto& f : fs) f.get();
  const auto settled = tandem::test::process_census::settled(with_lane);
  CHECK(settled.threads == with_lane.threads);
}

TEST_CASE("a huge blocking_idle_timeout keeps idle blocking threads" * doctest::timeout(30)) {
  for (const auto keep :
       {std::chrono::milliseconds::max(), std::chrono::duration_cast<std::chrono::milliseconds>(
                                              std::chrono::hours(24 * 365 * 300))}) {
    tandem::runtime rt{tandem::runtime_options{.io_threads = 1, .blocking_idle_timeout = keep}};
    rt.submit(tandem::io_blocking, [] {}).get();
    std::this_thread::sleep_for(100ms);
    CHECK(rt.metrics().blocking.threads == 1);
  }
}

TEST_CASE("a blocking task may submit io work and wait for it" * doctest::timeout(30)) {
  tandem::runtime rt{tandem::runtime_options{.io_threads = 1}};
  auto f = rt.submit(tandem::io_blocking,
                     [&rt] { return rt.submit(tandem::io, [] { return 20; }).get() + 1; });
  CHECK(f.get() == 21);
}

TEST_CASE("limits that mean nothing are refused with an error naming the option" *
          doctest::timeout(30)) {
  CHECK_THROWS_WITH_AS(tandem::runtime(tandem::runtime_options{.max_blocking_threads = 0}),
                       doctest::Contains("max_blocking_threads is 0"), tandem::error);
  CHECK_THROWS_WITH_AS(tandem::runtime(tandem::runtime_options{.blocking_idle_timeout = -1ms}),
                       doctest::Contains("blocking_idle_timeout is negative"), tandem::error);
  CHECK_THROWS_WITH_AS(tandem::runtime(tandem::runtime_options{.default_timeout = -1ms}),
                       doctest::Contains("default_timeout is negative"), tandem::error);
  tandem::runtime fine{tandem::runtime_options{.io_threads = 1}};  // and nothing is left behind
  CHECK(fine.submit(tandem::io, [] { return 1; }).get() == 1);
}

// The sanitizers reserve terabytes of address space: no small limit fits them.
#if !defined(TANDEM_ASAN) && !defined(TANDEM_TSAN)
TEST_CASE("io threads the system cannot start are a tandem::error, not a crash" *
          doctest::timeout(60)) {
  // A 2 GiB address-space limit makes thread stacks (8 MiB each) fail to
  // map after a few: the runtime must stop the threads it started and throw.
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    rlimit small{std::size_t{2} << 30, std::size_t{2} << 30};
    setrlimit(RLIMIT_AS, &small);
    try {
      tandem::runtime rt{tandem::runtime_options{.io_threads = 1000,
                                                 .cpu_workers = 1,
                                                 .cpu_payload_bytes = 1 << 20,
                                                 .shared_memory_bytes = 1 << 20}};
      _exit(2);
    } catch (const tandem::error& e) {
      if (std::string(e.what()).find("io_threads") != std::string::npos) _exit(0);
      std::fprintf(stderr, "the wrong error: %s\n", e.what());
      _exit(3);
    } catch (...) {
      _exit(4);
    }
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}
#endif

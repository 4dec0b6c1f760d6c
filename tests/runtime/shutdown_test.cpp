#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "support/process_census.hpp"
#include "tandem/runtime.hpp"

using namespace std::chrono_literals;

namespace {

// block_lane() occupies every worker until `release` is set, so what is
// submitted next stays queued.
std::vector<tandem::future<void>> block_lane(tandem::runtime& rt, unsigned threads,
                                             std::atomic<bool>& release) {
  std::atomic<unsigned> started{0};
  std::vector<tandem::future<void>> blockers;
  for (unsigned i = 0; i < threads; ++i)
    blockers.push_back(rt.submit(tandem::io, [&] {
      ++started;
      while (!release.load()) std::this_thread::sleep_for(1ms);
    }));
  while (started.load() < threads) std::this_thread::yield();
  return blockers;
}

}  // namespace

TEST_CASE("shutdown(drain) runs everything queued, then refuses new work" * doctest::timeout(60)) {
  tandem::runtime rt{tandem::runtime_options{.io_threads = 2}};
  std::atomic<int> ran{0};
  std::vector<tandem::future<void>> fs;
  for (int i = 0; i < 10'000; ++i) fs.push_back(rt.submit(tandem::io, [&] { ++ran; }));
  rt.shutdown(tandem::drain);
  CHECK(ran.load() == 10'000);
  for (auto& f : fs) CHECK(f.is_ready());
  auto late = rt.submit(tandem::io, [] { return 1; });
  CHECK_THROWS_AS(late.get(), tandem::runtime_stopped);
  rt.shutdown();  // a second call does nothing
}

TEST_CASE("shutdown(drain) runs what queued tasks spawn while draining" * doctest::timeout(60)) {
  std::atomic<int> grandchildren{0};
  {
    tandem::runtime rt{tandem::runtime_options{.io_threads = 2}};
    for (int i = 0; i < 100; ++i)
      rt.submit(tandem::io, [&] {
        for (int j = 0; j < 10; ++j) rt.submit(tandem::io, [&] { ++grandchildren; });
      });
  }  // the destructor drains
  CHECK(grandchildren.load() == 1000);
}

TEST_CASE("shutdown(cancel) resolves queued futures with task_cancelled" * doctest::timeout(60)) {
  tandem::runtime rt{tandem::runtime_options{.io_threads = 2}};
  std::atomic<bool> release{false};
  auto blockers = block_lane(rt, 2, release);
  std::atomic<int> ran{0};
  std::vector<tandem::future<void>> queued;
  for (int i = 0; i < 1000; ++i) queued.push_back(rt.submit(tandem::io, [&] { ++ran; }));
  std::thread releaser([&] {
    std::this_thread::sleep_for(20ms);
    release = true;
  });
  rt.shutdown(tandem::cancel);
  releaser.join();
  for (auto& b : blockers) CHECK_NOTHROW(b.get());  // running tasks finish
  int cancelled = 0;
  for (auto& f : queued) {
    REQUIRE(f.is_ready());
    try {
      f.get();
    } catch (const tandem::task_cancelled&) {
      ++cancelled;
    }
  }
  CHECK(cancelled + ran.load() == 1000);
  CHECK(cancelled > 0);
}

TEST_CASE("shutdown during a submission storm from 4 threads resolves every future" *
          doctest::timeout(120)) {
  for (auto mode : {tandem::drain, tandem::cancel}) {
    tandem::runtime rt{tandem::runtime_options{.io_threads = 2}};
    std::atomic<bool> go{false};
    std::vector<std::vector<tandem::future<int>>> per_thread(4);
    std::vector<std::thread> storm;
    for (int t = 0; t < 4; ++t)
      storm.emplace_back([&, t] {
        while (!go.load()) std::this_thread::yield();
        for (int i = 0; i < 20'000; ++i)
          per_thread[t].push_back(rt.submit(tandem::io, [i] { return i; }));
      });
    go = true;
    std::this_thread::sleep_for(2ms);
    rt.shutdown(mode);
    for (auto& s : storm) s.join();
    long values = 0, stopped = 0, cancelled = 0;
    for (auto& fs : per_thread)
      for (auto& f : fs) {
        REQUIRE(f.is_ready());  // resolved by the time shutdown returned, or refused at once
        try {
          f.get();
          ++values;
        } catch (const tandem::runtime_stopped&) {
          ++stopped;
        } catch (const tandem::task_cancelled&) {
          ++cancelled;
        }
      }
    CHECK(values + stopped + cancelled == 80'000);
    if (mode == tandem::drain) CHECK(cancelled == 0);
  }
}

TEST_CASE("a runtime leaves no thread and no fd behind" * doctest::timeout(60)) {
  const tandem::test::process_census before;
  for (int i = 0; i < 5; ++i) {
    tandem::runtime rt{tandem::runtime_options{.io_threads = 3}};
    rt.submit(tandem::io_blocking, [] { std::this_thread::sleep_for(1ms); }).get();
    rt.submit(tandem::io, [] {}).get();
  }
  const auto after = tandem::test::process_census::settled(before);
  CHECK(after.threads == before.threads);
  CHECK(after.fds == before.fds);
}

TEST_CASE("shutdown() from one of the runtime's own threads is refused with a clear error" *
          doctest::timeout(30)) {
  tandem::runtime rt{tandem::runtime_options{.io_threads = 1}};
  auto f = rt.submit(tandem::io, [&rt] { rt.shutdown(); });
  CHECK_THROWS_AS(f.get(), tandem::error);
}

TEST_CASE("a shutdown() called while another runs returns only once that one has finished" *
          doctest::timeout(60)) {
  tandem::runtime rt{tandem::runtime_options{.io_threads = 1}};
  std::atomic<bool> release{false};
  auto blockers = block_lane(rt, 1, release);
  auto queued = rt.submit(tandem::io, [] { return 7; });
  std::thread first([&] { rt.shutdown(tandem::drain); });
  // The first call is under way once it refuses new submissions.
  while (rt.submit(tandem::io, [] {}).wait_for(0s) == false) std::this_thread::yield();
  std::thread releaser([&] {
    std::this_thread::sleep_for(100ms);
    release = true;
  });
  rt.shutdown(tandem::drain);
  CHECK(queued.is_ready());  // the first call's drain ran it before this one returned
  CHECK(queued.get() == 7);
  releaser.join();
  first.join();
}

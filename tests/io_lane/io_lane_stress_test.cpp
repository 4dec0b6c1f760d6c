// Stress: volume, random spawn trees, many submitters.
// tandem's headers come first: Boost 1.74's asio/awaitable.hpp uses
// std::exchange without including <utility>.
#include "tandem/io_executor.hpp"
#include "tandem/runtime.hpp"
#include "tandem/when_all.hpp"

#include <doctest/doctest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

namespace {

// spawn_tree() spawns a random number of children at random depths, some
// joined with get(), some left to finish on their own; returns the node count.
long spawn_tree(tandem::runtime& rt, std::uint64_t seed, int depth, std::atomic<long>& detached) {
  std::mt19937_64 rng(seed);
  if (depth == 0) return 1;
  const int children = static_cast<int>(rng() % 4);
  long nodes = 1;
  std::vector<tandem::future<long>> joined;
  for (int c = 0; c < children; ++c) {
    const std::uint64_t child_seed = rng();
    if (rng() % 5 == 0) {
      rt.submit(tandem::io, [&rt, child_seed, depth, &detached] {
        detached += spawn_tree(rt, child_seed, depth - 1, detached);
      });
    } else {
      joined.push_back(rt.submit(tandem::io, [&rt, child_seed, depth, &detached] {
        return spawn_tree(rt, child_seed, depth - 1, detached);
      }));
    }
  }
  for (auto& f : joined) nodes += f.get();
  return nodes;
}

long count_tree(std::uint64_t seed, int depth) {
  std::mt19937_64 rng(seed);
  if (depth == 0) return 1;
  const int children = static_cast<int>(rng() % 4);
  long nodes = 1;
  for (int c = 0; c < children; ++c) {
    const std::uint64_t child_seed = rng();
    rng();  // the joined/detached draw
    nodes += count_tree(child_seed, depth - 1);
  }
  return nodes;
}

}  // namespace

TEST_CASE("one million tasks from outside all run exactly once" * doctest::timeout(300)) {
  tandem::runtime rt{tandem::runtime_options{.io_threads = 2}};
  constexpr int total = 1'000'000;
  std::atomic<int> ran{0};
  std::vector<tandem::future<void>> fs;
  fs.reserve(total);
  for (int i = 0; i < total; ++i)
    fs.push_back(rt.submit(tandem::io, [&ran] { ran.fetch_add(1, std::memory_order_relaxed); }));
  for (auto& f : fs) f.get();
  CHECK(ran.load() == total);
}

TEST_CASE("random spawn trees: every node runs once, joined or detached" * doctest::timeout(300)) {
  for (unsigned threads : {1u, 2u, 3u}) {
    CAPTURE(threads);
    std::atomic<long> detached{0};
    long joined = 0;
    long expected = 0;
    {
      tandem::runtime rt{tandem::runtime_options{.io_threads = threads}};
      for (std::uint64_t seed = 1; seed <= 20; ++seed) {
        joined += rt.submit(tandem::io, [&rt, seed, &detached] {
                      return spawn_tree(rt, seed, 9, detached);
                    }).get();
        expected += count_tree(seed, 9);
      }
    }  // the destructor drains the detached subtrees
    CHECK(joined + detached.load() == expected);
  }
}

TEST_CASE("four threads submitting and waiting at once" * doctest::timeout(300)) {
  tandem::runtime rt{tandem::runtime_options{.io_threads = 2}};
  std::atomic<long> sum{0};
  std::vector<std::thread> submitters;
  for (int t = 0; t < 4; ++t)
    submitters.emplace_back([&rt, &sum, t] {
      std::vector<tandem::future<int>> fs;
      for (int i = 0; i < 50'000; ++i)
        fs.push_back(rt.submit(tandem::io, [i, t] { return i % 7 + t; }));
      for (auto& f : fs) sum += f.get();
    });
  for (auto& s : submitters) s.join();
  long expected = 0;
  for (int t = 0; t < 4; ++t)
    for (int i = 0; i < 50'000; ++i) expected += i % 7 + t;
  CHECK(sum.load() == expected);
}

// The io workers take turns waiting in the Asio reactor (runtime/reactor.hpp)
// and hand that role over as they leave it for work. Here four threads each
// wake the reactor's waiter with a timer, then submit from outside, again
// and again: a wake-up lost in a hand-over would leave a task queued while
// the workers sleep, so each wait is bounded.
TEST_CASE("reactor events and outside submissions interleave without a stall" *
          doctest::timeout(300)) {
  tandem::runtime rt{tandem::runtime_options{.io_threads = 2}};
  std::atomic<int> stalls{0};
  auto rounds = [&rt, &stalls] {
    for (int round = 0; round < 5'000 && stalls == 0; ++round) {
      tandem::promise<void> fired;
      auto timer = std::make_shared<boost::asio::steady_timer>(rt.io_executor(),
                                                               std::chrono::milliseconds(0));
      timer->async_wait([&fired, timer](boost::system::error_code) { fired.set_value(); });
      auto event = fired.get_future();
      auto task = rt.submit(tandem::io, [round] { return round; });
      if (!event.wait_for(std::chrono::seconds(5)) || !task.wait_for(std::chrono::seconds(5)) ||
          task.get() != round)
        ++stalls;
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) threads.emplace_back(rounds);
  for (auto& t : threads) t.join();
  CHECK(stalls == 0);
}

// The shape of a server's cpu request: each coroutine waits on the reactor
// (a timer), then on a future resolved by a thread outside the lane (as the
// cpu lane's dispatcher does), round after round. A wake-up lost when a
// worker leaves the reactor strands a completion with every worker asleep.
TEST_CASE("coroutines alternating timers and outside completions all finish" *
          doctest::timeout(300)) {
  namespace asio = boost::asio;
  tandem::runtime rt{tandem::runtime_options{.io_threads = 2}};
  std::mutex mutex;
  std::condition_variable queued;
  std::deque<std::shared_ptr<tandem::promise<int>>> pending;
  bool closing = false;
  std::thread resolver([&] {
    std::unique_lock lock(mutex);
    for (;;) {
      queued.wait(lock, [&] { return closing || !pending.empty(); });
      if (pending.empty()) return;
      auto next = std::move(pending.front());
      pending.pop_front();
      lock.unlock();
      next->set_value(1);
      lock.lock();
    }
  });
  constexpr int coroutines = 8, rounds = 5'000;
  std::atomic<int> finished{0};
  tandem::promise<void> all_done;
  for (int c = 0; c < coroutines; ++c)
    asio::co_spawn(
        rt.io_executor(),
        [&]() -> asio::awaitable<void> {
          int sum = 0;
          for (int round = 0; round < rounds; ++round) {
            asio::steady_timer timer(co_await asio::this_coro::executor,
                                     std::chrono::milliseconds(0));
            co_await timer.async_wait(asio::use_awaitable);
            auto reply = std::make_shared<tandem::promise<int>>();
            auto answer = reply->get_future();
            {
              std::lock_guard lock(mutex);
              pending.push_back(std::move(reply));
            }
            queued.notify_one();
            sum += co_await tandem::async_get(std::move(answer), asio::use_awaitable);
          }
          CHECK(sum == rounds);
          if (++finished == coroutines) all_done.set_value();
        },
        asio::detached);
  const bool done = all_done.get_future().wait_for(std::chrono::seconds(120));
  CHECK(done);
  {
    std::lock_guard lock(mutex);
    closing = true;
  }
  queued.notify_one();
  resolver.join();
}

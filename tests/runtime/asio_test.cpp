// tandem's headers come first: Boost 1.74's asio/awaitable.hpp uses
// std::exchange without including <utility>, which GCC 12 no longer pulls
// in through other headers.
#include "tandem/io_executor.hpp"
#include "tandem/runtime.hpp"

#include <doctest/doctest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detail/thread_context.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <time.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
using namespace std::chrono_literals;

TEST_CASE("io_executor converts to any_io_executor and runs handlers on the io lane" *
          doctest::timeout(30)) {
  tandem::runtime rt{tandem::runtime_options{.io_threads = 2}};
  asio::any_io_executor ex = rt.io_executor();
  CHECK(ex == asio::any_io_executor(rt.io_executor()));
  tandem::promise<std::thread::id> ran_on;
  auto where = ran_on.get_future();
  asio::post(ex, [&] { ran_on.set_value(std::this_thread::get_id()); });
  CHECK(where.get() != std::this_thread::get_id());
}

TEST_CASE("a steady_timer made with io_executor fires its handler on the lane" *
          doctest::timeout(30)) {
  tandem::runtime rt{tandem::runtime_options{.io_threads = 2}};
  // Read before the timer is made: its 10 ms count from its construction.
  const auto start = std::chrono::steady_clock::now();
  asio::steady_timer timer(rt.io_executor(), 10ms);
  tandem::promise<bool> fired;
  auto f = fired.get_future();
  timer.async_wait([&](boost::system::error_code ec) { fired.set_value(!ec); });
  CHECK(f.get());
  CHECK(std::chrono::steady_clock::now() - start >= 10ms);
}

namespace {

// A wave of coroutines that all wait on timers sharing one expiry.
struct timer_wave {
  int peak = 0;             // most coroutines suspended at the same moment
  int started_in_time = 0;  // coroutines that began waiting before the expiry
  int finished = 0;
};

timer_wave run_timer_wave(tandem::runtime& rt, int count, std::chrono::milliseconds window) {
  std::atomic<int> waiting{0}, peak{0}, in_time{0}, finished{0};
  tandem::promise<void> all_done;
  auto done = all_done.get_future();
  const auto expiry = std::chrono::steady_clock::now() + window;
  for (int i = 0; i < count; ++i)
    asio::co_spawn(
        rt.io_executor(),
        [&]() -> asio::awaitable<void> {
          const int now = ++waiting;
          int seen = peak.load();
          while (now > seen && !peak.compare_exchange_weak(seen, now)) {
          }
          // No timer fires before the expiry, so if every coroutine counted
          // itself in before it, all of them were waiting at once.
          if (std::chrono::steady_clock::now() < expiry) ++in_time;
          asio::steady_timer t(co_await asio::this_coro::executor, expiry);
          co_await t.async_wait(asio::use_awaitable);
          --waiting;
          if (++finished == count) all_done.set_value();
        },
        asio::detached);
  done.get();
  return {peak.load(), in_time.load(), finished.load()};
}

}  // namespace

TEST_CASE("10,000 coroutines wait on timers at once on 2 threads, and all complete" *
          doctest::timeout(60)) {
  tandem::runtime rt{tandem::runtime_options{.io_threads = 2}};
  constexpr int count = 10'000;
  // A loaded machine may not start them all within the window: then the
  // wave proves nothing about concurrency, and a longer one is tried.
  for (auto window : {2000ms, 8000ms, 20000ms}) {
    const timer_wave wave = run_timer_wave(rt, count, window);
    CHECK(wave.finished == count);
    if (wave.started_in_time < count) continue;
    CHECK(wave.peak == count);  // all were suspended at once: none held a thread
    return;
  }
  FAIL("the machine never started 10,000 coroutines within 20 s");
}

TEST_CASE("async_get awaits a tandem future inside an Asio coroutine" * doctest::timeout(30)) {
  tandem::runtime rt{tandem::runtime_options{.io_threads = 2}};
  tandem::promise<int> result;
  auto f = result.get_future();
  asio::co_spawn(
      rt.io_executor(),
      [&]() -> asio::awaitable<void> {
        int v = co_await tandem::async_get(rt.submit(tandem::io, [] { return 20; }),
                                           asio::use_awaitable);
        try {
          co_await tandem::async_get(rt.submit(tandem::io, [] { throw std::runtime_error("x"); }),
                                     asio::use_awaitable);
        } catch (const std::runtime_error&) {
          v += 1;
        }
        result.set_value(v + 1);
      },
      asio::detached);
  CHECK(f.get() == 22);
}

TEST_CASE("a TCP echo over loopback runs on the lane with coroutines" * doctest::timeout(30)) {
  tandem::runtime rt{tandem::runtime_options{.io_threads = 2}};
  asio::ip::tcp::acceptor acceptor(rt.io_executor(), {asio::ip::make_address("127.0.0.1"), 0});
  const auto endpoint = acceptor.local_endpoint();
  asio::co_spawn(
      rt.io_executor(),
      [&]() -> asio::awaitable<void> {
        auto socket = co_await acceptor.async_accept(asio::use_awaitable);
        char buf[5];
        co_await asio::async_read(socket, asio::buffer(buf), asio::use_awaitable);
        co_await asio::async_write(socket, asio::buffer(buf), asio::use_awaitable);
      },
      asio::detached);
  tandem::promise<std::string> reply;
  auto got = reply.get_future();
  asio::co_spawn(
      rt.io_executor(),
      [&]() -> asio::awaitable<void> {
        asio::ip::tcp::socket socket(co_await asio::this_coro::executor);
        co_await socket.async_connect(endpoint, asio::use_awaitable);
        co_await asio::async_write(socket, asio::buffer("hello", 5), asio::use_awaitable);
        char buf[5];
        co_await asio::async_read(socket, asio::buffer(buf), asio::use_awaitable);
        reply.set_value(std::string(buf, 5));
      },
      asio::detached);
  CHECK(got.get() == "hello");
}

TEST_CASE("shutdown abandons pending timers and resolves what they owned" * doctest::timeout(30)) {
  tandem::future<void> owned;
  {
    tandem::runtime rt{tandem::runtime_options{.io_threads = 1}};
    auto p = std::make_shared<tandem::promise<void>>();
    owned = p->get_future();
    asio::co_spawn(
        rt.io_executor(),
        [p]() -> asio::awaitable<void> {
          asio::steady_timer t(co_await asio::this_coro::executor, 1h);
          co_await t.async_wait(asio::use_awaitable);
          p->set_value();
        },
        asio::detached);
    rt.submit(tandem::io, [] {}).get();
    std::this_thread::sleep_for(10ms);  // the coroutine is now waiting
  }                                     // shutdown must not wait an hour
  CHECK_THROWS_AS(owned.get(), tandem::broken_promise);
}

// The reactor has no thread of its own (runtime/reactor.hpp): these cases
// are the situations in which no io worker sleeps in it.

TEST_CASE("an io task on a one-thread lane can get() a future that a timer resolves" *
          doctest::timeout(30)) {
  tandem::runtime rt{tandem::runtime_options{.io_threads = 1}};
  auto outer = rt.submit(tandem::io, [&rt] {
    auto fired = std::make_shared<tandem::promise<bool>>();
    auto f = fired->get_future();
    auto timer = std::make_shared<asio::steady_timer>(rt.io_executor(), 5ms);
    timer->async_wait([fired, timer](boost::system::error_code ec) { fired->set_value(!ec); });
    return f.get();  // the only worker waits here: it must watch the reactor itself
  });
  CHECK(outer.get());
}

TEST_CASE("timers fire while the only io worker runs a stream of tasks" * doctest::timeout(30)) {
  tandem::runtime rt{tandem::runtime_options{.io_threads = 1}};
  std::atomic<bool> fired{false};
  asio::steady_timer timer(rt.io_executor(), 5ms);
  timer.async_wait([&](boost::system::error_code) { fired = true; });
  // Each task queues the next on the same worker, which so never sleeps,
  // until the timer's handler has run (or 10 s, a failure).
  const auto give_up = std::chrono::steady_clock::now() + 10s;
  std::function<void()> next = [&] {
    if (!fired && std::chrono::steady_clock::now() < give_up) rt.submit(tandem::io, next);
  };
  tandem::promise<void> chain_started;
  rt.submit(tandem::io, [&] {
    next();
    chain_started.set_value();
  });
  chain_started.get_future().get();
  while (!fired && std::chrono::steady_clock::now() < give_up) std::this_thread::sleep_for(1ms);
  CHECK(fired);
}

TEST_CASE("handlers posted straight to io_context() run, and one that throws is reported" *
          doctest::timeout(30)) {
  tandem::runtime rt{tandem::runtime_options{.io_threads = 2}};
  tandem::promise<void> ran;
  asio::post(rt.io_context(), [] { throw std::runtime_error("thrown by a raw handler"); });
  asio::post(rt.io_context(), [&] { ran.set_value(); });
  ran.get_future().get();
  CHECK(rt.submit(tandem::io, [] { return 7; }).get() == 7);  // the lane goes on
}

TEST_CASE("a timer fires on time while another worker runs a long handler" * doctest::timeout(30)) {
  tandem::runtime rt{tandem::runtime_options{.io_threads = 2}};
  std::atomic<bool> long_handler_done{false};
  tandem::promise<bool> second_fired_first;
  auto verdict = second_fired_first.get_future();
  // The first timer's handler holds the worker that was waiting in the
  // reactor for 1 s; the other worker must take its place, so the second
  // timer fires at about 50 ms, not after that handler.
  asio::steady_timer first(rt.io_executor(), 5ms), second(rt.io_executor(), 50ms);
  first.async_wait([&](boost::system::error_code) {
    std::this_thread::sleep_for(1s);
    long_handler_done = true;
  });
  second.async_wait(
      [&](boost::system::error_code) { second_fired_first.set_value(!long_handler_done); });
  CHECK(verdict.get());
  rt.shutdown(tandem::drain);
}

TEST_CASE("after the user stops io_context(), tasks still run and idle workers sleep" *
          doctest::timeout(30)) {
  tandem::runtime rt{tandem::runtime_options{.io_threads = 2}};
  rt.io_context().stop();
  CHECK(rt.submit(tandem::io, [] { return 1; }).get() == 1);
  timespec before{}, after{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &before);
  std::this_thread::sleep_for(500ms);
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &after);
  const double cpu_ms =
      (after.tv_sec - before.tv_sec) * 1e3 + (after.tv_nsec - before.tv_nsec) / 1e6;
  CHECK(cpu_ms < 100);  // a worker spinning on the stopped context would use most of 500 ms
  CHECK(rt.submit(tandem::io, [] { return 2; }).get() == 2);
}

TEST_CASE(
    "io workers give Asio a place to recycle handler memory, and pose as no io_context thread" *
    doctest::timeout(30)) {
  tandem::runtime rt{tandem::runtime_options{.io_threads = 2}};
  using asio_call_stack = boost::asio::detail::thread_context::thread_call_stack;
  CHECK(asio_call_stack::top() == nullptr);  // this thread is none of the lane's
  const auto [has_cache, inside_io_context] =
      rt.submit(tandem::io, [&rt] {
          return std::pair{asio_call_stack::top() != nullptr,
                           rt.io_context().get_executor().running_in_this_thread()};
        }).get();
  CHECK(has_cache);
  CHECK_FALSE(inside_io_context);
}

TEST_CASE("io_executor is blocking.never; required blocking.possibly it runs inline on io workers" *
          doctest::timeout(30)) {
  tandem::runtime rt{tandem::runtime_options{.io_threads = 2}};
  const auto never = rt.io_executor();
  const auto possibly = asio::require(never, asio::execution::blocking.possibly);
  CHECK(asio::require(possibly, asio::execution::blocking.never) == never);
  CHECK(possibly != never);
  // Both answer never, so that strands never run a function inline on their
  // own (io_executor.hpp).
  CHECK(asio::query(never, asio::execution::blocking) == asio::execution::blocking.never);
  CHECK(asio::query(possibly, asio::execution::blocking) == asio::execution::blocking.never);

  SUBCASE("dispatch() from an io task runs the handler before it returns, on that worker") {
    const bool ran_before_return =
        rt.submit(tandem::io, [&] {
            const auto worker = std::this_thread::get_id();
            bool ran_here = false;
            asio::dispatch(never, [&] { ran_here = std::this_thread::get_id() == worker; });
            return ran_here;
          }).get();
    CHECK(ran_before_return);
  }
  SUBCASE("post() from an io task is queued, never run inline, whatever the executor") {
    // Another worker may run the handler before post() returns; only this
    // thread, inside post(), must not. post() requires blocking.never of
    // the possibly-blocking executor too.
    static thread_local bool posting = false;
    std::atomic<bool> ran_inline{false};
    tandem::promise<void> ran;
    auto handled = ran.get_future();
    rt.submit(tandem::io, [&] {
        posting = true;
        asio::post(possibly, [&] {
          ran_inline = posting;
          ran.set_value();
        });
        posting = false;
      }).get();
    handled.get();
    CHECK_FALSE(ran_inline);
  }
  SUBCASE("dispatch() from a thread outside the lane is queued to the lane") {
    tandem::promise<std::thread::id> ran_on;
    auto where = ran_on.get_future();
    asio::dispatch(never, [&] { ran_on.set_value(std::this_thread::get_id()); });
    CHECK(where.get() != std::this_thread::get_id());
  }
  SUBCASE("a handler dispatched inline that throws is reported; the task goes on") {
    const int after = rt.submit(tandem::io, [&] {
                          bool reached = false;
                          asio::dispatch(never, [&] {
                            reached = true;
                            throw std::runtime_error("inline handler");
                          });
                          return reached ? 7 : 0;
                        }).get();
    CHECK(after == 7);
  }
}

TEST_CASE("a coroutine that posts to its own executor costs one io task per post" *
          doctest::timeout(30)) {
  tandem::runtime rt{tandem::runtime_options{.io_threads = 2}};
  constexpr int posts = 1000;
  tandem::promise<void> done;
  auto finished = done.get_future();
  const auto before = rt.metrics().io.submitted;
  asio::co_spawn(
      rt.io_executor(),
      [&]() -> asio::awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        for (int i = 0; i < posts; ++i) co_await asio::post(ex, asio::use_awaitable);
        done.set_value();
      },
      asio::detached);
  finished.get();
  // Each post is one task; without the inline dispatch that resumes the
  // coroutine, it was two. A few more for co_spawn's start and end.
  const auto tasks = rt.metrics().io.submitted - before;
  CHECK(tasks >= posts);
  CHECK(tasks <= posts + 5);
}

TEST_CASE("a strand over io_executor runs its handlers one at a time, all of them" *
          doctest::timeout(30)) {
  tandem::runtime rt{tandem::runtime_options{.io_threads = 2}};
  auto strand = asio::make_strand(rt.io_executor());
  constexpr int submitters = 4;
  constexpr int per_submitter = 2000;
  int counter = 0;  // guarded by the strand alone
  std::atomic<int> inside{0};
  std::atomic<bool> overlapped{false};
  std::vector<tandem::future<void>> done;
  for (int s = 0; s < submitters; ++s)
    done.push_back(rt.submit(tandem::io, [&] {
      for (int i = 0; i < per_submitter; ++i) {
        auto handler = [&] {
          if (inside.fetch_add(1) != 0) overlapped = true;
          ++counter;
          inside.fetch_sub(1);
        };
        // Alternate: dispatch may run inline when the strand is free here.
        if (i % 2)
          asio::dispatch(strand, handler);
        else
          asio::post(strand, handler);
      }
    }));
  for (auto& f : done) f.get();
  tandem::promise<int> total;
  auto seen = total.get_future();
  asio::post(strand, [&] { total.set_value(counter); });
  CHECK(seen.get() == submitters * per_submitter);
  CHECK_FALSE(overlapped);
}

namespace {

// dispatches_in_a_row() co_spawns on `ex` a coroutine that dispatches to its
// own executor `turns` times in a row, and returns how many turns it made.
template <class Executor>
int dispatches_in_a_row(const Executor& ex, int turns) {
  tandem::promise<int> done;
  auto counted = done.get_future();
  asio::co_spawn(
      ex,
      [&]() -> asio::awaitable<void> {
        auto own = co_await asio::this_coro::executor;
        int count = 0;
        for (int i = 0; i < turns; ++i) {
          co_await asio::dispatch(own, asio::use_awaitable);
          ++count;
        }
        done.set_value(count);
      },
      asio::detached);
  return counted.get();
}

}  // namespace

TEST_CASE("a coroutine that dispatches to its own executor 100,000 times in a row completes" *
          doctest::timeout(60)) {
  // Each inline dispatch resumes the coroutine one level deeper; past a
  // bound the lane queues instead (on an io_context this loop overflows the
  // stack).
  tandem::runtime rt{tandem::runtime_options{.io_threads = 2}};
  CHECK(dispatches_in_a_row(rt.io_executor(), 100'000) == 100'000);
}

TEST_CASE("a coroutine on a strand that dispatches to the strand 100,000 times in a row completes" *
          doctest::timeout(60)) {
  tandem::runtime rt{tandem::runtime_options{.io_threads = 2}};
  CHECK(dispatches_in_a_row(asio::make_strand(rt.io_executor()), 100'000) == 100'000);
}

TEST_CASE("a strand handler that waits in get() is not entered by the tasks it runs meanwhile" *
          doctest::timeout(30)) {
  // On one thread, get() inside the handler runs the waited-for task itself;
  // that task dispatches to the same strand, whose handler must wait its turn.
  tandem::runtime rt{tandem::runtime_options{.io_threads = 1}};
  auto strand = asio::make_strand(rt.io_executor());
  std::atomic<bool> first_running{false};
  std::atomic<bool> entered_inside{false};
  tandem::promise<void> second_ran;
  auto second_done = second_ran.get_future();
  asio::post(strand, [&] {
    first_running = true;
    rt.submit(tandem::io, [&] {
        asio::dispatch(strand, [&] {
          entered_inside = first_running.load();
          second_ran.set_value();
        });
      }).get();
    first_running = false;
  });
  second_done.get();
  CHECK_FALSE(entered_inside);
}

TEST_CASE("after shutdown(cancel) began, a dispatch from a running task is dropped, not run" *
          doctest::timeout(30)) {
  tandem::runtime rt{tandem::runtime_options{.io_threads = 2}};
  std::atomic<bool> task_started{false};
  std::atomic<bool> release{false};
  std::atomic<bool> handler_ran{false};
  auto task = rt.submit(tandem::io, [&] {
    task_started = true;
    while (!release) std::this_thread::sleep_for(1ms);
    asio::dispatch(rt.io_executor(), [&] { handler_ran = true; });
  });
  while (!task_started) std::this_thread::sleep_for(1ms);
  std::thread releaser([&] {
    // Once a submission from outside is refused, shutdown(cancel) has begun.
    for (;;) {
      try {
        rt.submit(tandem::io, [] {}).get();
      } catch (const tandem::runtime_stopped&) {
        break;
      } catch (const tandem::task_cancelled&) {
      }
      std::this_thread::sleep_for(1ms);
    }
    release = true;
  });
  rt.shutdown(tandem::cancel);
  releaser.join();
  CHECK_NOTHROW(task.get());
  CHECK_FALSE(handler_ran);
}

TEST_CASE("a coroutine waiting in async_get when its runtime goes is destroyed, never resumed" *
          doctest::timeout(30)) {
  tandem::promise<int> later;  // resolves once the coroutine's runtime is gone
  auto owned = std::make_shared<int>(0);
  const std::weak_ptr<int> watch = owned;
  std::atomic<bool> resumed{false};
  {
    tandem::runtime rt{tandem::runtime_options{.io_threads = 1}};
    std::atomic<bool> waiting{false};
    asio::co_spawn(
        rt.io_executor(),
        [&, owned = std::move(owned)]() -> asio::awaitable<void> {
          waiting = true;
          co_await tandem::async_get(later.get_future(), asio::use_awaitable);
          resumed = true;
        },
        asio::detached);
    while (!waiting) std::this_thread::sleep_for(1ms);
  }
  CHECK_FALSE(watch.expired());  // the frame waits on the promise's future
  later.set_value(1);            // its handler goes to a runtime that is gone: dropped
  CHECK(watch.expired());
  CHECK_FALSE(resumed);
}

TEST_CASE("async_get of a future with no state is a tandem::error, and leaks nothing" *
          doctest::timeout(30)) {
  tandem::runtime rt{tandem::runtime_options{.io_threads = 1}};
  // The exception is looked at on the io thread: an exception_ptr shared
  // across threads trips ThreadSanitizer (libstdc++'s count is not seen).
  std::promise<bool> tandem_error;
  asio::co_spawn(
      rt.io_executor(),
      []() -> asio::awaitable<int> {
        tandem::future<int> empty;
        co_return co_await tandem::async_get(std::move(empty), asio::use_awaitable);
      },
      [&](std::exception_ptr failure, int) {
        try {
          if (failure) std::rethrow_exception(failure);
          tandem_error.set_value(false);
        } catch (const tandem::error&) {
          tandem_error.set_value(true);
        } catch (...) {
          tandem_error.set_value(false);
        }
      });
  CHECK(tandem_error.get_future().get());

  auto held = std::make_shared<int>(0);
  const std::weak_ptr<int> watch = held;
  CHECK_THROWS_AS(tandem::async_get(tandem::future<int>{},
                                    [held = std::move(held)](std::exception_ptr, int) {}),
                  tandem::error);
  CHECK(watch.expired());
}

TEST_CASE("shutdown() from a handler on io_context() is the own-thread error, and harmless" *
          doctest::timeout(30)) {
  tandem::runtime rt{tandem::runtime_options{.io_threads = 1}};
  std::promise<std::string> refused;
  asio::post(rt.io_context(), [&] {
    try {
      rt.shutdown();
      refused.set_value("");
    } catch (const tandem::error& e) {
      refused.set_value(e.what());
    }
  });
  CHECK(refused.get_future().get().find("own threads") != std::string::npos);
  CHECK(rt.submit(tandem::io, [] { return 5; }).get() == 5);
}

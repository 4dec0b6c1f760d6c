#include "tandem/future.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

#include "tandem/runtime.hpp"

using namespace std::chrono_literals;

namespace {

tandem::future<int> add_one(tandem::future<int> input) {
  const int v = co_await std::move(input);
  co_return v + 1;
}

tandem::future<void> fail_after(tandem::future<int> input) {
  co_await input;
  throw std::runtime_error("coroutine failed");
}

tandem::future<int> fan_in(tandem::runtime& rt) {
  int total = 0;
  for (int i = 0; i < 100; ++i) total += co_await rt.submit(tandem::io, [i] { return i; });
  co_return total;
}

// watched_wait() awaits `input` with a local whose destructor counts, and
// says whether it ran on past the co_await.
tandem::future<int> watched_wait(tandem::future<int> input, std::atomic<int>& destroyed,
                                 std::atomic<bool>& resumed) {
  struct local {
    std::atomic<int>& count;
    ~local() { ++count; }
  } guard{destroyed};
  const int v = co_await std::move(input);
  resumed = true;
  co_return v;
}

// logged_wait() awaits `input` holding a local that appends `mark` to `log`
// when destroyed.
template <class T>
tandem::future<T> logged_wait(tandem::future<T> input, std::string& log, std::mutex& guard,
                              char mark) {
  struct local {
    std::string& log;
    std::mutex& guard;
    char mark;
    ~local() {
      std::lock_guard lock(guard);
      log += mark;
    }
  } logged{log, guard, mark};
  co_return co_await std::move(input);
}

}  // namespace

TEST_CASE("cancel() stops a coroutine where it waits: its locals are destroyed, it never resumes" *
          doctest::timeout(10)) {
  tandem::promise<int> p;
  std::atomic<int> destroyed{0};
  std::atomic<bool> resumed{false};
  auto f = watched_wait(p.get_future(), destroyed, resumed);
  CHECK(f.cancel());
  CHECK_THROWS_AS(f.get(), tandem::task_cancelled);
  CHECK(destroyed.load() == 0);  // still waiting
  p.set_value(1);                // what it waited for: it is stopped, not resumed
  CHECK(destroyed.load() == 1);
  CHECK_FALSE(resumed.load());
}

TEST_CASE("a coroutine waiting at shutdown(cancel) ends cancelled, not as a broken promise" *
          doctest::timeout(30)) {
  tandem::runtime rt{tandem::runtime_options{.io_threads = 1}};
  std::atomic<bool> release{false};
  auto blocker = rt.submit(tandem::io, [&] {
    while (!release.load()) std::this_thread::sleep_for(1ms);
  });
  std::atomic<int> destroyed{0};
  std::atomic<bool> resumed{false};
  auto waiting = watched_wait(rt.submit(tandem::io, [] { return 1; }), destroyed, resumed);
  std::thread releaser([&] {
    // Only once shutdown refuses new work has it begun to cancel: the
    // queued task the coroutine waits for is then cancelled, never run.
    while (!rt.submit(tandem::io, [] {}).wait_for(0s)) std::this_thread::yield();
    release = true;
  });
  rt.shutdown(tandem::cancel);
  releaser.join();
  CHECK_THROWS_AS(waiting.get(), tandem::task_cancelled);
  CHECK(destroyed.load() == 1);
  CHECK_FALSE(resumed.load());
}

TEST_CASE("at shutdown(cancel) an awaited coroutine's locals go before its awaiter's" *
          doctest::timeout(30)) {
  tandem::runtime rt{tandem::runtime_options{.io_threads = 1}};
  std::atomic<bool> release{false};
  auto blocker = rt.submit(tandem::io, [&] {
    while (!release.load()) std::this_thread::sleep_for(1ms);
  });
  std::string log;
  std::mutex guard;
  auto child = logged_wait(rt.submit(tandem::io, [] { return 1; }), log, guard, 'c');
  auto parent = logged_wait(std::move(child), log, guard, 'p');
  std::thread releaser([&] {
    while (!rt.submit(tandem::io, [] {}).wait_for(0s)) std::this_thread::yield();
    release = true;
  });
  rt.shutdown(tandem::cancel);
  releaser.join();
  CHECK_THROWS_AS(parent.get(), tandem::task_cancelled);
  std::lock_guard lock(guard);
  CHECK(log == "cp");  // the child's frame went first
}

TEST_CASE("a coroutine returning future<T> awaits a promise set by another thread" *
          doctest::timeout(10)) {
  tandem::promise<int> p;
  auto f = add_one(p.get_future());
  CHECK_FALSE(f.is_ready());
  std::thread([&] { p.set_value(41); }).join();
  CHECK(f.get() == 42);
}

TEST_CASE("co_await of a ready future continues without suspending" * doctest::timeout(10)) {
  auto f = add_one(tandem::make_ready_future(1));
  CHECK(f.is_ready());
  CHECK(f.get() == 2);
}

TEST_CASE("an exception thrown in a coroutine reaches its future" * doctest::timeout(10)) {
  auto f = fail_after(tandem::make_ready_future(1));
  CHECK_THROWS_WITH_AS(f.get(), "coroutine failed", std::runtime_error);
}

TEST_CASE("an exception awaited in a coroutine propagates through it" * doctest::timeout(10)) {
  auto f = add_one(
      tandem::make_exceptional_future<int>(std::make_exception_ptr(std::logic_error("in"))));
  CHECK_THROWS_AS(f.get(), std::logic_error);
}

TEST_CASE("a coroutine awaiting io-lane tasks resumes on the lane" * doctest::timeout(30)) {
  tandem::runtime rt{tandem::runtime_options{.io_threads = 2}};
  auto f = rt.submit(tandem::io, [&rt] { return fan_in(rt); });  // future<future<int>> unwrapped
  CHECK(f.get() == 4950);
}

#include "tandem/future.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "tandem/runtime.hpp"

using namespace std::chrono_literals;

TEST_CASE("promise delivers a value, void and a move-only value" * doctest::timeout(10)) {
  tandem::promise<int> p;
  auto f = p.get_future();
  CHECK_FALSE(f.is_ready());
  p.set_value(42);
  CHECK(f.is_ready());
  CHECK(f.get() == 42);
  CHECK_FALSE(f.valid());

  tandem::promise<void> pv;
  auto fv = pv.get_future();
  pv.set_value();
  fv.get();

  tandem::promise<std::unique_ptr<std::string>> pm;
  auto fm = pm.get_future();
  pm.set_value(std::make_unique<std::string>("moved"));
  CHECK(*fm.get() == "moved");
}

TEST_CASE("an exception set on the promise is rethrown by get()" * doctest::timeout(10)) {
  tandem::promise<int> p;
  auto f = p.get_future();
  p.set_exception(std::make_exception_ptr(std::logic_error("bad input")));
  CHECK_THROWS_WITH_AS(f.get(), "bad input", std::logic_error);
}

TEST_CASE("a promise destroyed unfulfilled leaves broken_promise" * doctest::timeout(10)) {
  tandem::future<int> f;
  {
    tandem::promise<int> p;
    f = p.get_future();
  }
  CHECK_THROWS_AS(f.get(), tandem::broken_promise);
}

TEST_CASE("misuse gives a clear tandem::error" * doctest::timeout(10)) {
  tandem::future<int> empty;
  CHECK_FALSE(empty.valid());
  CHECK_THROWS_AS(empty.get(), tandem::error);
  CHECK_THROWS_AS((void)empty.is_ready(), tandem::error);

  tandem::promise<int> p;
  auto f = p.get_future();
  CHECK_THROWS_AS(p.get_future(), tandem::error);
  p.set_value(1);
  CHECK_THROWS_AS(p.set_value(2), tandem::error);
  CHECK(f.get() == 1);
}

TEST_CASE("get() blocks until another thread sets the value" * doctest::timeout(10)) {
  tandem::promise<int> p;
  auto f = p.get_future();
  std::thread producer([&] {
    std::this_thread::sleep_for(20ms);
    p.set_value(7);
  });
  CHECK(f.get() == 7);
  producer.join();
}

TEST_CASE("wait_for() times out, then sees the value" * doctest::timeout(10)) {
  tandem::promise<int> p;
  auto f = p.get_future();
  CHECK_FALSE(f.wait_for(5ms));
  p.set_value(3);
  CHECK(f.wait_for(0ms));
  f.wait();
  CHECK(f.get() == 3);
}

TEST_CASE("wait_for() with a huge timeout waits instead of overflowing into the past" *
          doctest::timeout(10)) {
  for (const auto huge :
       {std::chrono::duration_cast<std::chrono::hours>(std::chrono::seconds::max()),
        std::chrono::hours(24 * 365 * 1000)}) {
    tandem::promise<int> p;
    auto f = p.get_future();
    std::thread setter([&p] {
      std::this_thread::sleep_for(50ms);
      p.set_value(1);
    });
    CHECK(f.wait_for(huge));
    CHECK(f.wait_for(std::chrono::nanoseconds::max()));
    setter.join();
  }
  tandem::promise<int> never;
  CHECK_FALSE(never.get_future().wait_for(std::chrono::seconds::min()));
}

TEST_CASE("cancel() resolves a pending future with task_cancelled; later sets are ignored" *
          doctest::timeout(10)) {
  tandem::promise<int> p;
  auto f = p.get_future();
  CHECK(f.cancel());
  p.set_value(1);  // no effect, no throw
  CHECK_THROWS_AS(f.get(), tandem::task_cancelled);
}

TEST_CASE("cancel() on a finished future is a no-op returning false" * doctest::timeout(10)) {
  auto f = tandem::make_ready_future(5);
  CHECK_FALSE(f.cancel());
  CHECK(f.get() == 5);
}

TEST_CASE("then() chains on values, skips on exceptions, and can take the future" *
          doctest::timeout(10)) {
  tandem::promise<int> p;
  auto chained = p.get_future()
                     .then(tandem::inline_executor{}, [](int x) { return x * 2; })
                     .then(tandem::inline_executor{}, [](int x) { return std::to_string(x); });
  p.set_value(21);
  CHECK(chained.get() == "42");

  bool ran = false;
  auto skipped =
      tandem::make_exceptional_future<int>(std::make_exception_ptr(std::runtime_error("x")))
          .then(tandem::inline_executor{}, [&](int) {
            ran = true;
            return 0;
          });
  CHECK_THROWS_AS(skipped.get(), std::runtime_error);
  CHECK_FALSE(ran);

  auto handled =
      tandem::make_exceptional_future<int>(std::make_exception_ptr(std::runtime_error("x")))
          .then(tandem::inline_executor{}, [](tandem::future<int> f) {
            try {
              return f.get();
            } catch (const std::runtime_error&) {
              return -1;
            }
          });
  CHECK(handled.get() == -1);
}

TEST_CASE("then() without a runtime runs inline; a returned future is unwrapped" *
          doctest::timeout(10)) {
  tandem::promise<int> inner;
  auto inner_future = inner.get_future();
  auto outer = tandem::make_ready_future(1).then(
      [&](int) { return std::move(inner_future); });  // future<future<int>> -> future<int>
  CHECK_FALSE(outer.is_ready());
  inner.set_value(9);
  CHECK(outer.get() == 9);
}

TEST_CASE("then() by default runs on the io lane of the producing runtime" * doctest::timeout(20)) {
  tandem::runtime rt{tandem::runtime_options{.io_threads = 2}};
  const auto caller = std::this_thread::get_id();
  auto f = rt.submit(tandem::io, [] {
               return std::this_thread::get_id();
             }).then([](std::thread::id producer) {
    return std::make_pair(producer, std::this_thread::get_id());
  });
  const auto [producer, continuation] = f.get();
  CHECK(producer != caller);
  CHECK(continuation != caller);
}

TEST_CASE("then() after the runtime is gone gives runtime_stopped" * doctest::timeout(20)) {
  tandem::future<int> f;
  {
    tandem::runtime rt{tandem::runtime_options{.io_threads = 1}};
    f = rt.submit(tandem::io, [] { return 1; });
    f.wait();
  }
  auto g = f.then([](int x) { return x + 1; });
  CHECK_THROWS_AS(g.get(), tandem::runtime_stopped);
}

TEST_CASE("cancelling a then() result before its source is ready skips the continuation" *
          doctest::timeout(10)) {
  tandem::promise<int> p;
  std::atomic<bool> ran{false};
  auto g = p.get_future().then(tandem::inline_executor{}, [&](int) {
    ran = true;
    return 0;
  });
  CHECK(g.cancel());
  p.set_value(1);
  CHECK_FALSE(ran.load());
  CHECK_THROWS_AS(g.get(), tandem::task_cancelled);
}

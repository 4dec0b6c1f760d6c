#include "tandem/future.hpp"

#include <doctest/doctest.h>

#include <stdexcept>
#include <thread>

#include "tandem/runtime.hpp"

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

}  // namespace

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

// define_task's rules, find_task, and what does not compile.
#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "tandem/runtime.hpp"
#include "tandem/task.hpp"

namespace {

const auto twice =
    tandem::define_task<int(int)>("task_test.twice", tandem::cpu, [](int x) { return 2 * x; });

// A const result type and noexcept are dropped from a task's signature.
const auto greet = tandem::define_task<const std::string(int) noexcept>(
    "task_test.greet", tandem::cpu, [](int n) noexcept { return std::string(n, '!'); });
const auto negate = tandem::define_task<int(int) noexcept>("task_test.negate", tandem::cpu,
                                                           [](int x) { return -x; });
const auto length = tandem::define_task<int(std::string)>(
    "task_test.length", tandem::cpu, [](std::string s) { return int(s.size()); });

// A closure sent to tandem::cpu must not compile; a defined task must.
template <class F>
concept cpu_accepts = requires(tandem::runtime& rt, F f) {
  rt.submit(tandem::cpu, f, 1);
};

// What submit() accepts as the argument of a task taking a std::string.
template <class Argument>
concept submit_accepts = requires(tandem::runtime& rt, Argument a) {
  rt.submit(length, a);
};

}  // namespace

static_assert(std::is_same_v<decltype(greet), const tandem::task_ref<std::string(int)>>);
static_assert(std::is_same_v<decltype(negate), const tandem::task_ref<int(int)>>);
// Arguments convert implicitly, as in a call: a string_view, which converts
// to std::string only explicitly, fails submit()'s constraint, not deep
// inside the encoder.
static_assert(submit_accepts<const char*> && submit_accepts<std::string>);
static_assert(!submit_accepts<std::string_view>);

static_assert(!cpu_accepts<decltype([](int x) { return x; })>,
              "a closure must not be accepted by tandem::cpu");
static_assert(cpu_accepts<decltype(twice)>, "a defined task must be accepted by tandem::cpu");
static_assert(cpu_accepts<std::remove_const_t<decltype(twice)>>,
              "a task_ref that is not const must be accepted by tandem::cpu too");

TEST_CASE("define_task names, numbers and calls a task" * doctest::timeout(10)) {
  CHECK(twice.name() == "task_test.twice");
  CHECK(twice.default_affinity() == tandem::affinity::cpu);
  CHECK(twice(21) == 42);  // a task_ref also runs in the calling thread
}

TEST_CASE("a task declared with a const result or noexcept runs as one without" *
          doctest::timeout(30)) {
  CHECK(tandem::find_task<int(int) noexcept>("task_test.negate")(3) == -3);
  CHECK(tandem::find_task<const std::string(int)>("task_test.greet")(2) == "!!");
  tandem::runtime rt{tandem::runtime_options{.io_threads = 1, .cpu_workers = 1}};
  CHECK(rt.submit(greet, 3).get() == "!!!");
  CHECK(rt.submit(negate, 4).get() == -4);
  CHECK(rt.submit(length, "four").get() == 4);
}

TEST_CASE("a second task with the same name is refused with a clear error" * doctest::timeout(10)) {
  CHECK_THROWS_WITH_AS(
      tandem::define_task<int(int)>("task_test.twice", tandem::io, [](int x) { return x; }),
      doctest::Contains("already defined"), tandem::error);
}

TEST_CASE("find_task finds a task by name and signature, or throws unknown_task" *
          doctest::timeout(10)) {
  CHECK(tandem::find_task<int(int)>("task_test.twice")(4) == 8);
  CHECK_THROWS_AS(tandem::find_task<int(int)>("task_test.nobody"), tandem::unknown_task);
  CHECK_THROWS_WITH_AS(tandem::find_task<long(int)>("task_test.twice"),
                       doctest::Contains("another signature"), tandem::unknown_task);
}

TEST_CASE("no task can be defined while a runtime exists" * doctest::timeout(30)) {
  {
    tandem::runtime rt{tandem::runtime_options{.io_threads = 1, .cpu_workers = 1}};
    CHECK_THROWS_WITH_AS(
        tandem::define_task<int()>("task_test.late", tandem::cpu, [] { return 1; }),
        doctest::Contains("while a tandem::runtime exists"), tandem::error);
    CHECK(rt.submit(twice, 5).get() == 10);
  }
  // With no runtime left, defining is allowed again (a new runtime forks
  // workers that know it).
  const auto late = tandem::define_task<int()>("task_test.late", tandem::cpu, [] { return 7; });
  tandem::runtime rt{tandem::runtime_options{.io_threads = 1, .cpu_workers = 1}};
  CHECK(rt.submit(late).get() == 7);
}

TEST_CASE("an empty task_ref is a clear error wherever it is used, never a crash" *
          doctest::timeout(30)) {
  const tandem::task_ref<int(int)> none;
  CHECK_FALSE(none);
  CHECK(none.name() == "(empty task_ref)");
  CHECK_THROWS_WITH_AS(none(1), doctest::Contains("empty"), tandem::error);
  tandem::runtime rt{tandem::runtime_options{.io_threads = 1, .cpu_workers = 1}};
  CHECK_THROWS_WITH_AS(rt.submit(none, 1).get(), doctest::Contains("empty"), tandem::error);
  CHECK_THROWS_WITH_AS(rt.submit(tandem::cpu, none, 1).get(), doctest::Contains("empty"),
                       tandem::error);
  CHECK_THROWS_WITH_AS(rt.submit(tandem::io, none, 1).get(), doctest::Contains("empty"),
                       tandem::error);
  auto many = rt.submit_many(none, std::vector<int>{1, 2});
  REQUIRE(many.size() == 2);
  for (auto& f : many) CHECK_THROWS_AS(f.get(), tandem::error);
  CHECK(rt.submit(twice, 4).get() == 8);  // the runtime is unharmed
}

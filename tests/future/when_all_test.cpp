#include "tandem/when_all.hpp"

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tandem/runtime.hpp"

TEST_CASE("when_all over mixed types waits for every input and hands them back" *
          doctest::timeout(10)) {
  tandem::promise<int> a;
  tandem::promise<std::string> b;
  tandem::promise<void> c;
  auto all = tandem::when_all(a.get_future(), b.get_future(), c.get_future());
  a.set_value(1);
  b.set_value("two");
  CHECK_FALSE(all.is_ready());
  c.set_value();
  auto [fa, fb, fc] = all.get();
  CHECK(fa.get() == 1);
  CHECK(fb.get() == "two");
  fc.get();
}

TEST_CASE("when_all keeps an input's exception inside that input" * doctest::timeout(10)) {
  std::vector<tandem::future<int>> inputs;
  inputs.push_back(tandem::make_ready_future(1));
  inputs.push_back(
      tandem::make_exceptional_future<int>(std::make_exception_ptr(std::runtime_error("no"))));
  auto done = tandem::when_all(std::move(inputs)).get();
  CHECK(done[0].get() == 1);
  CHECK_THROWS_AS(done[1].get(), std::runtime_error);
}

TEST_CASE("when_all of nothing is ready at once" * doctest::timeout(10)) {
  CHECK(tandem::when_all(std::vector<tandem::future<int>>{}).get().empty());
  CHECK(tandem::when_all().is_ready());
}

TEST_CASE("when_any names the first ready input" * doctest::timeout(10)) {
  tandem::promise<int> slow;
  tandem::promise<int> fast;
  std::vector<tandem::future<int>> inputs;
  inputs.push_back(slow.get_future());
  inputs.push_back(fast.get_future());
  auto any = tandem::when_any(inputs.begin(), inputs.end());
  CHECK_FALSE(any.is_ready());
  fast.set_value(2);
  auto result = any.get();
  CHECK(result.index == 1);
  CHECK(result.futures[1].get() == 2);
  slow.set_value(1);  // a loser finishing later touches nothing freed
  CHECK(result.futures[0].get() == 1);
}

TEST_CASE("when_any over mixed types and over nothing" * doctest::timeout(10)) {
  tandem::promise<std::string> never_set;
  auto mixed = tandem::when_any(never_set.get_future(), tandem::make_ready_future(5)).get();
  CHECK(mixed.index == 1);
  CHECK(std::get<1>(mixed.futures).get() == 5);

  auto empty = tandem::when_any(std::vector<tandem::future<int>>{}).get();
  CHECK(empty.index == static_cast<std::size_t>(-1));
}

TEST_CASE("when_all and when_any over 10,000 io-lane futures" * doctest::timeout(60)) {
  tandem::runtime rt{tandem::runtime_options{.io_threads = 2}};
  std::vector<tandem::future<int>> inputs;
  for (int i = 0; i < 10'000; ++i) inputs.push_back(rt.submit(tandem::io, [i] { return i; }));
  auto all = tandem::when_all(std::move(inputs)).get();
  long sum = 0;
  for (auto& f : all) sum += f.get();
  CHECK(sum == 10'000L * 9'999 / 2);

  std::vector<tandem::future<int>> racers;
  for (int i = 0; i < 10'000; ++i) racers.push_back(rt.submit(tandem::io, [i] { return i; }));
  auto first = tandem::when_any(std::move(racers)).get();
  REQUIRE(first.index < 10'000);
  CHECK(first.futures[first.index].get() == static_cast<int>(first.index));
  for (auto& f : first.futures)
    if (f.valid()) f.wait();
}

TEST_CASE("when_all from many threads racing the inputs' producers" * doctest::timeout(60)) {
  for (int round = 0; round < 200; ++round) {
    std::vector<tandem::promise<int>> promises(8);
    std::vector<tandem::future<int>> inputs;
    for (auto& p : promises) inputs.push_back(p.get_future());
    std::vector<std::thread> producers;
    for (int i = 0; i < 8; ++i)
      producers.emplace_back([&promises, i] { promises[i].set_value(i); });
    auto all = tandem::when_all(std::move(inputs));
    auto any = tandem::when_any(tandem::make_ready_future(0), std::move(all));
    for (auto& t : producers) t.join();
    auto result = any.get();
    CHECK(result.index == 0);
    auto gathered = std::get<1>(result.futures).get();
    for (int i = 0; i < 8; ++i) CHECK(gathered[i].get() == i);
  }
}

TEST_CASE("when_all and when_any of two futures of one type take them as futures, not a range" *
          doctest::timeout(10)) {
  tandem::promise<int> a;
  tandem::promise<int> b;
  auto all = tandem::when_all(a.get_future(), b.get_future());
  auto any = tandem::when_any(tandem::make_ready_future(3), tandem::make_ready_future(4));
  a.set_value(1);
  b.set_value(2);
  auto [fa, fb] = all.get();
  CHECK(fa.get() + fb.get() == 3);
  CHECK(any.get().index == 0);
}

TEST_CASE(
    "a continuation of when_all or when_any runs on its inputs' io lane, not where they resolved" *
    doctest::timeout(30)) {
  tandem::runtime rt{tandem::runtime_options{.io_threads = 1}};
  const auto io_thread = rt.submit(tandem::io, [] { return std::this_thread::get_id(); }).get();
  const auto blocking = [] { return std::this_thread::get_id(); };
  auto all = tandem::when_all(rt.submit(tandem::io_blocking, blocking)).then([](auto) {
    return std::this_thread::get_id();
  });
  CHECK(all.get() == io_thread);
  std::vector<tandem::future<std::thread::id>> inputs;
  inputs.push_back(rt.submit(tandem::io_blocking, blocking));
  auto any = tandem::when_any(inputs.begin(), inputs.end()).then([](auto) {
    return std::this_thread::get_id();
  });
  CHECK(any.get() == io_thread);
}

namespace {

// answer_of_a_gone_runtime() is a ready future whose runtime no longer
// exists.
tandem::future<int> answer_of_a_gone_runtime() {
  tandem::runtime gone{tandem::runtime_options{.io_threads = 1}};
  auto answer = gone.submit(tandem::io, [] { return 42; });
  answer.wait();
  return answer;
}

}  // namespace

TEST_CASE("when_all and when_any bind to a live runtime among their inputs, not a gone one" *
          doctest::timeout(30)) {
  tandem::runtime live{tandem::runtime_options{.io_threads = 1}};
  const auto io_thread = live.submit(tandem::io, [] { return std::this_thread::get_id(); }).get();
  const auto one = [] { return 1; };
  const auto thread_of_continuation = [](auto) { return std::this_thread::get_id(); };
  auto all = tandem::when_all(answer_of_a_gone_runtime(), live.submit(tandem::io, one));
  CHECK(all.then(thread_of_continuation).get() == io_thread);
  auto any = tandem::when_any(answer_of_a_gone_runtime(), live.submit(tandem::io, one));
  CHECK(any.then(thread_of_continuation).get() == io_thread);
}

TEST_CASE("when_all and when_any of gone runtimes alone act as futures of no runtime" *
          doctest::timeout(30)) {
  const auto here = std::this_thread::get_id();
  const auto thread_of_continuation = [](auto) { return std::this_thread::get_id(); };
  auto all = tandem::when_all(answer_of_a_gone_runtime());
  CHECK(all.then(thread_of_continuation).get() == here);  // inline: the inputs are ready
  auto any = tandem::when_any(answer_of_a_gone_runtime());
  CHECK(any.then(thread_of_continuation).get() == here);
}

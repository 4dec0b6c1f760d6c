#include "runtime/work_stealing_deque.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

using tandem::detail::work_stealing_deque;

TEST_CASE("the owner pops LIFO, a thief steals FIFO" * doctest::timeout(10)) {
  work_stealing_deque<int*> deque(4);
  int items[3] = {0, 1, 2};
  for (int& i : items) deque.push(&i);
  bool lost = false;
  CHECK(deque.steal(lost) == &items[0]);
  CHECK(deque.pop() == &items[2]);
  CHECK(deque.pop() == &items[1]);
  CHECK(deque.pop() == nullptr);
  CHECK(deque.steal(lost) == nullptr);
  CHECK_FALSE(lost);
}

TEST_CASE("the deque grows past its initial capacity and keeps every item" * doctest::timeout(10)) {
  work_stealing_deque<int*> deque(2);
  std::vector<int> items(1000);
  for (int& i : items) deque.push(&i);
  CHECK(deque.size_hint() == 1000);
  for (int n = 999; n >= 0; --n) CHECK(deque.pop() == &items[static_cast<std::size_t>(n)]);
}

TEST_CASE("every item is taken exactly once under concurrent stealing" * doctest::timeout(120)) {
  constexpr int total = 200'000;
  work_stealing_deque<int*> deque(8);
  std::vector<int> items(total, 0);
  std::vector<std::atomic<int>> taken(total);
  std::atomic<bool> done{false};
  auto take = [&](int* item) { taken[static_cast<std::size_t>(item - items.data())].fetch_add(1); };
  std::vector<std::thread> thieves;
  for (int t = 0; t < 3; ++t)
    thieves.emplace_back([&] {
      while (!done.load()) {
        bool lost = false;
        if (int* item = deque.steal(lost)) take(item);
      }
    });
  for (int i = 0; i < total; ++i) {
    deque.push(&items[static_cast<std::size_t>(i)]);
    if (i % 3 == 0)
      if (int* item = deque.pop()) take(item);
  }
  while (int* item = deque.pop()) take(item);
  done = true;
  for (auto& t : thieves) t.join();
  int wrong = 0;
  for (auto& t : taken) wrong += t.load() != 1;
  CHECK(wrong == 0);
}

// tandem::shared<T>: one value updated by threads and worker processes.
#include "tandem/shared.hpp"

#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <thread>
#include <vector>

#include "support/cpu_tasks.hpp"
#include "tandem/tandem.hpp"

namespace {

// A value too big for one atomic instruction: its members go through the lock.
struct tally {
  std::int64_t count;
  std::int64_t sum;
  std::array<char, 24> last;
};

const auto add_one_locked = tandem::define_task<void(tandem::shared<long>)>(
    "shared.add_one_locked", tandem::cpu,
    [](tandem::shared<long> counter) { counter.with_lock([](long& n) { ++n; }); });
const auto add_many = tandem::define_task<void(tandem::shared<long>, int)>(
    "shared.add_many", tandem::cpu, [](tandem::shared<long> counter, int times) {
      for (int i = 0; i < times; ++i) counter.fetch_add(1);
    });
const auto record = tandem::define_task<void(tandem::shared<tally>, int)>(
    "shared.record", tandem::cpu, [](tandem::shared<tally> t, int value) {
      t.with_lock([&](tally& x) {
        ++x.count;
        x.sum += value;
        x.last = {'w', 'o', 'r', 'k', 'e', 'r'};
      });
    });
const auto read_value = tandem::define_task<double(tandem::shared<double>)>(
    "shared.read_value", tandem::cpu, [](tandem::shared<double> v) { return v.load(); });

}  // namespace

TEST_CASE("the seed's counter: 4 cpu tasks each add 1 under the lock" * doctest::timeout(60)) {
  tandem::runtime rt{tandem::test::lanes(2, 2)};
  tandem::shared<long> counter(rt, 0);
  std::vector<tandem::future<void>> done;
  for (int i = 0; i < 4; ++i) done.push_back(rt.submit(add_one_locked, counter));
  for (auto& f : done) f.get();
  CHECK(counter.load() == 4);
}

TEST_CASE("atomic increments from workers and threads at once lose nothing" *
          doctest::timeout(60)) {
  tandem::runtime rt{tandem::test::lanes(2, 2)};
  tandem::shared<long> counter(rt);
  auto a = rt.submit(add_many, counter, 100'000);
  auto b = rt.submit(add_many, counter, 100'000);
  std::thread local([&] {
    for (int i = 0; i < 100'000; ++i) counter.fetch_add(1);
  });
  a.get();
  b.get();
  local.join();
  CHECK(counter.load() == 300'000);
}

TEST_CASE("a value too big for an atomic goes through the lock" * doctest::timeout(60)) {
  tandem::runtime rt{tandem::test::lanes(2, 2)};
  tandem::shared<tally> totals(rt, tally{});
  std::vector<tandem::future<void>> done;
  for (int i = 1; i <= 10; ++i) done.push_back(rt.submit(record, totals, i));
  for (auto& f : done) f.get();
  const tally seen = totals.load();
  CHECK(seen.count == 10);
  CHECK(seen.sum == 55);
  CHECK(seen.last[0] == 'w');
  tally expected = seen;
  CHECK(totals.compare_exchange(expected, tally{1, 2, {}}));
  CHECK(totals.load().sum == 2);
  CHECK_FALSE(totals.compare_exchange(expected, tally{}));
  CHECK(expected.sum == 2);  // reloaded with the current value
}

TEST_CASE("store, exchange and compare_exchange; the value outlives its runtime" *
          doctest::timeout(60)) {
  std::optional<tandem::shared<double>> kept;
  {
    tandem::runtime rt{tandem::test::lanes(2, 2)};
    tandem::shared<double> v(rt, 1.5);
    CHECK(rt.submit(read_value, v).get() == 1.5);  // made after the workers started
    v.store(2.5);
    CHECK(rt.submit(read_value, v).get() == 2.5);
    CHECK(v.exchange(3.0) == 2.5);
    double expected = 3.0;
    CHECK(v.compare_exchange(expected, 4.0));
    CHECK(v.fetch_add(1.0) == 4.0);
    kept = v;
  }
  CHECK(kept->load() == 5.0);
  kept->store(6.0);
  CHECK(kept->load() == 6.0);
}

TEST_CASE("with_lock returns what fn returns and reports a clean lock" * doctest::timeout(60)) {
  tandem::runtime rt{tandem::test::lanes(2, 2)};
  tandem::shared<int> v(rt, 41);
  CHECK(v.with_lock([](int& x) { return ++x; }) == 42);
  CHECK(v.with_lock([](int& x, tandem::lock_result how) {
    return how == tandem::lock_result::acquired ? x : -1;
  }) == 42);
}

namespace {

const auto invert = tandem::define_task<tandem::shared_buffer(tandem::shared_buffer)>(
    "shared.invert", tandem::cpu, [](tandem::shared_buffer buffer) {
      for (std::byte& b : buffer.bytes()) b = ~b;
      return buffer;
    });

}  // namespace

TEST_CASE("a shared_buffer is changed in place by a worker and comes back as itself" *
          doctest::timeout(60)) {
  tandem::runtime rt{tandem::test::lanes(2, 2)};
  tandem::shared_buffer buffer(rt, 1 << 20);
  CHECK(buffer.size() == 1 << 20);
  CHECK(buffer.data()[12345] == std::byte{0});  // zeroed
  buffer.data()[7] = std::byte{0x0f};
  tandem::shared_buffer back = rt.submit(invert, buffer).get();
  CHECK(back.data() == buffer.data());  // the same bytes, not a copy
  CHECK(buffer.data()[7] == std::byte{0xf0});
  CHECK(buffer.data()[(1 << 20) - 1] == std::byte{0xff});
  CHECK_THROWS_WITH_AS(tandem::shared_buffer(rt, std::size_t{1} << 40),
                       doctest::Contains("shared_memory_bytes"), tandem::error);
  CHECK_THROWS_WITH_AS(tandem::shared_buffer(rt, ~std::size_t{0}), doctest::Contains("impossible"),
                       tandem::error);
}

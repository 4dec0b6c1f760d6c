// tandem::channel<T>: a bounded queue between threads and worker processes.
#include "tandem/channel.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <numeric>
#include <thread>
#include <vector>

#include "support/cpu_tasks.hpp"
#include "tandem/tandem.hpp"

using namespace std::chrono_literals;

namespace {

struct reading {
  int sensor;
  double value;
};

const auto produce = tandem::define_task<void(tandem::channel<reading>, int)>(
    "channel.produce", tandem::cpu, [](tandem::channel<reading> out, int count) {
      for (int i = 0; i < count; ++i) out.send({i, i * 0.5});
      out.close();
    });
// The two tasks below add 1 to `started` before they first block, so a
// test knows both sides of the process boundary are waiting.
const auto send_until_closed = tandem::define_task<int(tandem::channel<int>, tandem::shared<int>)>(
    "channel.send_until_closed", tandem::cpu,
    [](tandem::channel<int> out, tandem::shared<int> started) {
      started.fetch_add(1);
      int sent = 0;
      try {
        for (;;) out.send(sent++);
      } catch (const tandem::channel_closed&) {
        return sent - 1;
      }
    });
const auto receive_until_closed =
    tandem::define_task<long(tandem::channel<int>, tandem::shared<int>)>(
        "channel.receive_until_closed", tandem::cpu,
        [](tandem::channel<int> in, tandem::shared<int> started) {
          started.fetch_add(1);
          long sum = 0;
          while (auto v = in.receive()) sum += *v;
          return sum;
        });

}  // namespace

TEST_CASE("the seed's producer/consumer: a cpu task sends, an io task receives" *
          doctest::timeout(60)) {
  tandem::runtime rt{tandem::test::lanes(2, 2)};
  tandem::channel<reading> readings(rt, 64);
  auto producer = rt.submit(produce, readings, 10'000);
  auto consumer = rt.submit(tandem::io_blocking, [readings]() mutable {
    long count = 0;
    double sum = 0;
    int expected = 0;
    while (auto r = readings.receive()) {
      if (r->sensor != expected++) return -1L;  // one sender: order is kept
      sum += r->value;
      ++count;
    }
    return sum == 0.5 * (9'999.0 * 10'000 / 2) ? count : -2L;
  });
  producer.get();
  CHECK(consumer.get() == 10'000);
}

TEST_CASE("try and timed operations, size and capacity" * doctest::timeout(30)) {
  tandem::runtime rt{tandem::test::lanes(2, 2)};
  tandem::channel<int> c(rt, 2);
  CHECK(c.capacity() == 2);
  CHECK_FALSE(c.try_receive().has_value());
  CHECK_FALSE(c.receive_for(10ms).has_value());
  CHECK(c.try_send(1));
  CHECK(c.send_for(2, 10ms));
  CHECK(c.size() == 2);
  CHECK_FALSE(c.try_send(3));  // full
  CHECK_FALSE(c.send_for(3, 10ms));
  CHECK(c.try_receive() == 1);
  CHECK(c.receive() == 2);
  CHECK(c.size() == 0);
  CHECK_THROWS_WITH_AS(tandem::channel<int>(rt, 0), doctest::Contains("capacity"), tandem::error);
}

TEST_CASE("a full channel holds its sender back (backpressure)" * doctest::timeout(30)) {
  tandem::runtime rt{tandem::test::lanes(2, 2)};
  tandem::channel<int> c(rt, 4);
  std::atomic<int> sent{0};
  std::thread sender([&] {
    for (int i = 0; i < 100; ++i) {
      c.send(i);
      sent.fetch_add(1);
    }
  });
  tandem::test::eventually([&] { return sent.load() >= 4; });
  std::this_thread::sleep_for(50ms);
  CHECK(sent.load() == 4);  // the fifth waits for room
  for (int i = 0; i < 100; ++i) CHECK(c.receive() == i);
  sender.join();
}

TEST_CASE("close wakes blocked receivers and senders on both sides of the process boundary" *
          doctest::timeout(60)) {
  tandem::runtime rt{tandem::test::lanes(2, 2)};
  tandem::channel<int> to_worker(rt, 8);
  tandem::channel<int> from_worker(rt, 8);
  tandem::shared<int> started(rt, 0);
  auto worker_receiver = rt.submit(receive_until_closed, to_worker, started);
  auto worker_sender = rt.submit(send_until_closed, from_worker, started);
  std::thread thread_receiver([&] {
    while (to_worker.receive()) {
    }
  });
  std::atomic<bool> thread_sender_closed{false};
  std::thread thread_sender([&] {
    try {
      for (;;) from_worker.send(-1);
    } catch (const tandem::channel_closed&) {
      thread_sender_closed = true;
    }
  });
  to_worker.send(5);
  // Both worker tasks have started and the senders have filled from_worker
  // (a slow machine may take a while); then everyone blocks.
  tandem::test::eventually([&] { return started.load() == 2 && from_worker.size() == 8; });
  CHECK(started.load() == 2);
  std::this_thread::sleep_for(100ms);  // everyone is blocked now
  to_worker.close();
  from_worker.close();
  thread_receiver.join();
  thread_sender.join();
  CHECK(thread_sender_closed);
  CHECK(worker_sender.get() >= 0);
  const long got = worker_receiver.get();
  CHECK((got == 5 || got == 0));  // the 5 went to the worker or to the thread
  CHECK_THROWS_AS(to_worker.send(1), tandem::channel_closed);
  CHECK(from_worker.size() == 8);  // what was sent before close can still be read
  int drained = 0;
  while (from_worker.try_receive()) ++drained;
  CHECK(drained == 8);
  CHECK_FALSE(from_worker.receive().has_value());
}

TEST_CASE("many senders and receivers in threads lose and duplicate nothing" *
          doctest::timeout(60)) {
  tandem::runtime rt{tandem::test::lanes(2, 2)};
  tandem::channel<int> c(rt, 16);
  constexpr int senders = 4, per_sender = 20'000;
  std::vector<std::thread> threads;
  std::vector<long> sums(4, 0);
  for (int s = 0; s < senders; ++s)
    threads.emplace_back([&, s] {
      for (int i = 0; i < per_sender; ++i) c.send(s * per_sender + i);
    });
  for (int r = 0; r < 4; ++r)
    threads.emplace_back([&, r] {
      while (auto v = c.receive()) sums[r] += *v;
    });
  for (int s = 0; s < senders; ++s) threads[s].join();
  c.close();
  for (int r = 0; r < 4; ++r) threads[senders + r].join();
  const long n = senders * per_sender;
  CHECK(std::accumulate(sums.begin(), sums.end(), 0L) == n * (n - 1) / 2);
}

// tandem::channel<T>: a bounded queue between threads and worker processes.
#include "tandem/channel.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <numeric>
#include <optional>
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

// count_up_until_closed sends 0, 1, 2, ... until the channel closes, adding
// 1 to `delivered` after each send that returned; it returns how many did.
const auto count_up_until_closed =
    tandem::define_task<int(tandem::channel<int>, tandem::shared<int>)>(
        "channel.count_up_until_closed", tandem::cpu,
        [](tandem::channel<int> out, tandem::shared<int> delivered) {
          for (int next = 0;; ++next) {
            try {
              out.send(next);
            } catch (const tandem::channel_closed&) {
              return next;
            }
            delivered.fetch_add(1);
          }
        });

// A one-slot channel is a hand-off; with one or two slots a slot's "holds
// position p" and "free for position p + capacity" are closest.
constexpr std::size_t smallest_capacities[] = {1, 2};

// close_mid_stream() runs senders (two threads, plus a worker process if
// `worker_sends`) and two receiver threads on a channel of 8, closes it
// while values flow, and returns how many values whose send() returned no
// receiver got: each must reach a receiver before receivers see "closed".
long close_mid_stream(tandem::runtime& rt, bool worker_sends) {
  tandem::channel<int> c(rt, 8);
  tandem::shared<int> worker_delivered(rt, 0);
  std::optional<tandem::future<int>> worker;
  if (worker_sends) worker = rt.submit(count_up_until_closed, c, worker_delivered);
  std::atomic<long> sent{0}, received{0};
  std::vector<std::thread> threads;
  for (int s = 0; s < (worker_sends ? 2 : 3); ++s)
    threads.emplace_back([&] {
      try {
        for (;;) {
          c.send(1);
          sent.fetch_add(1);
        }
      } catch (const tandem::channel_closed&) {
      }
    });
  for (int r = 0; r < 2; ++r)
    threads.emplace_back([&] {
      while (c.receive()) received.fetch_add(1);
    });
  CHECK(tandem::test::eventually(
      [&] { return received.load() >= 100 && (!worker_sends || worker_delivered.load() > 0); }, 10s,
      1ms));
  c.close();
  for (auto& t : threads) t.join();
  if (worker) sent += worker->get();
  return sent.load() - received.load();
}

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

TEST_CASE("a one- or two-slot channel holds exactly its capacity, in order" *
          doctest::timeout(30)) {
  tandem::runtime rt{tandem::test::lanes(2, 2)};
  for (const std::size_t capacity : smallest_capacities) {
    CAPTURE(capacity);
    tandem::channel<int> c(rt, capacity);
    const int n = static_cast<int>(capacity);
    for (int i = 0; i < n; ++i) REQUIRE(c.try_send(i));
    // REQUIRE: on a broken ring the extra value overwrites one and
    // receivers then spin forever.
    REQUIRE_FALSE(c.try_send(n));
    CHECK_FALSE(c.send_for(n, 10ms));
    CHECK(c.size() == capacity);
    for (int i = 0; i < n; ++i) CHECK(c.try_receive() == i);
    CHECK_FALSE(c.try_receive().has_value());
    CHECK(c.size() == 0);
    CHECK(c.try_send(n));  // room again, and the ring wrapped around
    CHECK(c.receive_for(10ms) == n);
  }
}

TEST_CASE("a one- or two-slot channel hands values over in order between threads" *
          doctest::timeout(60)) {
  tandem::runtime rt{tandem::test::lanes(2, 2)};
  for (const std::size_t capacity : smallest_capacities) {
    CAPTURE(capacity);
    tandem::channel<int> c(rt, capacity);
    const int n = static_cast<int>(capacity);
    constexpr int count = 2'000;
    std::atomic<int> sent{0};
    std::thread sender([&] {
      for (int i = 0; i < count; ++i) {
        c.send(i);
        sent.fetch_add(1);
      }
    });
    tandem::test::eventually([&] { return sent.load() >= n; });
    std::this_thread::sleep_for(50ms);
    CHECK(sent.load() == n);  // the next send waits for a receive
    CHECK(c.receive() == 0);
    tandem::test::eventually([&] { return sent.load() > n; });
    CHECK(sent.load() == n + 1);  // one receive, one more send
    for (int i = 1; i < count; ++i) CHECK(c.receive() == i);
    sender.join();
  }
}

TEST_CASE("close wakes a sender on a full and a receiver on an empty one- or two-slot channel" *
          doctest::timeout(60)) {
  tandem::runtime rt{tandem::test::lanes(2, 2)};
  for (const std::size_t capacity : smallest_capacities) {
    CAPTURE(capacity);
    tandem::channel<int> full(rt, capacity);
    tandem::channel<int> empty(rt, capacity);
    const int n = static_cast<int>(capacity);
    for (int i = 0; i < n; ++i) full.send(i);
    std::atomic<bool> sender_threw{false};
    std::atomic<bool> receiver_returned{false};
    std::atomic<bool> receiver_got_nothing{false};
    std::thread sender([&] {
      try {
        full.send(-1);
      } catch (const tandem::channel_closed&) {
        sender_threw = true;
      }
    });
    std::thread receiver([&] {
      receiver_got_nothing = !empty.receive().has_value();
      receiver_returned = true;
    });
    std::this_thread::sleep_for(100ms);  // both are blocked now
    CHECK_FALSE(sender_threw.load());
    CHECK_FALSE(receiver_returned.load());
    full.close();
    empty.close();
    sender.join();
    receiver.join();
    CHECK(sender_threw);
    CHECK(receiver_got_nothing);
    for (int i = 0; i < n; ++i) CHECK(full.receive() == i);
    CHECK_FALSE(full.receive().has_value());
  }
}

TEST_CASE("a one- or two-slot channel blocks, keeps order and closes across a worker process" *
          doctest::timeout(60)) {
  tandem::runtime rt{tandem::test::lanes(2, 2)};
  for (const std::size_t capacity : smallest_capacities) {
    CAPTURE(capacity);
    const int n = static_cast<int>(capacity);
    // The worker receives what this thread sends, sleeping while it is empty.
    tandem::channel<int> to_worker(rt, capacity);
    tandem::shared<int> started(rt, 0);
    auto worker_receiver = rt.submit(receive_until_closed, to_worker, started);
    for (int i = 1; i <= 100; ++i) to_worker.send(i);  // waits for the worker when full
    tandem::test::eventually([&] { return started.load() == 1 && to_worker.size() == 0; });
    std::this_thread::sleep_for(50ms);  // the worker sleeps on the empty channel now
    to_worker.close();
    CHECK(worker_receiver.get() == 5'050);
    // The worker sends to this thread, and waits while the channel is full.
    tandem::channel<int> from_worker(rt, capacity);
    tandem::shared<int> delivered(rt, 0);
    auto worker_sender = rt.submit(count_up_until_closed, from_worker, delivered);
    int expected = 0;
    for (; expected < 100; ++expected) REQUIRE(from_worker.receive() == expected);
    tandem::test::eventually([&] { return delivered.load() == 100 + n; });
    std::this_thread::sleep_for(50ms);
    CHECK(delivered.load() == 100 + n);  // its next send waits for room
    from_worker.close();
    const int sent = worker_sender.get();
    CHECK(sent == 100 + n);
    while (auto v = from_worker.receive()) CHECK(*v == expected++);
    CHECK(expected == sent);
  }
}

TEST_CASE("every value whose send() returned reaches a receiver when close() races sends" *
          doctest::timeout(120)) {
  tandem::runtime rt{tandem::test::lanes(2, 2)};
  long stranded = 0;
  for (int round = 0; round < 300; ++round) stranded += close_mid_stream(rt, false);
  CHECK(stranded == 0);
  stranded = 0;
  for (int round = 0; round < 30; ++round) stranded += close_mid_stream(rt, true);
  CHECK(stranded == 0);  // with one sender in a worker process
}

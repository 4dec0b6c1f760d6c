// process_mutex, condition, semaphore, event and barrier between threads
// and worker processes.
#include "tandem/sync.hpp"

#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <functional>
#include <iterator>
#include <latch>
#include <string>
#include <mutex>
#include <thread>
#include <vector>

#include "support/cpu_tasks.hpp"
#include "tandem/tandem.hpp"

using namespace std::chrono_literals;

namespace {

const auto die_holding = tandem::define_task<void(tandem::process_mutex)>(
    "sync.die_holding", tandem::cpu, [](tandem::process_mutex m) {
      m.lock();
      raise(SIGKILL);
    });
const auto lock_and_report = tandem::define_task<int(tandem::process_mutex)>(
    "sync.lock_and_report", tandem::cpu, [](tandem::process_mutex m) {
      const auto how = m.lock();
      m.unlock();
      return static_cast<int>(how);
    });
const auto hold_for = tandem::define_task<void(tandem::process_mutex, tandem::event, int)>(
    "sync.hold_for", tandem::cpu, [](tandem::process_mutex m, tandem::event held, int ms) {
      std::lock_guard lock(m);
      held.set();
      std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    });
const auto take_permit = tandem::define_task<bool(tandem::semaphore, int)>(
    "sync.take_permit", tandem::cpu,
    [](tandem::semaphore s, int ms) { return s.try_acquire_for(std::chrono::milliseconds(ms)); });
const auto wait_event = tandem::define_task<bool(tandem::event, int)>(
    "sync.wait_event", tandem::cpu,
    [](tandem::event e, int ms) { return e.wait_for(std::chrono::milliseconds(ms)); });
const auto meet = tandem::define_task<std::int64_t(tandem::barrier)>(
    "sync.meet", tandem::cpu, [](tandem::barrier b) {
      b.arrive_and_wait();
      return tandem::test::now_ns();
    });
const auto wait_for_flag =
    tandem::define_task<int(tandem::process_mutex, tandem::condition, tandem::shared<int>)>(
        "sync.wait_for_flag", tandem::cpu,
        [](tandem::process_mutex m, tandem::condition c, tandem::shared<int> flag) {
          std::unique_lock lock(m);
          c.wait(lock, [&] { return flag.load() != 0; });
          return flag.load();
        });

}  // namespace

TEST_CASE("a worker that dies holding the mutex: the next locker is told and recovers" *
          doctest::timeout(60)) {
  tandem::runtime rt{tandem::test::lanes(2, 2)};
  tandem::process_mutex m(rt);
  CHECK_THROWS_AS(rt.submit(die_holding, m).get(), tandem::worker_crashed);
  CHECK(m.lock() == tandem::lock_result::owner_died);
  m.unlock();
  CHECK(m.lock() == tandem::lock_result::acquired);  // consistent again
  m.unlock();
  CHECK(rt.submit(lock_and_report, m).get() == static_cast<int>(tandem::lock_result::acquired));
}

TEST_CASE("a thread that exits holding the mutex: the next locker is told" * doctest::timeout(30)) {
  tandem::runtime rt{tandem::test::lanes(2, 1)};
  tandem::process_mutex m(rt);
  std::thread([m]() mutable { m.lock(); }).join();
  CHECK(m.try_lock_for(5s) == tandem::lock_result::owner_died);
  m.unlock();
}

TEST_CASE("bad use of a process_mutex is an error, not a deadlock" * doctest::timeout(30)) {
  tandem::runtime rt{tandem::test::lanes(2, 1)};
  tandem::process_mutex m(rt);
  CHECK_THROWS_WITH_AS(m.unlock(), doctest::Contains("does not hold it"), tandem::error);
  m.lock();
  CHECK_THROWS_WITH_AS(m.lock(), doctest::Contains("already holds it"), tandem::error);
  m.unlock();
}

TEST_CASE("a worker holding the mutex keeps others out until it lets go" * doctest::timeout(60)) {
  tandem::runtime rt{tandem::test::lanes(2, 2)};
  tandem::process_mutex m(rt);
  tandem::event held(rt);
  auto holder = rt.submit(hold_for, m, held, 300);
  held.wait();
  CHECK_FALSE(m.try_lock());
  CHECK(m.try_lock_for(20ms) == tandem::lock_result::timed_out);
  CHECK(m.try_lock_for(10s) == tandem::lock_result::acquired);
  m.unlock();
  holder.get();
}

TEST_CASE("a semaphore hands permits across processes" * doctest::timeout(60)) {
  tandem::runtime rt{tandem::test::lanes(2, 2)};
  tandem::semaphore s(rt, 1);
  CHECK(rt.submit(take_permit, s, 0).get());
  CHECK_FALSE(rt.submit(take_permit, s, 20).get());  // none left: times out
  auto waiting = rt.submit(take_permit, s, 10'000);
  std::this_thread::sleep_for(50ms);
  s.release();
  CHECK(waiting.get());
  CHECK(s.available() == 0);
  s.release(3);
  CHECK(s.try_acquire());
  CHECK(s.available() == 2);
  CHECK_THROWS_AS(s.release(0xffffffffu), tandem::error);
}

TEST_CASE("an event set by the parent wakes a waiting worker" * doctest::timeout(60)) {
  tandem::runtime rt{tandem::test::lanes(2, 2)};
  tandem::event e(rt);
  CHECK_FALSE(rt.submit(wait_event, e, 20).get());
  auto waiting = rt.submit(wait_event, e, 10'000);
  std::this_thread::sleep_for(50ms);
  e.set();
  CHECK(waiting.get());
  CHECK(e.is_set());
  e.clear();
  CHECK_FALSE(e.wait_for(1ms));
}

TEST_CASE("set() then clear() at once releases every thread and worker waiting" *
          doctest::timeout(90)) {
  tandem::runtime rt{tandem::test::lanes(2, 1)};
  tandem::event e(rt);
  constexpr int threads = 3;
  std::atomic<int> returned{0};
  std::atomic<int> released{0};
  std::vector<std::thread> waiters;
  for (int i = 0; i < threads; ++i)
    waiters.emplace_back([&] {
      if (e.wait_for(30s)) released.fetch_add(1);
      returned.fetch_add(1);
    });
  auto worker = rt.submit(wait_event, e, 30'000);
  // Pulse until every waiter has returned: whenever it began waiting, a
  // pulse came after, so each must be released (not time out).
  while (returned.load() < threads || !worker.is_ready()) {
    e.set();
    e.clear();
    std::this_thread::sleep_for(1ms);
  }
  for (auto& waiter : waiters) waiter.join();
  CHECK(released.load() == threads);
  CHECK(worker.get());
  CHECK_FALSE(e.is_set());
}

namespace {

// state_of() is the scheduling state /proc gives `pid` ('T' once stopped).
char state_of(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  const std::string text{std::istreambuf_iterator<char>(stat), {}};
  const auto name_end = text.rfind(')');  // the state follows the name: "pid (name) S ..."
  return name_end == std::string::npos || name_end + 2 >= text.size() ? '?' : text[name_end + 2];
}

}  // namespace

TEST_CASE("a worker stopped through the whole pulse, seeing only a cleared flag, is released" *
          doctest::timeout(90)) {
  tandem::runtime rt{tandem::test::lanes(2, 1)};
  tandem::event e(rt);
  auto waiting = rt.submit(wait_event, e, 20'000);
  REQUIRE(tandem::test::eventually([&] { return rt.cpu_worker_pids().size() == 1; }));
  const pid_t worker = rt.cpu_worker_pids().front();
  // Each pulse comes and goes while the worker is stopped, so it can never
  // read the flag set: only the change to the event can release it.
  while (!waiting.is_ready()) {
    REQUIRE(kill(worker, SIGSTOP) == 0);
    REQUIRE(tandem::test::eventually([&] { return state_of(worker) == 'T'; }, 10s, 1ms));
    e.set();
    e.clear();
    REQUIRE(kill(worker, SIGCONT) == 0);
    std::this_thread::sleep_for(1ms);
  }
  CHECK(waiting.get());
}

TEST_CASE("a pulse before a wait began does not release it" * doctest::timeout(30)) {
  tandem::runtime rt{tandem::test::lanes(2, 1)};
  tandem::event e(rt);
  e.set();
  e.clear();
  CHECK_FALSE(e.wait_for(20ms));
  e.set();
  CHECK(e.wait_for(0ms));  // still set: returns at once
}

TEST_CASE("a barrier releases two workers and a thread together, round after round" *
          doctest::timeout(60)) {
  tandem::runtime rt{tandem::test::lanes(2, 2)};
  tandem::barrier b(rt, 3);
  CHECK(b.parties() == 3);
  for (int round = 0; round < 3; ++round) {
    auto x = rt.submit(meet, b);
    auto y = rt.submit(meet, b);
    const auto order = b.arrive_and_wait();
    CHECK(order < 3);
    const auto released = tandem::test::now_ns();
    CHECK(x.get() <= released + 2'000'000'000);  // both passed; no one waits for the next round
    CHECK(y.get() <= released + 2'000'000'000);
  }
}

TEST_CASE("a barrier wait that times out withdraws its arrival" * doctest::timeout(30)) {
  tandem::runtime rt{tandem::test::lanes(2, 1)};
  tandem::barrier b(rt, 2);
  CHECK_FALSE(b.arrive_and_wait_for(20ms).has_value());
  std::optional<std::uint32_t> other;
  std::thread t([&] { other = b.arrive_and_wait_for(10s); });
  const auto mine = b.arrive_and_wait();
  t.join();
  REQUIRE(other.has_value());
  CHECK(mine + *other == 1);  // arrivals 0 and 1: the timed-out one did not count
  CHECK_THROWS_AS(tandem::barrier(rt, 0), tandem::error);
  CHECK_THROWS_AS(tandem::barrier(rt, 70'000), tandem::error);
}

TEST_CASE("a condition wakes a worker waiting for a flag" * doctest::timeout(60)) {
  tandem::runtime rt{tandem::test::lanes(2, 2)};
  tandem::process_mutex m(rt);
  tandem::condition c(rt);
  tandem::shared<int> flag(rt, 0);
  auto waiter = rt.submit(wait_for_flag, m, c, flag);
  std::this_thread::sleep_for(50ms);
  {
    std::lock_guard lock(m);
    flag.store(7);
  }
  c.notify_all();
  CHECK(waiter.get() == 7);
  std::unique_lock lock(m);
  CHECK(c.wait_for(lock, 10ms) == tandem::lock_result::timed_out);
  CHECK(lock.owns_lock());
  CHECK_FALSE(c.wait_for(lock, 10ms, [] { return false; }));
}

namespace {

// later() runs `act` on a thread after 30 ms, so a wait begun now has to
// sleep for it.
std::jthread later(std::function<void()> act) {
  return std::jthread([act = std::move(act)] {
    std::this_thread::sleep_for(30ms);
    act();
  });
}

}  // namespace

TEST_CASE("timed waits take any duration: a huge one waits instead of overflowing into the past" *
          doctest::timeout(30)) {
  tandem::runtime rt{tandem::test::lanes(2, 1)};
  constexpr auto huge = std::chrono::seconds::max();
  const std::chrono::duration<double> half_second(0.5);

  tandem::semaphore permits(rt, 0);
  auto releaser = later([&] { permits.release(); });
  CHECK(permits.try_acquire_for(huge));
  CHECK_FALSE(permits.try_acquire_for(std::chrono::duration<double, std::milli>(5.5)));

  tandem::event ready(rt);
  auto setter = later([&] { ready.set(); });
  CHECK(ready.wait_for(std::chrono::hours::max()));
  CHECK(ready.wait_for(half_second));

  tandem::barrier meeting(rt, 2);
  auto partner = later([&] { meeting.arrive_and_wait(); });
  CHECK(meeting.arrive_and_wait_for(huge).has_value());

  tandem::process_mutex m(rt);
  std::latch held(1);
  std::jthread holder([&] {
    std::lock_guard lock(m);
    held.count_down();
    std::this_thread::sleep_for(30ms);
  });
  held.wait();
  CHECK(m.try_lock_for(huge) == tandem::lock_result::acquired);
  m.unlock();

  tandem::condition c(rt);
  tandem::shared<int> flag(rt, 0);
  auto notifier = later([&] {
    {
      std::lock_guard lock(m);
      flag.store(1);
    }
    c.notify_all();
  });
  std::unique_lock lock(m);
  CHECK(c.wait_for(lock, huge, [&] { return flag.load() == 1; }));
  lock.unlock();

  tandem::channel<int> values(rt, 2);
  auto sender = later([&] { values.send(5); });
  CHECK(values.receive_for(huge) == 5);
  values.send(1);
  values.send(2);
  auto receiver = later([&] { values.receive(); });
  CHECK(values.send_for(3, huge));
  CHECK_FALSE(values.send_for(4, half_second / 50));
}

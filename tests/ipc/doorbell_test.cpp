#include "ipc/doorbell.hpp"

#include "child.hpp"
#include "stream.hpp"

#include <doctest/doctest.h>
#include <sys/mman.h>

#include <atomic>
#include <chrono>
#include <new>
#include <thread>

using namespace tandem::ipc;
using namespace std::chrono_literals;

TEST_CASE("doorbell wait returns at once when the condition holds" * doctest::timeout(10)) {
  doorbell bell;
  CHECK(bell.wait([] { return true; }, wait_policy{0, 1s}));
  CHECK(bell.word.load() == 0);  // never armed
}

TEST_CASE("doorbell wait times out, and leaves no parked bit behind" * doctest::timeout(10)) {
  doorbell bell;
  const auto start = std::chrono::steady_clock::now();
  CHECK_FALSE(bell.wait([] { return false; }, wait_policy{10, 20ms}));
  CHECK(std::chrono::steady_clock::now() - start >= 20ms);
  CHECK((bell.word.load() & doorbell::parked_bit) == 0);
}

TEST_CASE("ring() on a doorbell nobody waits on changes nothing (no system call)" *
          doctest::timeout(10)) {
  doorbell bell;
  for (int i = 0; i < 1000; ++i) bell.ring();
  CHECK(bell.word.load() == 0);
}

TEST_CASE("ring() wakes a parked waiter in another thread" * doctest::timeout(10)) {
  doorbell bell;
  std::atomic<bool> flag{false};
  std::thread waiter([&] { CHECK(bell.wait([&] { return flag.load(); }, wait_policy{0, 5s})); });
  while ((bell.word.load() & doorbell::parked_bit) == 0) std::this_thread::yield();
  flag.store(true);
  bell.ring();
  waiter.join();
  CHECK((bell.word.load() & doorbell::parked_bit) == 0);
}

TEST_CASE("a waiter on light ringers has them fence while it parks, not while it is busy" *
          doctest::timeout(10)) {
  doorbell bell;
  std::atomic<bool> flag{false};
  std::thread waiter([&] {
    CHECK(bell.wait([&] { return flag.load(); }, wait_policy{0, 5s}, ringers::light));
  });
  while ((bell.word.load() & doorbell::parked_bit) == 0) std::this_thread::yield();
  CHECK(((bell.word.load() & doorbell::fence_bit) != 0) == asymmetric_fences_available());
  bell.publish(flag, true, ringers::light);
  waiter.join();
  CHECK((bell.word.load() & doorbell::parked_bit) == 0);
  // Woken from a park: the ringers still fence, until light_after waits in
  // a row have ended while the waiter spun.
  const bool fenced = asymmetric_fences_available();
  for (std::uint32_t i = 1; i < doorbell::light_after; ++i) {
    CHECK(bell.wait([&] { return flag.load(); }, wait_policy{100, 5s}, ringers::light));
    CHECK(((bell.word.load() & doorbell::fence_bit) != 0) == fenced);
  }
  CHECK(bell.wait([&] { return flag.load(); }, wait_policy{100, 5s}, ringers::light));
  CHECK((bell.word.load() & doorbell::fence_bit) == 0);
}

namespace {

// A ping-pong of a million turns over two doorbells with random pauses and
// almost no spinning: each side parks hundreds of thousands of times. A
// lost wake-up would leave one side asleep until the policy's timeout.
// With light ringers the waiters also switch them between light and
// fenced, whenever a wait ends while spinning and the next one parks.
void stress_across_processes(ringers by) {
  // Light ringers are covered only in registered processes; registering
  // before the fork covers the child too (as a ring's constructor does).
  if (by == ringers::light) asymmetric_fences_available();
  const auto turns = test::frames_to_run(1'000'000, 10);
  void* page = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  REQUIRE(page != MAP_FAILED);
  struct shared { doorbell ping, pong; std::atomic<std::uint64_t> turn{0}; };
  auto* s = new (page) shared;
  const wait_policy policy{8, 10s};
  const pid_t child = test::fork_child([&] {
    for (std::uint64_t t = 1; t <= turns; t += 2) {
      if (!s->ping.wait([&] { return s->turn.load() == t; }, policy, by)) return 1;
      test::maybe_pause(t, 3);
      s->pong.publish(s->turn, t + 1, by);
    }
    return 0;
  });
  bool on_time = true;
  for (std::uint64_t t = 0; t < turns && on_time; t += 2) {
    s->ping.publish(s->turn, t + 1, by);
    on_time = s->pong.wait([&] { return s->turn.load() == t + 2; }, policy, by);
    test::maybe_pause(t, 4);
  }
  CHECK(on_time);
  CHECK(test::exited_zero(test::reap(child)));
  munmap(page, 4096);
}

}  // namespace

TEST_CASE("doorbells lose no wake-up across processes under stress" * doctest::timeout(120)) {
  stress_across_processes(ringers::fenced);
}

TEST_CASE("doorbells with light ringers lose no wake-up across processes under stress" *
          doctest::timeout(120)) {
  stress_across_processes(ringers::light);
}

#include "ipc/doorbell.hpp"

#include "child.hpp"
#include "refuse_fences.hpp"
#include "stream.hpp"

#include <doctest/doctest.h>
#include <sys/mman.h>

#include <atomic>
#include <chrono>
#include <new>
#include <thread>

using namespace tandem::ipc;
using namespace std::chrono_literals;

namespace {

// shared_page() maps one zeroed page both sides of a fork see.
void* shared_page() {
  void* page = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  REQUIRE(page != MAP_FAILED);
  return page;
}

}  // namespace

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

// Without the heavy fence a light ringer's store may pass its look at the
// parked bit, so a ring can be lost: the waiter then sleeps at most
// unfenced_park at a time. Here the parent never rings at all.
TEST_CASE(
    "a waiter whose heavy fence is refused sleeps in short slices and sees an unrung "
    "publication" *
    doctest::timeout(30)) {
  asymmetric_fences_available();  // registered before the fork, as a ring does
  if (!test::can_refuse_heavy_fences()) {
    MESSAGE("skipped: no seccomp filter here to refuse heavy fences");
    return;
  }
  struct shared {
    doorbell bell;
    std::atomic<bool> flag{false};
  };
  void* page = shared_page();
  auto* s = new (page) shared;
  const pid_t child = test::fork_child([&] {
    if (!test::refuse_heavy_fences()) return 2;
    if (!s->bell.wait([&] { return s->flag.load(); }, wait_policy{0, 10s}, ringers::light))
      return 1;  // never saw the flag
    return (s->bell.word.load() & doorbell::fence_bit) == 0 ? 0 : 5;
  });
  // Bounded: a child that could not install the filter exits instead.
  const auto give_up = std::chrono::steady_clock::now() + 10s;
  while ((s->bell.word.load() & doorbell::parked_bit) == 0 &&
         std::chrono::steady_clock::now() < give_up)
    std::this_thread::yield();
  std::this_thread::sleep_for(20ms);  // asleep in the kernel by now
  const auto published = std::chrono::steady_clock::now();
  s->flag.store(true);  // and no ring()
  CHECK(test::exited_zero(test::reap(child)));
  // Generous for a loaded machine; a waiter that trusted its re-check would
  // have slept the whole 10 s.
  CHECK(std::chrono::steady_clock::now() - published < 5s);
  munmap(page, 4096);
}

namespace {

// A ping-pong of a million turns over two doorbells with random pauses and
// almost no spinning: each side parks hundreds of thousands of times. A
// lost wake-up would leave one side asleep until the policy's timeout.
// With light ringers the waiters also switch them between light and
// fenced, whenever a wait ends while spinning and the next one parks.
// A child that refuses heavy fences parks in bounded slices instead, while
// the parent's waits stay fenced.
void stress_across_processes(ringers by, bool child_refuses_fences = false) {
  // Light ringers are covered only in registered processes; registering
  // before the fork covers the child too (as a ring's constructor does).
  if (by == ringers::light) asymmetric_fences_available();
  const auto turns = test::frames_to_run(1'000'000, 10);
  void* page = shared_page();
  struct shared {
    doorbell ping, pong;
    std::atomic<std::uint64_t> turn{0};
  };
  auto* s = new (page) shared;
  const wait_policy policy{8, 10s};
  const pid_t child = test::fork_child([&] {
    if (child_refuses_fences && !test::refuse_heavy_fences()) return 2;
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

TEST_CASE("light ringers lose no wake-up under stress when one side's heavy fences are refused" *
          doctest::timeout(120)) {
  if (!test::can_refuse_heavy_fences()) {
    MESSAGE("skipped: no seccomp filter here to refuse heavy fences");
    return;
  }
  stress_across_processes(ringers::light, true);
}

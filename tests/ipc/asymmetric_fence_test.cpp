#include "ipc/asymmetric_fence.hpp"

#include "child.hpp"
#include "refuse_fences.hpp"

#include <doctest/doctest.h>
#include <sys/mman.h>

#include <atomic>
#include <cstdint>
#include <new>

using namespace tandem::ipc;

TEST_CASE("heavy_fence() works exactly when asymmetric fences are available" *
          doctest::timeout(10)) {
  const bool available = asymmetric_fences_available();
  CHECK(asymmetric_fences_available() == available);  // asked once, answered the same
  CHECK(heavy_fence() == available);
  if (!available) MESSAGE("this kernel has no MEMBARRIER_CMD_GLOBAL_EXPEDITED: rings use seq_cst");
}

// A waiter trusts its re-check only when heavy_fence() says the barrier
// ran (doorbell.hpp); a refusal after registration must read as failure.
TEST_CASE("heavy_fence() is false when the kernel refuses the barrier" * doctest::timeout(10)) {
  // Without asymmetric fences heavy_fence() is false before any call.
  const bool available = asymmetric_fences_available();
  if (!available || !test::can_refuse_heavy_fences()) {
    MESSAGE("skipped: no asymmetric fences, or no seccomp filter to refuse them");
    return;
  }
  const pid_t child = test::fork_child([&] {
    if (!test::refuse_heavy_fences()) return 2;
    if (heavy_fence()) return 1;
    return asymmetric_fences_available() ? 0 : 5;  // still answered once
  });
  CHECK(test::exited_zero(test::reap(child)));
}

namespace {

// One store-buffering round per turn: each side stores its word, fences,
// then loads the other's. With full fences on both sides, at least one
// side must see the other's store; x86 lets a plain store sit in the store
// buffer past a later load, so without the heavy side's barrier both may
// miss (with a seq_cst fence in place of heavy_fence() here, hundreds of
// the 20,000 rounds do).
struct litmus {
  alignas(64) std::atomic<std::uint64_t> turn{0};
  alignas(64) std::atomic<std::uint64_t> light_word{0};
  alignas(64) std::atomic<std::uint64_t> heavy_word{0};
  alignas(64) std::atomic<std::uint64_t> light_saw{0};  // what the light side loaded
  alignas(64) std::atomic<std::uint64_t> light_done{0};
};

constexpr auto relaxed = std::memory_order_relaxed;

void spin_until_turn(const std::atomic<std::uint64_t>& turn, std::uint64_t t) {
  while (turn.load(std::memory_order_acquire) != t) {
  }
}

// wait_a_little() spins 0 .. 255 turns of a loop, a different count each
// round, so the two sides' stores meet at every offset.
void wait_a_little(std::uint64_t round) {
  for (std::uint64_t i = 0; i < (round * 37) % 256; ++i) asm volatile("" ::: "memory");
}

}  // namespace

// The light side runs in a forked child, which inherits the registration:
// the barrier must reach another process for the rings to rely on it.
TEST_CASE("a light and a heavy fence forbid the store-buffering outcome across processes" *
          doctest::timeout(60)) {
  if (!asymmetric_fences_available()) {
    MESSAGE("skipped: no asymmetric fences");
    return;
  }
  const auto turns = test::frames_to_run(20'000, 4);
  void* page =
      mmap(nullptr, sizeof(litmus), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  REQUIRE(page != MAP_FAILED);
  auto* s = new (page) litmus;
  const pid_t child = test::fork_child(
      [&] {
        for (std::uint64_t t = 1; t <= turns; ++t) {
          spin_until_turn(s->turn, t);
          s->light_word.store(t, relaxed);
          light_fence();
          s->light_saw.store(s->heavy_word.load(relaxed), relaxed);
          s->light_done.store(t, std::memory_order_release);
        }
        return 0;
      },
      50);
  std::uint64_t both_missed = 0;
  for (std::uint64_t t = 1; t <= turns; ++t) {
    s->turn.store(t, std::memory_order_release);
    wait_a_little(t);  // for the light side to see the turn: the stores must race
    s->heavy_word.store(t, relaxed);
    const bool fenced = heavy_fence();
    const std::uint64_t heavy_saw = s->light_word.load(relaxed);
    spin_until_turn(s->light_done, t);
    if (!fenced || (heavy_saw != t && s->light_saw.load(relaxed) != t)) ++both_missed;
  }
  CHECK(both_missed == 0);
  CHECK(test::exited_zero(test::reap(child)));
  munmap(page, sizeof(litmus));
}

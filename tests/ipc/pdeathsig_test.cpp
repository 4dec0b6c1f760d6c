#include "ipc/pdeathsig.hpp"

#include "child.hpp"

#include <doctest/doctest.h>
#include <sys/mman.h>

#include <atomic>
#include <csignal>
#include <new>

using namespace tandem::ipc;

TEST_CASE("die_with_parent sets the signal the child gets" * doctest::timeout(10)) {
  const pid_t child = test::fork_child([] {
    die_with_parent(getppid(), SIGTERM);
    return parent_death_signal() == SIGTERM ? 0 : 1;
  }, 10);
  CHECK(test::exited_zero(test::reap(child)));
}

TEST_CASE("die_with_parent signals at once when the parent is already gone" * doctest::timeout(10)) {
  const pid_t child = test::fork_child([] {
    die_with_parent(getppid() + 1000000, SIGKILL);  // not our parent: as if it had died
    return 0;
  }, 10);
  const int status = test::reap(child);
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);
}

// Grandchild B asks to die with its parent A; A exits; B is killed. This
// process adopts orphans, so it can reap B and see how B ended.
TEST_CASE("a grandchild dies when its parent exits" * doctest::timeout(20)) {
  adopt_orphans();  // for the rest of this test binary: harmless, it forks only its own
  void* page = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  REQUIRE(page != MAP_FAILED);
  auto* grandchild = new (page) std::atomic<pid_t>(0);
  const pid_t parent = test::fork_child([&] {
    const pid_t me = getpid();
    const pid_t b = test::fork_child([&] {
      die_with_parent(me, SIGKILL);
      grandchild->store(getpid());
      pause();  // until the signal (or alarm, which would fail the test)
      return 0;
    }, 10);
    while (grandchild->load() == 0) usleep(1000);
    return b > 0 ? 0 : 1;  // A exits: B must get SIGKILL
  }, 10);
  CHECK(test::exited_zero(test::reap(parent)));
  const int status = test::reap(grandchild->load());
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);
  munmap(page, 4096);
}

TEST_CASE("tie_to_parent ties a child to a live parent and reports one that is gone" *
          doctest::timeout(10)) {
  const pid_t child = test::fork_child([] {
    if (tie_to_parent(getppid(), SIGTERM) != parent_tie::tied) return 1;
    if (parent_death_signal() != SIGTERM) return 2;
    return tie_to_parent(getppid() + 1000000, SIGKILL) == parent_tie::parent_gone ? 0 : 3;
  }, 10);
  CHECK(test::exited_zero(test::reap(child)));
}

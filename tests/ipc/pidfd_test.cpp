#include "ipc/pidfd.hpp"

#include "ipc/error.hpp"
#include "child.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>

#include <chrono>
#include <csignal>

using namespace tandem::ipc;
using namespace std::chrono_literals;

TEST_CASE("pidfd sees a child run, exit, and reaps its exit code" * doctest::timeout(20)) {
  const std::size_t fds_before = test::entries_in("/proc/self/fd");
  {
    int pipe_fds[2];
    REQUIRE(pipe(pipe_fds) == 0);
    const pid_t child = test::fork_child([&] {
      char go;
      return read(pipe_fds[0], &go, 1) == 1 ? 7 : 1;
    }, 10);
    pidfd watch(child);
    CHECK((fcntl(watch.fd(), F_GETFD) & FD_CLOEXEC) != 0);
    CHECK_FALSE(watch.exited(10ms));
    CHECK_FALSE(watch.try_reap());
    CHECK(write(pipe_fds[1], "x", 1) == 1);
    CHECK(watch.exited(5s));
    const auto status = watch.try_reap();
    REQUIRE(status);
    CHECK_FALSE(status->signaled);
    CHECK(status->number == 7);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
  }
  CHECK(test::entries_in("/proc/self/fd") == fds_before);
}

TEST_CASE("pidfd reports a child killed by a signal" * doctest::timeout(20)) {
  const pid_t child = test::fork_child([] { pause(); return 0; }, 10);
  pidfd watch(child);
  CHECK(watch.send_signal(SIGKILL));
  CHECK(watch.exited(5s));
  const auto status = watch.try_reap();
  REQUIRE(status);
  CHECK(status->signaled);
  CHECK(status->number == SIGKILL);
}

TEST_CASE("pidfd of a process that does not exist throws ipc_error" * doctest::timeout(10)) {
  const pid_t child = test::fork_child([] { return 0; }, 10);
  test::reap(child);
  CHECK_THROWS_AS(pidfd{child}, ipc_error);  // reaped: the pid names nobody now
}

TEST_CASE("an adopted pidfd owns the descriptor; signalling an ended process says false" *
          doctest::timeout(10)) {
  const pid_t child = test::fork_child([] { pause(); return 0; }, 10);
  const pidfd opened(child);
  pidfd adopted = pidfd::adopt(dup(opened.fd()), child);
  CHECK(adopted.pid() == child);
  CHECK(adopted.send_signal(SIGKILL));
  CHECK(adopted.exited(5s));
  CHECK(adopted.try_reap());
  CHECK_FALSE(opened.send_signal(SIGKILL));  // reaped: the pidfd still names it, nobody else
}

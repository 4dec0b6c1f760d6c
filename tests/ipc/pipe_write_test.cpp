#include "ipc/pipe_write.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <utility>

namespace {

bool sigpipe_pending() {
  sigset_t pending;
  sigemptyset(&pending);
  REQUIRE(sigpending(&pending) == 0);
  return sigismember(&pending, SIGPIPE) == 1;
}

struct test_pipe {
  int read_end = -1, write_end = -1;
  test_pipe() {
    int fds[2];
    REQUIRE(pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0);
    read_end = fds[0];
    write_end = fds[1];
  }
  ~test_pipe() {
    if (read_end >= 0) close(read_end);
    close(write_end);
  }
  void close_reader() { close(std::exchange(read_end, -1)); }
};

}  // namespace

TEST_CASE("write_without_sigpipe writes, and reports a full pipe as -EAGAIN" *
          doctest::timeout(10)) {
  test_pipe p;
  CHECK(tandem::ipc::write_without_sigpipe(p.write_end, "abc", 3) == 3);
  char got[3];
  CHECK(read(p.read_end, got, 3) == 3);
  static char block[1 << 16];
  while (tandem::ipc::write_without_sigpipe(p.write_end, block, sizeof block) > 0) {
  }
  CHECK(tandem::ipc::write_without_sigpipe(p.write_end, block, sizeof block) == -EAGAIN);
}

TEST_CASE("a vanished reader is -EPIPE: no signal reaches the program, SIGPIPE stays default" *
          doctest::timeout(10)) {
  test_pipe p;
  p.close_reader();
  CHECK(tandem::ipc::write_without_sigpipe(p.write_end, "x", 1) == -EPIPE);  // still alive
  CHECK_FALSE(sigpipe_pending());
  struct sigaction now {};
  REQUIRE(sigaction(SIGPIPE, nullptr, &now) == 0);
  const bool still_default = now.sa_handler == SIG_DFL;  // doctest cannot print a handler
  CHECK(still_default);
  sigset_t mask;
  REQUIRE(pthread_sigmask(SIG_SETMASK, nullptr, &mask) == 0);
  CHECK_FALSE(sigismember(&mask, SIGPIPE));  // the thread's mask is restored
}

TEST_CASE("a SIGPIPE that was pending before the write stays pending" * doctest::timeout(10)) {
  sigset_t set, old_mask;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  REQUIRE(pthread_sigmask(SIG_BLOCK, &set, &old_mask) == 0);
  REQUIRE(pthread_kill(pthread_self(), SIGPIPE) == 0);
  test_pipe p;
  p.close_reader();
  CHECK(tandem::ipc::write_without_sigpipe(p.write_end, "x", 1) == -EPIPE);
  CHECK(sigpipe_pending());
  const timespec no_wait{0, 0};
  CHECK(sigtimedwait(&set, nullptr, &no_wait) == SIGPIPE);
  REQUIRE(pthread_sigmask(SIG_SETMASK, &old_mask, nullptr) == 0);
}

#include "ipc/futex.hpp"

#include <doctest/doctest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <new>
#include <thread>

using tandem::ipc::futex_scope;
using tandem::ipc::futex_wait;
using tandem::ipc::futex_wake;
using namespace std::chrono_literals;

TEST_CASE("futex_wait returns -EAGAIN at once when the word already differs" *
          doctest::timeout(10)) {
  std::atomic<std::uint32_t> word{1};
  CHECK(futex_wait(word, 0, futex_scope::process_private) == -EAGAIN);
  CHECK(futex_wait(word, 0, futex_scope::shared) == -EAGAIN);
}

TEST_CASE("futex_wait times out with -ETIMEDOUT" * doctest::timeout(10)) {
  std::atomic<std::uint32_t> word{0};
  const auto start = std::chrono::steady_clock::now();
  CHECK(futex_wait(word, 0, futex_scope::process_private, 5ms) == -ETIMEDOUT);
  CHECK(std::chrono::steady_clock::now() - start >= 5ms);
}

TEST_CASE("futex_wake wakes a sleeping thread and reports it" * doctest::timeout(10)) {
  std::atomic<std::uint32_t> word{0};
  std::atomic<bool> woke{false};
  std::thread sleeper([&] {
    while (word.load() == 0) futex_wait(word, 0, futex_scope::process_private);
    woke = true;
  });
  int woken = 0;
  std::this_thread::sleep_for(20ms);  // let it sleep; correctness does not depend on it
  word.store(1);
  woken = futex_wake(word, 1, futex_scope::process_private);
  sleeper.join();
  CHECK(woke);
  CHECK(woken >= 0);
  CHECK(woken <= 1);
}

TEST_CASE("a shared futex wakes a waiter in another process" * doctest::timeout(20)) {
  void* page = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  REQUIRE(page != MAP_FAILED);
  auto* word = new (page) std::atomic<std::uint32_t>(0);
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    while (word->load() == 0) futex_wait(*word, 0, futex_scope::shared, 5s);
    _exit(word->load() == 7 ? 0 : 1);
  }
  std::this_thread::sleep_for(20ms);
  word->store(7);
  futex_wake(*word, 1, futex_scope::shared);
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  munmap(page, 4096);
}

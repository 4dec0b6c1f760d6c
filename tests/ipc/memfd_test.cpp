#include "ipc/memfd.hpp"

#include "ipc/error.hpp"
#include "child.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <utility>

using tandem::ipc::ipc_error;
using tandem::ipc::memfd;
using tandem::ipc::test::entries_in;

TEST_CASE("memfd has the size asked for and is close-on-exec" * doctest::timeout(10)) {
  const memfd memory("memfd-test", 1 << 20);
  struct stat info {};
  REQUIRE(fstat(memory.fd(), &info) == 0);
  CHECK(info.st_size == (1 << 20));
  CHECK(memory.size() == (1u << 20));
  CHECK((fcntl(memory.fd(), F_GETFD) & FD_CLOEXEC) != 0);
}

TEST_CASE("memfd closes its descriptor when destroyed or moved from" * doctest::timeout(10)) {
  const std::size_t before = entries_in("/proc/self/fd");
  {
    memfd first("memfd-test", 4096);
    memfd second = std::move(first);
    CHECK(first.fd() == -1);
    CHECK(entries_in("/proc/self/fd") == before + 1);
    first = std::move(second);
    CHECK(entries_in("/proc/self/fd") == before + 1);
  }
  CHECK(entries_in("/proc/self/fd") == before);
}

TEST_CASE("memfd refuses a size the machine cannot give, naming it" * doctest::timeout(10)) {
  const std::size_t before = entries_in("/proc/self/fd");
  try {
    memfd too_big("memfd-test", std::size_t{1} << 50);
    FAIL("a 1 PiB memfd was reserved");
  } catch (const ipc_error& failure) {
    CHECK(failure.code() != 0);
    CHECK(std::string(failure.what()).find("1073741824 MiB") != std::string::npos);
  }
  CHECK(entries_in("/proc/self/fd") == before);
}

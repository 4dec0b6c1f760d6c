#include "ipc/segment.hpp"

#include "ipc/channel.hpp"
#include "ipc/error.hpp"
#include "child.hpp"
#include "stream.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <fstream>
#include <string>

using namespace tandem::ipc;
using tandem::ipc::test::entries_in;
using tandem::ipc::test::exited_zero;
using tandem::ipc::test::fork_child;
using tandem::ipc::test::reap;

namespace {

bool maps_mention(const std::string& word) {
  std::ifstream maps("/proc/self/maps");
  for (std::string line; std::getline(maps, line);)
    if (line.find(word) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("a segment carves aligned blocks and objects until it is full" * doctest::timeout(10)) {
  for (const auto backing : {segment_backing::memfd, segment_backing::anonymous}) {
    segment memory({std::size_t{1} << 20, backing});
    void* block = memory.allocate(1000, 64);
    CHECK(reinterpret_cast<std::uintptr_t>(block) % 64 == 0);
    CHECK(static_cast<std::byte*>(block) >= memory.base());
    CHECK(static_cast<std::byte*>(block) + 1000 <= memory.base() + memory.size());
    auto* counter = memory.construct<std::atomic<std::uint64_t>>(7u);
    CHECK(counter->load() == 7);
    CHECK_THROWS_AS(memory.allocate(std::size_t{2} << 20, 64), ipc_error);
  }
}

TEST_CASE("a segment is shared with a forked child" * doctest::timeout(20)) {
  segment memory({std::size_t{1} << 20, segment_backing::memfd});
  auto* word = memory.construct<std::atomic<std::uint32_t>>(0u);
  const pid_t child = fork_child([&] { word->store(42); return 0; }, 10);
  CHECK(exited_zero(reap(child)));
  CHECK(word->load() == 42);
}

TEST_CASE("a segment of an impossible size fails with the size and errno" * doctest::timeout(10)) {
  for (const auto backing : {segment_backing::memfd, segment_backing::anonymous}) {
    try {
      segment memory({std::size_t{1} << 50, backing});
      FAIL("a 1 PiB segment was mapped");
    } catch (const ipc_error& failure) {
      CHECK(failure.code() != 0);
      CHECK(std::string(failure.what()).find("1073741824 MiB") != std::string::npos);
    }
  }
  CHECK_THROWS_AS(segment({100, segment_backing::anonymous}), ipc_error);
}

TEST_CASE("nothing is left in /dev/shm, /proc/self/fd or the maps after a segment dies" *
          doctest::timeout(60)) {
  const std::size_t shm_before = entries_in("/dev/shm");
  const std::size_t fds_before = entries_in("/proc/self/fd");
  for (const auto backing : {segment_backing::memfd, segment_backing::anonymous}) {
    {
      segment memory({std::size_t{8} << 20, backing});
      channel link(memory, channel_options{{}, std::size_t{4} << 20});
      const pid_t child = fork_child([&] {
        channel_writer out(link);
        return test::produce(out, 0, 2000, false) ? 0 : 1;
      });
      channel_reader in(link);
      CHECK(test::consume(in, link.ring().options().max_inline, 0, 2000, false) == "");
      CHECK(exited_zero(reap(child)));
      CHECK(entries_in("/proc/self/fd") == fds_before);
    }
    CHECK(entries_in("/dev/shm") == shm_before);
    CHECK(entries_in("/proc/self/fd") == fds_before);
    CHECK_FALSE(maps_mention("tandem-ipc"));
  }
}

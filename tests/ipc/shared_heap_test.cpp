#include "ipc/shared_heap.hpp"

#include "ipc/error.hpp"
#include "ipc/segment.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <thread>
#include <vector>

using namespace tandem::ipc;
using namespace std::chrono_literals;

namespace {

struct fixture {
  segment memory{{std::size_t{4} << 20, segment_backing::anonymous}};
  shared_heap heap{memory, std::size_t{1} << 20};
};

}  // namespace

TEST_CASE("shared_heap blocks lie inside the arena, aligned, with the asked size" *
          doctest::timeout(10)) {
  fixture f;
  shm_buffer block = f.heap.try_allocate(1000);
  REQUIRE(block);
  CHECK(block.bytes().size() == 1000);
  const auto arena = f.heap.bytes();
  CHECK(block.bytes().data() >= arena.data() + heap_block_prefix);
  CHECK(block.bytes().data() + 1000 <= arena.data() + arena.size());
  CHECK(reinterpret_cast<std::uintptr_t>(block.bytes().data()) % 16 == 0);
  const heap_ref ref = block.hand_over();
  CHECK(ref.offset == static_cast<std::uint64_t>(block.bytes().data() - arena.data()));
  CHECK(f.heap.blocks_out() == 1);
  f.heap.give_back(ref);
}

TEST_CASE("a full heap says so; returned and dropped blocks are reused" * doctest::timeout(10)) {
  fixture f;
  std::vector<heap_ref> sent;
  while (shm_buffer block = f.heap.try_allocate(100 << 10)) sent.push_back(block.hand_over());
  CHECK(sent.size() >= 8);
  CHECK_FALSE(bool(f.heap.try_allocate(100 << 10)));
  for (const heap_ref& ref : sent) f.heap.give_back(ref);
  { shm_buffer dropped = f.heap.try_allocate(100 << 10); CHECK(bool(dropped)); }
  std::size_t again = 0;
  std::vector<shm_buffer> held;
  while (shm_buffer block = f.heap.try_allocate(100 << 10)) held.push_back(std::move(block)), ++again;
  CHECK(again == sent.size());
}

TEST_CASE("a stale or forged give_back does not free a live block" * doctest::timeout(10)) {
  fixture f;
  shm_buffer block = f.heap.try_allocate(64);
  const heap_ref ref = block.hand_over();
  f.heap.give_back(heap_ref{ref.offset, 65});  // wrong length: ignored
  f.heap.give_back(ref);
  CHECK(bool(f.heap.try_allocate(16)));  // reclaims the block
  CHECK(f.heap.blocks_out() == 1);  // only the new one (now dropped) was out
  f.heap.give_back(ref);           // second return of a freed block: ignored
  CHECK(f.heap.blocks_out() <= 1);
}

TEST_CASE("allocate() waits until the consumer returns a block" * doctest::timeout(10)) {
  fixture f;
  std::vector<heap_ref> sent;
  while (shm_buffer block = f.heap.try_allocate(200 << 10)) sent.push_back(block.hand_over());
  CHECK_FALSE(bool(f.heap.allocate(200 << 10, wait_policy{10, 20ms})));
  std::thread consumer([&] {
    std::this_thread::sleep_for(10ms);
    f.heap.give_back(sent.front());
  });
  CHECK(bool(f.heap.allocate(200 << 10, wait_policy{0, 5s})));
  consumer.join();
}

TEST_CASE("a payload larger than the heap is refused with a clear error" * doctest::timeout(10)) {
  fixture f;
  CHECK_THROWS_AS(f.heap.try_allocate(std::size_t{2} << 20), ipc_error);
}

TEST_CASE("format() frees every block, as after the death of a peer" * doctest::timeout(10)) {
  fixture f;
  while (shm_buffer block = f.heap.try_allocate(100 << 10)) block.hand_over();
  f.heap.format();
  CHECK(f.heap.blocks_out() == 0);
  CHECK(bool(f.heap.try_allocate(500 << 10)));
}

#include "ipc/shared_heap.hpp"

#include "ipc/error.hpp"
#include "ipc/segment.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <span>
#include <thread>
#include <vector>

using namespace tandem::ipc;
using namespace std::chrono_literals;

namespace {

struct fixture {
  segment memory{{std::size_t{4} << 20, segment_backing::anonymous}};
  shared_heap heap{memory, std::size_t{1} << 20};

  // ref_of() is the ref a consumer can compute for any block: offsets into
  // the arena are no secret.
  heap_ref ref_of(const shm_buffer& block) const {
    return {static_cast<std::uint64_t>(block.bytes().data() - heap.bytes().data()),
            block.bytes().size()};
  }
};

bool overlap(std::span<const std::byte> a, std::span<const std::byte> b) {
  const auto a0 = reinterpret_cast<std::uintptr_t>(a.data());
  const auto b0 = reinterpret_cast<std::uintptr_t>(b.data());
  return a0 < b0 + b.size() && b0 < a0 + a.size();
}

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

TEST_CASE("a returned block serves the next payload of its size" * doctest::timeout(10)) {
  fixture f;
  shm_buffer first = f.heap.try_allocate(4000);
  const heap_ref ref = first.hand_over();
  f.heap.give_back(ref);
  shm_buffer next = f.heap.try_allocate(4000 - 30);  // the same size, to a cache line
  REQUIRE(next);
  CHECK(f.ref_of(next).offset == ref.offset);
  CHECK(next.bytes().size() == 4000 - 30);
  CHECK(f.heap.blocks_out() == 1);
}

TEST_CASE("blocks kept for reuse never keep a bigger payload out" * doctest::timeout(10)) {
  fixture f;
  std::vector<heap_ref> sent;
  while (shm_buffer block = f.heap.try_allocate(16 << 10)) sent.push_back(block.hand_over());
  for (const heap_ref& ref : sent) f.heap.give_back(ref);
  // Some of those blocks are kept for 16 KiB payloads, scattered over the
  // arena; the big one needs them back.
  CHECK(bool(f.heap.try_allocate(sent.size() * (15 << 10))));
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

// A consumer may write `returned` into any block's prefix. The owner must
// not free a block it has not handed over: it would reuse memory it is
// still filling, and the allocator's free list lives in freed payloads.
TEST_CASE("a peer cannot make the owner free a block the owner still holds" *
          doctest::timeout(10)) {
  fixture f;
  shm_buffer held = f.heap.try_allocate(100 << 10);
  REQUIRE(held);
  std::memset(held.bytes().data(), 0x5a, held.bytes().size());
  f.heap.give_back(f.ref_of(held));
  std::vector<shm_buffer> others;  // fill the heap: every reclaim path runs
  while (shm_buffer block = f.heap.try_allocate(100 << 10)) others.push_back(std::move(block));
  CHECK(f.heap.blocks_out() == others.size() + 1);
  for (const shm_buffer& other : others) CHECK_FALSE(overlap(other.bytes(), held.bytes()));
  CHECK(std::all_of(held.bytes().begin(), held.bytes().end(),
                    [](std::byte b) { return b == std::byte{0x5a}; }));
}

TEST_CASE("give_back ignores refs outside the arena and forged prefixes" * doctest::timeout(10)) {
  fixture f;
  shm_buffer a = f.heap.try_allocate(4096);
  shm_buffer b = f.heap.try_allocate(4096);
  const std::uint64_t size = f.heap.bytes().size();
  // Past the end, near 2^64, inside a payload, inside the arena's first
  // bytes: before the bounds check, each was a write through a wild pointer.
  for (const heap_ref bad : {heap_ref{size + 4096, 16}, heap_ref{~std::uint64_t{0} - 15, 16},
                             heap_ref{f.ref_of(a).offset + 8, 16}, heap_ref{0, 16}})
    f.heap.give_back(bad);
  // A genuine prefix copied into b's payload passes give_back's checks,
  // but names no block the owner handed out: nothing may be freed.
  std::memcpy(b.bytes().data() + 64, a.bytes().data() - heap_block_prefix, heap_block_prefix);
  f.heap.give_back(heap_ref{f.ref_of(b).offset + 64 + heap_block_prefix, 4096});
  shm_buffer c = f.heap.try_allocate(16);  // reclaims, and frees nothing
  CHECK(f.heap.blocks_out() == 3);
  const heap_ref sent = a.hand_over();  // the honest path still frees
  f.heap.give_back(sent);
  shm_buffer d = f.heap.try_allocate(16);
  CHECK(f.heap.blocks_out() == 3);  // b, c, d: a was freed
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

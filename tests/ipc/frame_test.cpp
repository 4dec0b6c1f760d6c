#include "ipc/frame.hpp"

#include <doctest/doctest.h>

#include <array>
#include <cstring>
#include <random>
#include <vector>

using namespace tandem::ipc;

namespace {

struct fixture {
  std::vector<std::byte> ring = std::vector<std::byte>(4096);
  std::vector<std::byte> heap = std::vector<std::byte>(1024);
  frame_limits limits{256, 8, {}};

  fixture() { limits.heap = heap; }

  void put(std::uint64_t at, frame_header header, const void* body = nullptr) {
    std::memcpy(ring.data() + at, &header, sizeof header);
    if (body != nullptr) std::memcpy(ring.data() + at + sizeof header, body, header.length);
  }
  decoded read(std::uint64_t tail, std::uint64_t head) const {
    return decode_frame(ring, tail, head, limits);
  }
};

}  // namespace

TEST_CASE("decode_frame reads an inline frame and says how far to move" * doctest::timeout(10)) {
  fixture f;
  const char text[] = "hello";
  f.put(0, {5, 3, 0, 77}, text);
  const decoded frame = f.read(0, 32);
  REQUIRE(frame.error == frame_error::none);
  CHECK(frame.kind == 3);
  CHECK(frame.id == 77);
  CHECK(frame.advance == 32);
  CHECK(std::memcmp(frame.payload.data(), text, 5) == 0);
  CHECK(f.read(32, 32).error == frame_error::empty);
}

TEST_CASE("decode_frame skips padding and reads the frame at the start" * doctest::timeout(10)) {
  fixture f;
  f.put(4064, {16, padding_kind, 0, 0});
  f.put(0, {0, 1, 0, 9});
  const decoded frame = f.read(4064, 4096 + 16);
  REQUIRE(frame.error == frame_error::none);
  CHECK(frame.id == 9);
  CHECK(frame.advance == 32 + 16);
  CHECK(f.read(4064, 4096).advance == 32);  // padding alone: consumable, nothing else
}

TEST_CASE("decode_frame resolves heap references inside the heap only" * doctest::timeout(10)) {
  fixture f;
  const heap_ref good{64, 100}, past_end{1008, 100}, misaligned{72, 8}, in_prefix{0, 8};
  f.put(0, {sizeof good, 2, heap_payload, 1}, &good);
  decoded frame = f.read(0, 32);
  REQUIRE(frame.error == frame_error::none);
  CHECK(frame.on_heap);
  CHECK(frame.payload.data() == reinterpret_cast<const std::byte*>(f.heap.data()) + 64);
  CHECK(frame.payload.size() == 100);
  for (const heap_ref bad : {past_end, misaligned, in_prefix}) {
    f.put(0, {sizeof bad, 2, heap_payload, 1}, &bad);
    frame = f.read(0, 32);
    CHECK(frame.error == frame_error::bad_heap_ref);
    CHECK(frame.advance == 32);  // the frame is skipped, the ring goes on
  }
  f.put(0, {8, 2, heap_payload, 1}, &good);
  CHECK(f.read(0, 32).error == frame_error::bad_heap_ref);
}

TEST_CASE("decode_frame reports bad kinds and flags as frame errors" * doctest::timeout(10)) {
  fixture f;
  f.put(0, {0, 8, 0, 1});
  CHECK(f.read(0, 16).error == frame_error::bad_kind);
  CHECK(f.read(0, 16).advance == 16);
  f.put(0, {0, 1, 0x40, 1});
  CHECK(f.read(0, 16).error == frame_error::bad_flags);
}

TEST_CASE("decode_frame reports broken indices and lengths as ring_corrupt" * doctest::timeout(10)) {
  fixture f;
  f.put(0, {1000, 1, 0, 1});  // above max_inline
  CHECK(f.read(0, 2048).error == frame_error::ring_corrupt);
  f.put(0, {100, 1, 0, 1});  // longer than what was published
  CHECK(f.read(0, 32).error == frame_error::ring_corrupt);
  CHECK(f.read(0, 8192).error == frame_error::ring_corrupt);  // head beyond capacity
  CHECK(f.read(0, 24).error == frame_error::ring_corrupt);    // head not on a frame boundary
  f.put(4064, {200, padding_kind, 0, 0});                    // padding of the wrong length
  CHECK(f.read(4064, 4096 + 16).error == frame_error::ring_corrupt);
  f.put(4080, {100, 1, 0, 1});  // a frame that would run past the end of the ring
  CHECK(f.read(4080, 4096 + 128).error == frame_error::ring_corrupt);
  CHECK(f.read(0, 32).advance == 0);
}

TEST_CASE("decode_frame survives random ring contents (ASan/UBSan watch)" * doctest::timeout(60)) {
  fixture f;
  std::mt19937_64 random(12345);
  for (int round = 0; round < 20000; ++round) {
    // Small values half the time, so kinds, flags and lengths often pass
    // the first checks and the deeper ones run.
    const std::uint64_t mask = round % 2 ? 0x1f1f1f1f1f1f1f1fULL : ~0ULL;
    for (std::size_t i = 0; i < f.ring.size(); i += 8) {
      const std::uint64_t word = random() & mask;
      std::memcpy(f.ring.data() + i, &word, 8);
    }
    const std::uint64_t tail = (random() % 256) * 16;
    const std::uint64_t head = tail + (round % 3 ? (random() % 300) * 16 : random());
    const decoded frame = f.read(tail, head);
    if (frame.error == frame_error::none) {
      unsigned sum = 0;
      for (const std::byte b : frame.payload) sum += static_cast<unsigned>(b);  // must be readable
      CHECK(sum <= 255 * frame.payload.size());
      CHECK(frame.advance <= head - tail);
    }
  }
}

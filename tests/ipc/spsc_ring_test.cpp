#include "ipc/spsc_ring.hpp"

#include "ipc/error.hpp"
#include "ipc/segment.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

using namespace tandem::ipc;
using namespace std::chrono_literals;

namespace {

struct fixture {
  segment memory{{std::size_t{1} << 20, segment_backing::anonymous}};
  spsc_ring ring{memory, ring_options{4096, 256, 16}};
  ring_writer writer{ring};
  ring_reader reader{ring, {}};

  bool write(std::uint64_t id, std::uint32_t length) {
    std::byte* body = writer.try_prepare(length);
    if (body == nullptr) return false;
    std::memset(body, static_cast<int>(id & 0xff), length);
    writer.commit(1, 0, id);
    return true;
  }
};

}  // namespace

TEST_CASE("spsc_ring rejects bad options with a clear error" * doctest::timeout(10)) {
  segment memory({std::size_t{1} << 20, segment_backing::anonymous});
  CHECK_THROWS_AS(spsc_ring(memory, ring_options{5000, 256, 16}), ipc_error);
  CHECK_THROWS_AS(spsc_ring(memory, ring_options{4096, 2048, 16}), ipc_error);
  CHECK_THROWS_AS(spsc_ring(memory, ring_options{4096, 100, 16}), ipc_error);
  CHECK_THROWS_AS(spsc_ring(memory, ring_options{4096, 256, 1}), ipc_error);
}

TEST_CASE("a ring publishes with light fences where the kernel has them, unless told not to" *
          doctest::timeout(10)) {
  segment memory({std::size_t{1} << 20, segment_backing::anonymous});
  const spsc_ring ring(memory, ring_options{});
  CHECK((ring.publishers() == ringers::light) == asymmetric_fences_available());
  ring_options fenced;
  fenced.asymmetric_fences = false;
  CHECK(spsc_ring(memory, fenced).publishers() == ringers::fenced);
}

TEST_CASE("spsc_ring over caller memory takes exactly a ring's worth of bytes" *
          doctest::timeout(10)) {
  ring_state state;
  std::vector<std::byte> bytes(4096);
  CHECK_THROWS_AS(spsc_ring(state, std::span(bytes).first(2048), ring_options{4096, 256, 16}),
                  ipc_error);
  const spsc_ring ring(state, bytes, ring_options{4096, 256, 16});
  ring_writer writer(ring);
  ring_reader reader(ring, {});
  std::memcpy(writer.try_prepare(3), "abc", 3);
  writer.commit(1, 0, 42);
  writer.publish();
  const decoded frame = reader.try_read();
  REQUIRE(frame.error == frame_error::none);
  CHECK(frame.id == 42);
  CHECK(frame.payload.data() == bytes.data() + sizeof(frame_header));
}

TEST_CASE("frames become visible on publish, in order" * doctest::timeout(10)) {
  fixture f;
  REQUIRE(f.write(1, 10));
  REQUIRE(f.write(2, 0));
  CHECK(f.reader.try_read().error == frame_error::empty);
  f.writer.publish();
  for (std::uint64_t id : {1, 2}) {
    const decoded frame = f.reader.try_read();
    REQUIRE(frame.error == frame_error::none);
    CHECK(frame.id == id);
    f.reader.consume(frame);
  }
  CHECK(f.reader.try_read().error == frame_error::empty);
}

TEST_CASE("consumed() holds once the reader found the ring empty" * doctest::timeout(10)) {
  fixture f;
  CHECK(f.writer.consumed());
  REQUIRE(f.write(1, 10));
  CHECK(f.writer.consumed());  // committed, not published: nothing to take
  f.writer.publish();
  CHECK_FALSE(f.writer.consumed());
  const decoded frame = f.reader.try_read();
  REQUIRE(frame.error == frame_error::none);
  f.reader.consume(frame);
  CHECK(f.reader.try_read().error == frame_error::empty);  // publishes the tail
  CHECK(f.writer.consumed());
}

TEST_CASE("a full ring refuses frames until the reader frees room, then wraps" *
          doctest::timeout(10)) {
  fixture f;
  std::uint64_t written = 0;
  while (f.write(written, 200)) ++written;
  CHECK(written == 4096 / 224);
  f.writer.publish();
  for (std::uint64_t id = 0; id < 1000; ++id) {  // many laps around the ring
    const decoded frame = f.reader.try_read();
    REQUIRE(frame.error == frame_error::none);
    CHECK(frame.id == id);
    CHECK(frame.payload.size() == 200);
    CHECK(frame.payload[199] == static_cast<std::byte>(id & 0xff));
    f.reader.consume(frame);
    if (f.reader.try_read().error == frame_error::empty) {  // publishes the tail
      while (f.write(written, 200)) ++written;
      f.writer.publish();
    }
  }
}

TEST_CASE("prepare() waits for room and times out when none comes" * doctest::timeout(10)) {
  fixture f;
  while (f.write(0, 200)) {
  }
  CHECK(f.writer.prepare(200, wait_policy{10, 20ms}) == nullptr);
  std::thread reader([&] {
    std::this_thread::sleep_for(10ms);
    const decoded frame = f.reader.try_read();
    f.reader.consume(frame);
    while (f.reader.try_read().error == frame_error::none) f.reader.consume(f.reader.try_read());
  });
  CHECK(f.writer.prepare(200, wait_policy{10, 5s}) != nullptr);
  reader.join();
}

TEST_CASE("read() waits for a frame from another thread and times out on silence" *
          doctest::timeout(10)) {
  fixture f;
  CHECK(f.reader.read(wait_policy{10, 10ms}).error == frame_error::empty);
  std::thread writer([&] {
    std::this_thread::sleep_for(10ms);
    f.write(5, 1);
    f.writer.publish();
  });
  const decoded frame = f.reader.read(wait_policy{0, 5s});
  writer.join();
  CHECK(frame.error == frame_error::none);
  CHECK(frame.id == 5);
}

TEST_CASE("a scribbled head is reported as ring_corrupt and reset() recovers" *
          doctest::timeout(10)) {
  fixture f;
  f.ring.state().head.store(12345);
  CHECK(f.reader.try_read().error == frame_error::ring_corrupt);
  CHECK(f.reader.try_read().error == frame_error::ring_corrupt);  // sticky, but no hang
  f.reader.reset();
  f.writer.reset();
  REQUIRE(f.write(9, 3));
  f.writer.publish();
  CHECK(f.reader.try_read().id == 9);
}

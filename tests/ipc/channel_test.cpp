#include "ipc/channel.hpp"

#include "ipc/pidfd.hpp"
#include "ipc/segment.hpp"
#include "child.hpp"
#include "stream.hpp"

#include <doctest/doctest.h>

#include <csignal>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

using namespace tandem::ipc;
using namespace std::chrono_literals;

namespace {

// Big enough for a few 1 MiB payloads in flight and a ring of ~100 frames.
const channel_options stream_options{ring_options{std::size_t{128} << 10, 1024, 16},
                                     std::size_t{16} << 20};

struct fixture {
  segment memory{{std::size_t{24} << 20, segment_backing::memfd}};
  channel link{memory, stream_options};
};

// fenced_options publish with seq_cst stores, as on a kernel without
// asymmetric fences.
channel_options fenced_options() {
  channel_options options = stream_options;
  options.ring.asymmetric_fences = false;
  return options;
}

}  // namespace

TEST_CASE("channel sends inline, copied-heap and in-place heap payloads" * doctest::timeout(10)) {
  fixture f;
  channel_writer out(f.link);
  channel_reader in(f.link);
  // One thread plays both ends, so it sends in batches that fit the ring
  // (50 frames of at most 1040 bytes < 128 KiB) and drains each batch.
  int copied = 0, in_place = 0;
  for (std::uint64_t first = 0; first < 500; first += 50) {
    for (std::uint64_t id = first; id < first + 50; ++id)
      if (test::payload_size(id, out.max_inline()) > out.max_inline()) ++(id % 2 ? in_place : copied);
    REQUIRE(test::produce(out, first, 50, false));
    CHECK(test::consume(in, out.max_inline(), first, 50, false) == "");
  }
  CHECK(copied > 0);  // the ids above do take all three paths
  CHECK(in_place > 0);
  CHECK(in.try_receive().error == frame_error::empty);
  const shm_buffer probe = f.link.heap().try_allocate(16);  // reclaims what came back
  CHECK(f.link.heap().blocks_out() == 1);                   // every sent block came back
}

TEST_CASE("a frame pointing outside the heap fails alone; the stream goes on" *
          doctest::timeout(10)) {
  fixture f;
  ring_writer raw(f.link.ring());
  std::byte* body = raw.try_prepare(sizeof(heap_ref));
  const heap_ref forged{f.link.heap().bytes().size() - 16, 4096};
  std::memcpy(body, &forged, sizeof forged);
  raw.commit(1, heap_payload, 99);
  raw.publish();
  channel_reader in(f.link);
  const decoded bad = in.receive(wait_policy{0, 1s});
  CHECK(bad.error == frame_error::bad_heap_ref);
  CHECK(bad.advance != 0);
  in.done(bad);
}

// Frame A holds most of a small heap and is posted but not flushed; the
// next heap payload cannot fit until the consumer returns A, which it can
// only do once A is published. allocate() must publish before it waits.
TEST_CASE("a producer waiting for heap room publishes what it posted first" *
          doctest::timeout(20)) {
  segment memory{{std::size_t{4} << 20, segment_backing::memfd}};
  channel link{memory, channel_options{ring_options{}, std::size_t{1} << 20}};
  channel_writer out(link);
  const std::vector<std::byte> big(600 << 10, std::byte{7});
  REQUIRE(out.post(1, 1, big, wait_policy{0, 1s}));  // no flush
  std::string seen;
  std::thread consumer([&] {
    channel_reader in(link);
    for (int i = 0; i < 2; ++i) {
      const decoded frame = in.receive(wait_policy{0, 10s});
      seen += frame.error == frame_error::none && frame.payload.size() == big.size() ? "+" : "-";
      if (frame.error == frame_error::none) in.done(frame);
    }
  });
  const bool posted = out.send(1, 2, big, wait_policy{0, 10s});
  consumer.join();
  CHECK(posted);
  CHECK(seen == "++");
}

// The stream tests move frames of 1 B .. 1 MiB (see stream.hpp) with random
// pauses on both sides. Counts (TANDEM_IPC_FRAMES overrides them):
//  * forked: 10 million in the normal build (~15 GB of payload), 1 million
//    under ASan/TSan (/10);
//  * threaded: 2 million in the normal build, 200 thousand under the
//    sanitizers (TSan checks every access, so it is the slow one).
TEST_CASE("10 million checksummed frames stream from a forked producer" * doctest::timeout(280)) {
  const auto frames = test::frames_to_run(10'000'000, 10);
  fixture f;
  const pid_t child = test::fork_child([&] {
    channel_writer out(f.link);
    return test::produce(out, 0, frames, true) ? 0 : 1;
  }, 270);
  channel_reader in(f.link);
  CHECK(test::consume(in, stream_options.ring.max_inline, 0, frames, true) == "");
  CHECK(test::exited_zero(test::reap(child)));
}

TEST_CASE("frames stream from a forked producer that publishes with seq_cst stores" *
          doctest::timeout(280)) {
  const auto frames = test::frames_to_run(1'000'000, 10);
  segment memory{{std::size_t{24} << 20, segment_backing::memfd}};
  channel link{memory, fenced_options()};
  REQUIRE(link.ring().publishers() == ringers::fenced);
  const pid_t child = test::fork_child([&] {
    channel_writer out(link);
    return test::produce(out, 0, frames, true) ? 0 : 1;
  }, 270);
  channel_reader in(link);
  CHECK(test::consume(in, stream_options.ring.max_inline, 0, frames, true) == "");
  CHECK(test::exited_zero(test::reap(child)));
}

TEST_CASE("checksummed frames stream between two threads (the TSan variant)" *
          doctest::timeout(280)) {
  const auto frames = test::frames_to_run(2'000'000, 10);
  fixture f;
  bool produced = false;
  std::thread producer([&] {
    channel_writer out(f.link);
    produced = test::produce(out, 0, frames, true);
  });
  channel_reader in(f.link);
  CHECK(test::consume(in, stream_options.ring.max_inline, 0, frames, true) == "");
  producer.join();
  CHECK(produced);
}

// The producer is SIGKILLed while streaming, at a random point of a frame
// or of a heap allocation. The consumer must read only whole frames, notice
// the death through a pidfd, reset the channel (ring and the dead owner's
// heap) and serve a new producer.
TEST_CASE("a producer killed mid-stream leaves whole frames; the consumer recovers" *
          doctest::timeout(120)) {
  fixture f;
  channel_reader in(f.link);
  for (int round = 0; round < 3; ++round) {
    const pid_t child = test::fork_child([&] {
      channel_writer out(f.link);
      return test::produce(out, 0, ~0ULL >> 1, false) ? 0 : 1;
    }, 60);
    pidfd watch(child);
    CHECK(test::consume(in, stream_options.ring.max_inline, 0, 20'000 + round * 7919, false) == "");
    kill(child, SIGKILL);
    REQUIRE(watch.exited(10s));
    const auto status = watch.try_reap();
    REQUIRE(status);
    CHECK(status->signaled);
    CHECK(status->number == SIGKILL);
    std::uint64_t next = 20'000 + round * 7919;
    for (decoded frame = in.try_receive(); frame.error != frame_error::empty;
         frame = in.try_receive(), ++next) {  // whatever was published is whole
      REQUIRE(frame.error == frame_error::none);
      CHECK(frame.id == next);
      CHECK(test::intact(frame.payload, next));
      in.done(frame);
    }
    in.reset();
  }
  const pid_t child = test::fork_child([&] {
    channel_writer out(f.link);
    return test::produce(out, 0, 20'000, false) ? 0 : 1;
  });
  CHECK(test::consume(in, stream_options.ring.max_inline, 0, 20'000, false) == "");
  CHECK(test::exited_zero(test::reap(child)));
}

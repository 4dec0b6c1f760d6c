// frame_reader_fuzz.cpp — libFuzzer target for the code that reads what a
// peer wrote into a ring: decode_frame() and ring_reader (frame.hpp,
// spsc_ring.hpp).
//
// The input is arbitrary ring contents plus what a peer controls (head) or
// the reader is configured with (capacity, limits), all little-endian:
//
//   byte 0       capacity: 4 KiB << (b % 4)
//   byte 1       max_inline: 16 * (1 + b % (capacity / 64)), so 16 .. capacity/4
//   byte 2       kind_limit: 2 + b
//   byte 3       bit 0: the first head is frame-aligned and at most a ring ahead
//                bits 4..7: how many head updates follow the header
//   bytes 4..5   heap size in bytes (any value, 0 included)
//   bytes 6..13  tail for the decode_frame walk (rounded down to a frame boundary:
//                the reader owns its tail, see decode_frame())
//   bytes 14..17 first head, as a distance ahead of the tail
//   then         2 bytes per head update (the ring_reader walk, see next_head())
//   the rest     ring bytes, repeated to fill the ring from the tail's position
//
// The ring and the heap are separate exact-size allocations, so ASan reports
// any read outside them. check_frame() asserts the rest of the decoder's
// contract: payloads lie inside the ring or the heap, advance moves by whole
// frames and never past head, and every walk ends within a bound.
#include "ipc/frame.hpp"
#include "ipc/spsc_ring.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

using namespace tandem::ipc;

namespace {

constexpr std::size_t header_bytes = 18;

// require() turns a broken contract into a crash libFuzzer records.
void require(bool holds, const char* what) {
  if (holds) return;
  std::fprintf(stderr, "frame_reader_fuzz: contract broken: %s\n", what);
  std::abort();
}

template <class T>
T read_le(const std::uint8_t* at) {
  T value;
  std::memcpy(&value, at, sizeof value);
  return value;
}

struct fuzz_input {
  ring_options options;
  bool aligned_head;
  std::size_t heap_size;
  std::uint64_t tail;
  std::uint64_t head_distance;
  std::span<const std::uint8_t> head_updates;  // 2 bytes each
  std::span<const std::uint8_t> ring_pattern;
};

fuzz_input parse(const std::uint8_t* data, std::size_t size) {
  fuzz_input in;
  in.options.capacity = std::size_t{4096} << (data[0] % 4);
  in.options.max_inline =
      static_cast<std::uint32_t>(16 * (1 + data[1] % (in.options.capacity / 64)));
  in.options.kind_limit = static_cast<std::uint16_t>(2 + data[2]);
  in.aligned_head = (data[3] & 1) != 0;
  in.heap_size = read_le<std::uint16_t>(data + 4);
  in.tail = read_le<std::uint64_t>(data + 6) & ~std::uint64_t{frame_alignment - 1};
  in.head_distance = read_le<std::uint32_t>(data + 14);
  if (in.aligned_head)
    in.head_distance =
        in.head_distance % (in.options.capacity / frame_alignment + 1) * frame_alignment;
  const std::span<const std::uint8_t> rest(data + header_bytes, size - header_bytes);
  const std::size_t updates = std::min<std::size_t>(data[3] >> 4, rest.size() / 2);
  in.head_updates = rest.first(updates * 2);
  in.ring_pattern = rest.subspan(updates * 2);
  return in;
}

// fill_ring() repeats the pattern around the ring, starting at the tail's
// position, so a short input still puts chosen bytes where the walk reads.
std::vector<std::byte> fill_ring(const fuzz_input& in) {
  std::vector<std::byte> ring(in.options.capacity);
  if (in.ring_pattern.empty()) return ring;
  const std::size_t start = in.tail & (ring.size() - 1);
  for (std::size_t i = 0; i < ring.size(); ++i)
    ring[(start + i) & (ring.size() - 1)] = std::byte{in.ring_pattern[i % in.ring_pattern.size()]};
  return ring;
}

bool lies_within(std::span<const std::byte> part, std::span<const std::byte> whole) {
  const auto begin = reinterpret_cast<std::uintptr_t>(part.data());
  const auto start = reinterpret_cast<std::uintptr_t>(whole.data());
  return begin >= start && begin - start <= whole.size() &&
         part.size() <= whole.size() - (begin - start);
}

// touch() reads every payload byte, so ASan checks each one.
void touch(std::span<const std::byte> payload) {
  unsigned sum = 0;
  for (const std::byte b : payload) sum += static_cast<unsigned>(b);
  volatile unsigned sink = sum;
  (void)sink;
}

void check_payload(const decoded& frame, std::span<const std::byte> ring,
                   const frame_limits& limits) {
  require(frame.kind >= 1 && frame.kind < limits.kind_limit, "a good frame has a user kind");
  if (frame.on_heap) {
    require(frame.ref.offset % frame_alignment == 0 && frame.ref.offset >= heap_block_prefix,
            "a heap ref is aligned and leaves room for the block prefix");
    require(frame.payload.data() == limits.heap.data() + frame.ref.offset &&
                frame.payload.size() == frame.ref.length,
            "a heap payload is the block its ref names");
    require(lies_within(frame.payload, limits.heap), "a heap payload lies inside the heap");
  } else {
    require(frame.payload.size() <= limits.max_inline, "an inline payload is at most max_inline");
    require(lies_within(frame.payload, ring), "an inline payload lies inside the ring");
  }
  touch(frame.payload);
}

// check_frame() is decode_frame()'s contract for the frame at `tail`.
void check_frame(const decoded& frame, std::uint64_t tail, std::uint64_t head,
                 std::span<const std::byte> ring, const frame_limits& limits) {
  const std::uint64_t available = head - tail;
  switch (frame.error) {
    case frame_error::empty:
      require(frame.advance == 0 || frame.advance == available,
              "an empty answer consumes nothing, or padding that reaches head");
      require(frame.payload.empty(), "an empty answer has no payload");
      return;
    case frame_error::ring_corrupt:
      require(frame.advance == 0, "a corrupt ring cannot be moved past");
      return;
    default:
      break;
  }
  require(frame.advance >= frame_bytes(0) && frame.advance % frame_alignment == 0,
          "a frame moves the tail by whole frames");
  require(frame.advance <= available && frame.advance <= ring.size(),
          "a frame never moves the tail past head or by more than the ring");
  if (frame.error == frame_error::none) check_payload(frame, ring, limits);
}

// max_walk() bounds a walk over one published head: every frame that can be
// moved past consumes at least 16 bytes of at most a ring's worth.
std::size_t max_walk(const ring_options& options) { return options.capacity / frame_alignment + 2; }

// walk_decoder() follows decode_frame() from the input's tail to its head.
void walk_decoder(const fuzz_input& in, std::span<const std::byte> ring,
                  const frame_limits& limits) {
  std::uint64_t tail = in.tail;
  const std::uint64_t head = in.tail + in.head_distance;
  for (std::size_t step = 0; step < max_walk(in.options); ++step) {
    const decoded frame = decode_frame(ring, tail, head, limits);
    check_frame(frame, tail, head, ring, limits);
    if (frame.advance == 0) return;
    tail += frame.advance;
  }
  require(false, "decode_frame walk ends within a ring's worth of frames");
}

// next_head() turns two input bytes into the head a peer publishes next:
// mostly a plausible step ahead of the reader, sometimes an unaligned one,
// sometimes an absolute value that may lie behind the reader.
std::uint64_t next_head(std::uint16_t word, std::uint64_t tail, const ring_options& options) {
  const std::uint64_t value = word & 0x3fff;
  switch (word >> 14) {
    case 2:
      return tail + value;
    case 3:
      return value * frame_alignment;
    default:
      return tail + value % (options.capacity / frame_alignment + 1) * frame_alignment;
  }
}

// walk_reader() drives a ring_reader with try_read()/consume() while the
// "peer" publishes the input's heads; a corrupt ring is reset, as the
// channel's owner would after the peer's death.
void walk_reader(const fuzz_input& in, std::span<std::byte> ring, const frame_limits& limits) {
  ring_state state;
  const spsc_ring shared(state, ring, in.options);
  ring_reader reader(shared, limits.heap);
  std::uint64_t head = in.head_distance, tail = 0;
  state.head.store(head);
  std::size_t updates = 0;
  const std::size_t budget = (in.head_updates.size() / 2 + 1) * (max_walk(in.options) + 1);
  for (std::size_t step = 0; step < budget; ++step) {
    const decoded frame = reader.try_read();
    check_frame(frame, tail, head, ring, limits);
    if (frame.error == frame_error::ring_corrupt) {
      reader.reset();
      head = tail = 0;
    } else if (frame.error == frame_error::empty) {
      tail = state.tail.load();  // an empty ring publishes the reader's tail
      if (updates * 2 >= in.head_updates.size()) return;
      head = next_head(read_le<std::uint16_t>(in.head_updates.data() + 2 * updates++), tail,
                       in.options);
      state.head.store(head);
    } else {
      reader.consume(frame);
      tail += frame.advance;
    }
  }
  require(false, "ring_reader walk ends within a ring's worth of frames per head");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < header_bytes) return 0;
  const fuzz_input in = parse(data, size);
  std::vector<std::byte> ring = fill_ring(in);
  const std::vector<std::byte> heap(in.heap_size);
  const frame_limits limits{in.options.max_inline, in.options.kind_limit, heap};
  walk_decoder(in, ring, limits);
  walk_reader(in, ring, limits);
  return 0;
}

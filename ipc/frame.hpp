// frame.hpp — the wire layout of a ring frame and its distrustful decoder.
//
// A ring holds frames back to back, each at a 16-byte boundary:
//
//   frame_header (16 bytes) | body (length bytes) | padding to 16
//
// The body is the payload itself, or (flag heap_payload) a heap_ref naming
// a block of the producer's shared heap. A frame never wraps: when the next
// frame does not fit before the end of the ring, the producer first writes a
// padding frame (kind 0) that covers the rest of the ring.
//
// decode_frame() is the only code that interprets bytes a peer wrote. It
// copies the header out of shared memory before checking it (the peer may
// still scribble on it), checks every length, offset, flag and kind against
// limits the reader owns, and answers with a frame_error value: never an
// exception, a crash, a read outside the ring or heap, or a loop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

namespace tandem::ipc {

inline constexpr std::size_t frame_alignment = 16;

struct frame_header {
  std::uint32_t length;  // body bytes that follow the header
  std::uint16_t kind;    // padding_kind, or a user kind below the reader's kind_limit
  std::uint16_t flags;   // frame_flags
  std::uint64_t id;      // the user's correlation id, opaque to ipc/
};
static_assert(sizeof(frame_header) == frame_alignment);
static_assert(std::is_trivially_copyable_v<frame_header> && std::is_standard_layout_v<frame_header>);

// padding_kind marks the filler frame before a wrap; user kinds start at 1.
inline constexpr std::uint16_t padding_kind = 0;

enum frame_flags : std::uint16_t {
  heap_payload = 1,  // the body is a heap_ref
};

// heap_ref names a payload in the producer's shared heap: `offset` bytes
// from the heap's start, `length` bytes long. Offsets, never pointers.
struct heap_ref {
  std::uint64_t offset;
  std::uint64_t length;
};
static_assert(std::is_trivially_copyable_v<heap_ref> && std::is_standard_layout_v<heap_ref>);

// heap_block_prefix is the bookkeeping the heap keeps in front of every
// payload (see shared_heap.hpp); a valid offset leaves room for it.
inline constexpr std::uint64_t heap_block_prefix = 16;

// heap_ref_fits() says whether `ref` names bytes inside `heap` that start
// on a frame_alignment boundary after room for a block prefix: the checks
// every ref read from shared memory must pass before it is used.
bool heap_ref_fits(const heap_ref& ref, std::span<const std::byte> heap) noexcept;

enum class frame_error : std::uint8_t {
  none,          // a good frame
  empty,         // nothing published (yet)
  bad_kind,      // kind at or above the reader's limit; the frame is skipped
  bad_flags,     // unknown flag bits; the frame is skipped
  bad_heap_ref,  // heap_ref out of the heap or misaligned; the frame is skipped
  ring_corrupt,  // indices or a length make no sense: frame boundaries are lost
                 // and the ring must be reset (see spsc_ring::reset)
};

// describe() names an error for messages and logs.
const char* describe(frame_error error) noexcept;

// frame_limits is what the reader trusts: its own copies, never read back
// from shared memory.
struct frame_limits {
  std::uint32_t max_inline;       // largest body the producer may put in the ring
  std::uint16_t kind_limit;       // user kinds are 1 .. kind_limit-1
  std::span<const std::byte> heap;  // the producer's heap (may be empty)
};

// decoded is one frame as the reader sees it. `advance` is how many ring
// bytes to consume to move past it (padding included); 0 for ring_corrupt
// and for a plain empty ring.
struct decoded {
  frame_error error = frame_error::empty;
  std::uint16_t kind = 0;
  std::uint64_t id = 0;
  std::span<const std::byte> payload;  // in the ring or in the heap
  heap_ref ref{0, 0};                  // meaningful when on_heap
  bool on_heap = false;
  std::uint64_t advance = 0;
};

// frame_bytes() is the ring space a frame with a `length`-byte body takes.
constexpr std::uint64_t frame_bytes(std::uint64_t length) noexcept {
  return sizeof(frame_header) + ((length + frame_alignment - 1) & ~(frame_alignment - 1));
}

// decode_frame() reads the frame at `tail` of `ring` (whose size is the
// ring's power-of-two capacity) given the producer's published `head`.
// `tail` is the reader's own index, a multiple of frame_alignment (the sum
// of the advances it consumed); `head` may be anything a peer wrote.
decoded decode_frame(std::span<const std::byte> ring, std::uint64_t tail, std::uint64_t head,
                     const frame_limits& limits) noexcept;

}  // namespace tandem::ipc

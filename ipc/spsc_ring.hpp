// spsc_ring.hpp — a bounded ring of variable-size frames, one producer and
// one consumer, in shared memory (frame layout: frame.hpp).
//
// Memory-ordering contract:
//  * `head` counts bytes ever published; only the producer writes it. The
//    producer writes frames below it, then stores it (release at least):
//    every byte below a head the consumer has loaded (seq_cst, which
//    includes acquire) is complete.
//  * `tail` counts bytes ever consumed; only the consumer writes it, after
//    it has finished reading (release), and the producer loads it (acquire)
//    before reusing that space.
//  * Each also forms the Dekker pair with a doorbell (doorbell.hpp): the
//    consumer parks on `readable`, the producer on `writable`. Where the
//    kernel has asymmetric fences (asymmetric_fence.hpp, the default) a
//    side publishes its index with a release store and light_fence(), and
//    a side about to park pays heavy_fence() instead: publishing then costs
//    no locked instruction, which would wait for the frame's lines to come
//    back from the consumer's core. Otherwise both are stored seq_cst.
//    Loads are seq_cst (on x86 a plain load) in both cases.
//  * head, tail and each doorbell sit on their own cache line, so the two
//    sides never write to the same line; each side keeps a private copy of
//    the other side's index and reloads it only when its copy says "full"
//    or "empty".
//  * The consumer publishes tail lazily (every quarter ring, and whenever it
//    finds the ring empty), which saves a locked store per frame; a waiting
//    producer is woken by either event.
//
// Death of a peer: a frame becomes visible only by the single store of
// head, so a producer killed mid-write leaves no half frame behind: the
// ring holds whole frames, then unpublished garbage the consumer never
// reads. The survivor drains what it wants, then calls reset() before
// handing the ring to a new peer. Indices a broken peer scribbled on are
// caught by the reader (frame_error::ring_corrupt), and reset() clears them.
#pragma once

#include "ipc/doorbell.hpp"
#include "ipc/frame.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

namespace tandem::ipc {

class segment;

inline constexpr std::size_t cache_line = 64;

// ring_state is the shared part of a ring.
struct ring_state {
  alignas(cache_line) std::atomic<std::uint64_t> head{0};
  alignas(cache_line) std::atomic<std::uint64_t> tail{0};
  alignas(cache_line) doorbell readable;  // the consumer parks here when empty
  alignas(cache_line) doorbell writable;  // the producer parks here when full
};
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
static_assert(std::is_standard_layout_v<ring_state>);

struct ring_options {
  std::size_t capacity = std::size_t{64} << 10;  // power of two, >= 4 KiB
  std::uint32_t max_inline = 1024;               // multiple of 16, 16 .. capacity/4
  std::uint16_t kind_limit = 256;                // user kinds are 1 .. kind_limit-1
  // Publish with asymmetric fences when the kernel has them. Decided once,
  // by the process that builds the ring, before it forks.
  bool asymmetric_fences = true;
};

// spsc_ring carves a ring out of a segment before fork; both processes then
// hold a copy of this handle and build a ring_writer or a ring_reader on it.
// Construction throws ipc_error for bad options or a full segment.
class spsc_ring {
 public:
  spsc_ring(segment& memory, const ring_options& options);

  // spsc_ring() over memory the caller already shares: `bytes` must be
  // exactly options.capacity long (ipc_error otherwise). The frame-reader
  // fuzzer uses it with exact-size buffers, so AddressSanitizer sees any
  // read that strays outside the ring.
  spsc_ring(ring_state& state, std::span<std::byte> bytes, const ring_options& options);

  const ring_options& options() const noexcept { return options_; }
  ring_state& state() const noexcept { return *state_; }
  std::span<std::byte> bytes() const noexcept { return {data_, options_.capacity}; }
  // publishers() is how both sides publish their index (see the contract).
  ringers publishers() const noexcept { return publishers_; }

 private:
  ring_options options_;
  ring_state* state_;
  std::byte* data_;
  ringers publishers_;
};

// ring_writer is the producer's end. One thread uses it.
class ring_writer {
 public:
  explicit ring_writer(const spsc_ring& ring) noexcept : ring_(ring) {}

  std::uint32_t max_inline() const noexcept { return ring_.options().max_inline; }

  // try_prepare() reserves room for a frame with a `length`-byte body
  // (length <= max_inline) and returns where the body goes, or nullptr when
  // the ring is full. Nothing is visible to the consumer yet.
  std::byte* try_prepare(std::uint32_t length) noexcept;

  // prepare() is try_prepare() that publishes what is pending and waits for
  // room; nullptr when the policy's timeout passed.
  std::byte* prepare(std::uint32_t length, const wait_policy& policy);

  // commit() completes the frame prepared last; publish() makes every
  // committed frame visible and wakes the consumer if it is parked.
  void commit(std::uint16_t kind, std::uint16_t flags, std::uint64_t id) noexcept;
  void publish() noexcept;

  // consumed() is true once the consumer has moved past every published
  // frame (it publishes its tail lazily, but always when it finds the ring
  // empty): nobody need be woken for them any more.
  bool consumed() const noexcept {
    return ring_.state().tail.load(std::memory_order_seq_cst) == published_;
  }

  // reset() empties the ring for a fresh start. Only when no peer runs.
  void reset() noexcept;

 private:
  bool has_room(std::uint64_t bytes) noexcept;

  spsc_ring ring_;
  std::uint64_t head_ = 0;         // end of committed frames
  std::uint64_t published_ = 0;    // what the consumer can see
  std::uint64_t tail_seen_ = 0;    // the consumer's tail, as last loaded
  std::uint64_t prepared_at_ = 0;  // position of the frame being written
  std::uint32_t prepared_length_ = 0;
};

// ring_reader is the consumer's end. One thread uses it. It trusts nothing
// in the ring: see decode_frame().
class ring_reader {
 public:
  // `heap` is the producer's shared heap that heap frames point into.
  ring_reader(const spsc_ring& ring, std::span<const std::byte> heap) noexcept;

  // try_read() decodes the next frame without consuming it; error empty
  // when nothing is published.
  decoded try_read() noexcept;

  // read() waits (per policy) while the ring is empty; empty on timeout.
  decoded read(const wait_policy& policy);

  // consume() moves past a frame try_read()/read() returned (and past
  // padding); a ring_corrupt frame cannot be moved past: reset the ring.
  void consume(const decoded& frame) noexcept;

  // reset() empties the ring for a fresh start. Only when no peer runs.
  void reset() noexcept;

 private:
  void publish_tail() noexcept;

  spsc_ring ring_;
  frame_limits limits_;
  std::uint64_t tail_ = 0;       // end of consumed frames
  std::uint64_t published_ = 0;  // what the producer can see
  std::uint64_t head_seen_ = 0;  // the producer's head, as last loaded
};

}  // namespace tandem::ipc

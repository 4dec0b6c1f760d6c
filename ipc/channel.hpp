// channel.hpp — one direction of traffic: a ring plus its producer's heap.
//
// A worker gets two channels, submission (parent -> worker) and completion
// (worker -> parent). The producer's channel_writer puts small payloads
// inline in the ring and larger ones in its shared heap (a copy, or zero
// copy with allocate() + send(shm_buffer)); the consumer's channel_reader
// hands out frames whose payload points into the ring or the heap, valid
// until done(). Ordering and distrust are the ring's and heap's (see
// spsc_ring.hpp, shared_heap.hpp, frame.hpp).
#pragma once

#include "ipc/shared_heap.hpp"
#include "ipc/shm_buffer.hpp"
#include "ipc/spsc_ring.hpp"

#include <cstdint>
#include <span>
#include <utility>

namespace tandem::ipc {

struct channel_options {
  ring_options ring;
  std::size_t heap_bytes = std::size_t{16} << 20;
};

// channel carves its ring and heap out of a segment before fork. The
// producer process then uses writer(), the consumer reader(); each from one
// thread. Throws ipc_error when the segment is too small or options bad.
class channel {
 public:
  channel(segment& memory, const channel_options& options);

  spsc_ring& ring() noexcept { return ring_; }
  shared_heap& heap() noexcept { return heap_; }

 private:
  spsc_ring ring_;
  shared_heap heap_;
};

// channel_writer is the producer's end.
class channel_writer {
 public:
  explicit channel_writer(channel& link) noexcept : heap_(link.heap()), ring_(link.ring()) {}

  // max_inline() is the largest payload that travels in the ring itself.
  std::uint32_t max_inline() const noexcept { return ring_.max_inline(); }

  // post() queues one frame without waking the consumer: inline when it
  // fits, else copied into a heap block. Waits (per policy) for room and
  // returns false on timeout. flush() makes posted frames visible.
  bool post(std::uint16_t kind, std::uint64_t id, std::span<const std::byte> payload,
            const wait_policy& policy);
  bool post(std::uint16_t kind, std::uint64_t id, shm_buffer&& payload, const wait_policy& policy);
  void flush() noexcept { ring_.publish(); }
  // consumed() is ring_writer::consumed(): the reader took every flushed
  // frame.
  bool consumed() const noexcept { return ring_.consumed(); }

  // send() is post() then flush().
  template <class Payload>
  bool send(std::uint16_t kind, std::uint64_t id, Payload&& payload, const wait_policy& policy) {
    const bool posted = post(kind, id, std::forward<Payload>(payload), policy);
    flush();
    return posted;
  }

  // allocate() is a heap block to build a payload in place (zero copy).
  // Before it waits for room it publishes what is posted: the blocks the
  // consumer would return may sit in exactly those frames.
  shm_buffer allocate(std::size_t length, const wait_policy& policy);

  // reset() empties ring and heap. Only when the consumer is dead or not
  // started and no shm_buffer is alive.
  void reset();

 private:
  shared_heap& heap_;
  ring_writer ring_;
};

// channel_reader is the consumer's end.
class channel_reader {
 public:
  explicit channel_reader(channel& link) noexcept
      : heap_(link.heap()), ring_(link.ring(), link.heap().bytes()) {}

  // receive() waits (per policy) for the next frame; error empty on
  // timeout. A frame with another error is a bad frame: report it and call
  // done() to skip it; ring_corrupt means reset().
  decoded receive(const wait_policy& policy) { return ring_.read(policy); }
  decoded try_receive() noexcept { return ring_.try_read(); }

  // done() returns the frame's heap block, if any, and moves past it.
  void done(const decoded& frame) noexcept;

  // reset() empties ring and heap after the producer died (the dead owner's
  // blocks are freed with it).
  void reset();

 private:
  shared_heap& heap_;
  ring_reader ring_;
};

}  // namespace tandem::ipc

#include "ipc/spsc_ring.hpp"

#include "ipc/asymmetric_fence.hpp"
#include "ipc/error.hpp"
#include "ipc/segment.hpp"

#include <bit>
#include <cstring>

namespace tandem::ipc {
namespace {

constexpr std::memory_order sc = std::memory_order_seq_cst;

const ring_options& checked(const ring_options& options) {
  if (!std::has_single_bit(options.capacity) || options.capacity < 4096)
    throw ipc_error("spsc_ring: capacity " + size_text(options.capacity) +
                    " is not a power of two of at least 4096 bytes");
  if (options.max_inline < sizeof(heap_ref) || options.max_inline % frame_alignment != 0 ||
      options.max_inline > options.capacity / 4)
    throw ipc_error("spsc_ring: max_inline " + std::to_string(options.max_inline) +
                    " must be a multiple of 16 between 16 and capacity/4");
  if (options.kind_limit < 2) throw ipc_error("spsc_ring: kind_limit must leave a user kind");
  return options;
}

// How far ahead of the frame being written the producer claims cache
// lines. The consumer left those lines a lap ago, unless the ring is nearly
// full (claim_ahead()); a KiB is a dozen 64-byte frames, about the time a
// claim takes to come back from the consumer's core. At most capacity / 4
// (capacity >= 4 KiB).
constexpr std::uint64_t claim_distance = 1024;

// claim_for_write() asks for a cache line in the exclusive state before the
// producer writes it (x86 PREFETCHW; a hint, it never faults). Without it
// every frame's stores wait in the store buffer for the line to come back
// from the consumer's core, and a later load that must wait for an older
// store (the caller's payload, just written: a failed store-to-load
// forward) waits for all of them: one round trip between cores per frame.
inline void claim_for_write(const std::byte* line) noexcept {
#if defined(__x86_64__) || defined(__i386__)
  asm volatile("prefetchw %0" : : "m"(*line));
#else
  __builtin_prefetch(line, 1);
#endif
}

// claim_ahead() claims the lines that a frame of `size` bytes at `position`
// would cover claim_distance bytes further on. When the ring is that close
// to full, those lines hold frames the consumer has not read yet: lines the
// producer wrote and still holds, so the claim costs the consumer nothing
// (bounding it by the consumer's tail would need a fresh load of it, which
// the producer makes only when the ring looks full).
void claim_ahead(std::byte* ring, std::uint64_t capacity, std::uint64_t position,
                 std::uint64_t size) noexcept {
  const std::uint64_t first = (position + claim_distance) & ~std::uint64_t{cache_line - 1};
  for (std::uint64_t line = first; line < position + claim_distance + size; line += cache_line)
    claim_for_write(ring + (line & (capacity - 1)));
}

ringers publishers_for(const ring_options& options) noexcept {
  return options.asymmetric_fences && asymmetric_fences_available() ? ringers::light
                                                                    : ringers::fenced;
}

void clear(ring_state& state) noexcept {
  state.head.store(0, sc);
  state.tail.store(0, sc);
  state.readable.reset();
  state.writable.reset();
}

}  // namespace

spsc_ring::spsc_ring(segment& memory, const ring_options& options)
    : options_(checked(options)),
      state_(memory.construct<ring_state>()),
      data_(static_cast<std::byte*>(memory.allocate(options_.capacity, cache_line))),
      publishers_(publishers_for(options_)) {}

spsc_ring::spsc_ring(ring_state& state, std::span<std::byte> bytes, const ring_options& options)
    : options_(checked(options)),
      state_(&state),
      data_(bytes.data()),
      publishers_(publishers_for(options_)) {
  if (bytes.size() != options_.capacity)
    throw ipc_error("spsc_ring: " + size_text(bytes.size()) + " given for a ring of " +
                    size_text(options_.capacity));
}

std::byte* ring_writer::try_prepare(std::uint32_t length) noexcept {
  const std::uint64_t capacity = ring_.options().capacity;
  const std::uint64_t position = head_ & (capacity - 1);
  const std::uint64_t size = frame_bytes(length);
  const std::uint64_t to_end = capacity - position;
  const std::uint64_t padding = size > to_end ? to_end : 0;
  if (!has_room(padding + size)) return nullptr;
  std::byte* bytes = ring_.bytes().data();
  if (padding != 0) {
    const frame_header filler{static_cast<std::uint32_t>(to_end - sizeof(frame_header)),
                              padding_kind, 0, 0};
    std::memcpy(bytes + position, &filler, sizeof filler);
    head_ += padding;
  }
  prepared_at_ = head_;
  prepared_length_ = length;
  claim_ahead(bytes, capacity, head_, size);
  return bytes + (head_ & (capacity - 1)) + sizeof(frame_header);
}

std::byte* ring_writer::prepare(std::uint32_t length, const wait_policy& policy) {
  if (std::byte* body = try_prepare(length)) return body;
  publish();  // the consumer may be waiting for exactly these frames
  const std::uint64_t needed = frame_bytes(length) * 2;  // room even if we must pad
  ring_.state().writable.wait([&] { return has_room(needed); }, policy, ring_.publishers());
  return try_prepare(length);
}

void ring_writer::commit(std::uint16_t kind, std::uint16_t flags, std::uint64_t id) noexcept {
  const frame_header header{prepared_length_, kind, flags, id};
  const std::uint64_t position = prepared_at_ & (ring_.options().capacity - 1);
  std::memcpy(ring_.bytes().data() + position, &header, sizeof header);
  head_ = prepared_at_ + frame_bytes(prepared_length_);
}

void ring_writer::publish() noexcept {
  if (published_ == head_) return;
  published_ = head_;
  ring_.state().readable.publish(ring_.state().head, head_, ring_.publishers());
}

void ring_writer::reset() noexcept {
  clear(ring_.state());
  head_ = published_ = tail_seen_ = prepared_at_ = 0;
  prepared_length_ = 0;
}

bool ring_writer::has_room(std::uint64_t bytes) noexcept {
  if (ring_.options().capacity - (head_ - tail_seen_) >= bytes) return true;
  tail_seen_ = ring_.state().tail.load(sc);
  return ring_.options().capacity - (head_ - tail_seen_) >= bytes;
}

ring_reader::ring_reader(const spsc_ring& ring, std::span<const std::byte> heap) noexcept
    : ring_(ring), limits_{ring.options().max_inline, ring.options().kind_limit, heap} {}

decoded ring_reader::try_read() noexcept {
  if (head_seen_ == tail_) {
    head_seen_ = ring_.state().head.load(sc);
    if (head_seen_ == tail_) {
      publish_tail();  // a producer waiting for room must not wait for a quarter ring
      return decoded{};
    }
  }
  decoded frame = decode_frame(ring_.bytes(), tail_, head_seen_, limits_);
  if (frame.error != frame_error::empty || frame.advance == 0) return frame;
  consume(frame);  // padding with nothing after it yet; each step consumes bytes, so it ends
  return try_read();
}

decoded ring_reader::read(const wait_policy& policy) {
  decoded frame = try_read();
  if (frame.error != frame_error::empty) return frame;
  ring_.state().readable.wait([&] { return ring_.state().head.load(sc) != tail_; }, policy,
                              ring_.publishers());
  return try_read();
}

void ring_reader::consume(const decoded& frame) noexcept {
  tail_ += frame.advance;
  if (tail_ - published_ >= ring_.options().capacity / 4) publish_tail();
}

void ring_reader::reset() noexcept {
  clear(ring_.state());
  tail_ = published_ = head_seen_ = 0;
}

void ring_reader::publish_tail() noexcept {
  if (published_ == tail_) return;
  published_ = tail_;
  ring_.state().writable.publish(ring_.state().tail, tail_, ring_.publishers());
}

}  // namespace tandem::ipc

#include "ipc/frame.hpp"

#include <cstring>

namespace tandem::ipc {
namespace {

frame_header header_at(std::span<const std::byte> ring, std::uint64_t position) noexcept {
  frame_header header;
  std::memcpy(&header, ring.data() + position, sizeof header);
  return header;
}

decoded with(frame_error error, std::uint64_t advance) noexcept {
  decoded frame;
  frame.error = error;
  frame.advance = advance;
  return frame;
}

decoded corrupt() noexcept { return with(frame_error::ring_corrupt, 0); }

// body_of() fills in the payload of a frame whose boundaries are known good.
void body_of(decoded& frame, std::span<const std::byte> body, const frame_header& header,
             const frame_limits& limits) noexcept {
  if (header.kind >= limits.kind_limit) {
    frame.error = frame_error::bad_kind;
  } else if ((header.flags & ~heap_payload) != 0) {
    frame.error = frame_error::bad_flags;
  } else if ((header.flags & heap_payload) == 0) {
    frame.payload = body;
  } else if (body.size() != sizeof(heap_ref)) {
    frame.error = frame_error::bad_heap_ref;
  } else {
    std::memcpy(&frame.ref, body.data(), sizeof frame.ref);
    if (!heap_ref_fits(frame.ref, limits.heap)) return void(frame.error = frame_error::bad_heap_ref);
    frame.on_heap = true;
    frame.payload = limits.heap.subspan(frame.ref.offset, frame.ref.length);
  }
}

}  // namespace

bool heap_ref_fits(const heap_ref& ref, std::span<const std::byte> heap) noexcept {
  return ref.offset % frame_alignment == 0 && ref.offset >= heap_block_prefix &&
         ref.offset <= heap.size() && ref.length <= heap.size() - ref.offset;
}

const char* describe(frame_error error) noexcept {
  switch (error) {
    case frame_error::none: return "no error";
    case frame_error::empty: return "ring empty";
    case frame_error::bad_kind: return "frame kind out of range";
    case frame_error::bad_flags: return "unknown frame flags";
    case frame_error::bad_heap_ref: return "heap reference out of bounds";
    case frame_error::ring_corrupt: return "ring indices or frame length corrupt";
  }
  return "unknown frame error";
}

decoded decode_frame(std::span<const std::byte> ring, std::uint64_t tail, std::uint64_t head,
                     const frame_limits& limits) noexcept {
  const std::uint64_t capacity = ring.size();
  std::uint64_t available = head - tail;
  if (available == 0) return decoded{};
  if (available > capacity || available % frame_alignment != 0) return corrupt();
  std::uint64_t position = tail & (capacity - 1);
  frame_header header = header_at(ring, position);
  std::uint64_t skipped = 0;
  if (header.kind == padding_kind) {
    skipped = capacity - position;
    if (header.length != skipped - sizeof header || available < skipped) return corrupt();
    if (available == skipped) return with(frame_error::empty, skipped);
    available -= skipped;
    position = 0;
    header = header_at(ring, 0);
    if (header.kind == padding_kind) return corrupt();
  }
  const std::uint64_t size = frame_bytes(header.length);
  if (header.length > limits.max_inline || size > available || size > capacity - position)
    return corrupt();
  decoded frame = with(frame_error::none, skipped + size);
  frame.kind = header.kind;
  frame.id = header.id;
  body_of(frame, ring.subspan(position + sizeof header, header.length), header, limits);
  return frame;
}

}  // namespace tandem::ipc

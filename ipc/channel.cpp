#include "ipc/channel.hpp"

#include <cstring>

namespace tandem::ipc {

channel::channel(segment& memory, const channel_options& options)
    : ring_(memory, options.ring), heap_(memory, options.heap_bytes) {}

bool channel_writer::post(std::uint16_t kind, std::uint64_t id,
                          std::span<const std::byte> payload, const wait_policy& policy) {
  if (payload.size() > ring_.max_inline()) {
    shm_buffer block = allocate(payload.size(), policy);
    if (!block) return false;
    std::memcpy(block.bytes().data(), payload.data(), payload.size());
    return post(kind, id, std::move(block), policy);
  }
  const auto length = static_cast<std::uint32_t>(payload.size());
  std::byte* body = ring_.prepare(length, policy);
  if (body == nullptr) return false;
  if (length != 0) std::memcpy(body, payload.data(), length);
  ring_.commit(kind, 0, id);
  return true;
}

bool channel_writer::post(std::uint16_t kind, std::uint64_t id, shm_buffer&& payload,
                          const wait_policy& policy) {
  std::byte* body = ring_.prepare(sizeof(heap_ref), policy);
  if (body == nullptr) return false;  // payload goes back to the heap
  const heap_ref ref = payload.hand_over();
  std::memcpy(body, &ref, sizeof ref);
  ring_.commit(kind, heap_payload, id);
  return true;
}

shm_buffer channel_writer::allocate(std::size_t length, const wait_policy& policy) {
  if (shm_buffer block = heap_.try_allocate(length)) return block;
  ring_.publish();
  return heap_.allocate(length, policy);
}

void channel_writer::reset() {
  ring_.reset();
  heap_.format();
}

void channel_reader::done(const decoded& frame) noexcept {
  if (frame.on_heap) heap_.give_back(frame.ref);
  ring_.consume(frame);
}

void channel_reader::reset() {
  ring_.reset();
  heap_.format();
}

}  // namespace tandem::ipc

// shm_buffer.hpp — a block of a shared heap that its owner fills in place.
//
// A producer asks its channel (or heap) for an shm_buffer, writes the
// payload straight into shared memory, and sends it: the consumer reads the
// same bytes, nothing is copied. An shm_buffer that is dropped without
// being sent goes back to the heap.
#pragma once

#include "ipc/frame.hpp"

#include <cstddef>
#include <span>

namespace tandem::ipc {

class shared_heap;

// shm_buffer is move-only and used by the heap's owning thread only. An
// empty one (operator bool false) means the heap had no room in time.
class shm_buffer {
 public:
  shm_buffer() noexcept = default;
  shm_buffer(shm_buffer&& other) noexcept;
  shm_buffer& operator=(shm_buffer&& other) noexcept;
  shm_buffer(const shm_buffer&) = delete;
  shm_buffer& operator=(const shm_buffer&) = delete;
  ~shm_buffer();

  explicit operator bool() const noexcept { return heap_ != nullptr; }
  std::span<std::byte> bytes() const noexcept { return {data_, ref_.length}; }

  // hand_over() gives up ownership: the block now travels as `ref` and the
  // consumer returns it. Only for the code that puts it in a ring.
  heap_ref hand_over() noexcept;

 private:
  friend class shared_heap;
  shm_buffer(shared_heap& heap, std::byte* data, heap_ref ref) noexcept
      : heap_(&heap), data_(data), ref_(ref) {}
  void drop() noexcept;

  shared_heap* heap_ = nullptr;
  std::byte* data_ = nullptr;
  heap_ref ref_{0, 0};
};

}  // namespace tandem::ipc

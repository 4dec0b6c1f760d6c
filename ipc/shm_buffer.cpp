#include "ipc/shm_buffer.hpp"

#include "ipc/shared_heap.hpp"

#include <utility>

namespace tandem::ipc {

shm_buffer::shm_buffer(shm_buffer&& other) noexcept
    : heap_(std::exchange(other.heap_, nullptr)), data_(other.data_), ref_(other.ref_) {}

shm_buffer& shm_buffer::operator=(shm_buffer&& other) noexcept {
  if (this != &other) {
    drop();
    heap_ = std::exchange(other.heap_, nullptr);
    data_ = other.data_;
    ref_ = other.ref_;
  }
  return *this;
}

shm_buffer::~shm_buffer() { drop(); }

heap_ref shm_buffer::hand_over() noexcept {
  if (heap_ != nullptr) heap_->mark(ref_.offset, shared_heap::holder::peer);
  heap_ = nullptr;
  return ref_;
}

void shm_buffer::drop() noexcept {
  if (heap_ != nullptr) heap_->mark(ref_.offset, shared_heap::holder::nobody);
  heap_ = nullptr;
}

}  // namespace tandem::ipc

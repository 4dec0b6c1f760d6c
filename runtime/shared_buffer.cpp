#include "tandem/shared_buffer.hpp"

#include <limits>
#include <new>
#include <string>

#include "tandem/errors.hpp"

namespace tandem {
namespace {

// The size sits in front of the bytes, which start 64-aligned.
struct alignas(64) buffer_head {
  std::size_t size;
};

buffer_head& head_of(const detail::object_handle& handle) {
  return *static_cast<buffer_head*>(handle.body());
}

std::size_t body_bytes(std::size_t size) {
  if (size > std::numeric_limits<std::size_t>::max() - sizeof(buffer_head))
    throw error("tandem::shared_buffer: a size of " + std::to_string(size) +
                " bytes is impossible");
  return sizeof(buffer_head) + size;
}

}  // namespace

shared_buffer::shared_buffer(runtime& rt, std::size_t size)
    : handle_(rt, object_kind_v, object_tag_v, body_bytes(size)) {
  new (handle_.body()) buffer_head{size};
}

std::byte* shared_buffer::data() const noexcept {
  return reinterpret_cast<std::byte*>(&head_of(handle_) + 1);
}

std::size_t shared_buffer::size() const noexcept { return head_of(handle_).size; }

}  // namespace tandem

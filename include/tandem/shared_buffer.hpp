// shared_buffer.hpp — tandem::shared_buffer, bytes that a program and its
// cpu tasks use in place: passing one to a task, or returning it, moves a
// handle of a few bytes, never the contents.
//
//   const auto invert = tandem::define_task<tandem::shared_buffer(tandem::shared_buffer)>(
//       "invert", tandem::cpu, [](tandem::shared_buffer image) {
//         for (std::byte& b : image.bytes()) b = ~b;      // in place, in the worker
//         return image;
//       });
//   tandem::shared_buffer image(rt, 64 << 20);            // 64 MiB, zeroed
//   load_into(image.bytes());
//   rt.submit(invert, image).get();                       // microseconds, whatever the size
//
// The bytes live in the runtime's shared object space
// (runtime_options::shared_memory_bytes: raise it for large buffers).
// Nothing orders concurrent writers: hand a buffer to one task at a time,
// or divide it, as you would a std::vector shared by threads. Creation,
// lifetime and handles are as for sync.hpp's objects.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "tandem/detail/shared_object.hpp"

namespace tandem {

class runtime;

class shared_buffer {
 public:
  static constexpr detail::object_kind object_kind_v = detail::object_kind::shared_buffer;
  static constexpr std::uint32_t object_tag_v = 0;

  // shared_buffer() makes `size` zeroed bytes in rt's object space; throws
  // tandem::error naming the sizes when the space cannot hold them.
  shared_buffer(runtime& rt, std::size_t size);

  std::span<std::byte> bytes() const noexcept { return {data(), size()}; }
  std::byte* data() const noexcept;
  std::size_t size() const noexcept;

 private:
  friend struct detail::handle_access;
  explicit shared_buffer(detail::object_handle handle) noexcept : handle_(std::move(handle)) {}

  detail::object_handle handle_;
};

}  // namespace tandem

// shared_object.hpp — what every cross-process primitive (shared<T>,
// channel<T>, process_mutex, ...) has in common: a body in its runtime's
// shared object space, and a small handle that can be copied, passed to a
// cpu task as an argument, and returned from one. Not the user's business.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "tandem/serialize.hpp"

namespace tandem {

class runtime;

namespace detail {

class object_space;
struct object_header;

// object_kind tells primitives apart, so that a handle is never read back
// as another kind of object.
enum class object_kind : std::uint32_t {
  shared_value = 1,
  channel,
  process_mutex,
  condition,
  semaphore,
  event,
  barrier,
  shared_buffer,
};

// object_ref is a handle as it crosses processes. Only token, offset and
// serial travel; the reader supplies the kind and tag it expects. `tag` is
// the kind's own check (the value or element size of shared<T> and
// channel<T>).
struct object_ref {
  std::uint64_t token;
  std::uint64_t offset;
  std::uint64_t serial;
  object_kind kind;
  std::uint32_t tag;
};

// resolved_object is where a reference leads in this process.
struct resolved_object {
  object_space* space;
  std::shared_ptr<object_space> keep;  // null in a worker: it borrows
  object_header* header;
};

// object_handle refers to one object. In the process that made it (the
// runtime's), handles own the object together: the last one destroyed
// frees it, and each keeps the mapping alive even after the runtime is
// gone. A handle read in a worker borrows: the parent must keep the object
// alive while cpu tasks use it (keep a handle until their futures resolve).
class object_handle {
 public:
  // object_handle() places a zeroed body of `bytes` (aligned to 64) in rt's
  // object space. Throws tandem::error when the space is full.
  object_handle(runtime& rt, object_kind kind, std::uint32_t tag, std::size_t bytes);
  object_handle(const object_handle& other) noexcept;
  object_handle& operator=(const object_handle& other) noexcept;
  object_handle(object_handle&& other) noexcept;
  object_handle& operator=(object_handle&& other) noexcept;
  ~object_handle();

  void* body() const noexcept { return body_; }
  // same_object() is true when both handles name one object.
  bool same_object(const object_handle& other) const noexcept { return body_ == other.body_; }

  void write(writer& out) const;
  // read() resolves a handle written by write(); throws decode_error when it
  // belongs to another runtime, was freed, or is of another kind or tag.
  static object_handle read(reader& in, object_kind kind, std::uint32_t tag);

 private:
  explicit object_handle(resolved_object found) noexcept;
  void release() noexcept;

  object_space* space_ = nullptr;
  std::shared_ptr<object_space> owner_;  // null: a borrowed (worker's) handle
  object_header* header_ = nullptr;
  void* body_ = nullptr;
};

// handle_access lets the serializer below reach a primitive's handle.
struct handle_access {
  template <class T>
  static const object_handle& handle(const T& object) noexcept {
    return object.handle_;
  }
  template <class T>
  static T adopt(object_handle handle) {
    return T(std::move(handle));
  }
};

// shared_object_type: a primitive declares its kind and its tag.
template <class T>
concept shared_object_type = requires {
  { T::object_kind_v } -> std::convertible_to<object_kind>;
  { T::object_tag_v } -> std::convertible_to<std::uint32_t>;
};

}  // namespace detail

// Every primitive crosses processes as its handle.
template <detail::shared_object_type T>
struct serializer<T> {
  static void write(writer& out, const T& object) {
    detail::handle_access::handle(object).write(out);
  }
  static T read(reader& in) {
    return detail::handle_access::adopt<T>(
        detail::object_handle::read(in, T::object_kind_v, T::object_tag_v));
  }
};

}  // namespace tandem

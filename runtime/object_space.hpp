// object_space.hpp — the shared memory where a runtime's cross-process
// objects (shared<T>, channel<T>, process_mutex, ...) live.
//
// A runtime maps its object space (MAP_SHARED) before it forks the zygote,
// so every worker, first or respawned, sees it at the same address. Objects
// are created by the parent's threads only: a worker never allocates or
// frees, so a worker that dies cannot leave the allocator locked.
//
// Every object sits behind an object_header that names its space (a random
// token), a serial number unique within the space, its kind and a tag.
// A handle crosses processes as {token, offset, serial, kind, tag};
// resolve() checks all of them against the header it finds there, so a
// handle of another runtime, of a freed object, or of another type is
// refused with a clear error instead of being used.
//
// Thread-safety: every member may be called from any thread of the parent;
// resolve() also from a worker (for the space it entered).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "ipc/segment.hpp"
#include "tandem/detail/shared_object.hpp"
#include "tandem/errors.hpp"

namespace tandem::detail {

// object_header precedes every object's body in the space.
struct alignas(64) object_header {
  std::uint64_t token;                // the space's token
  std::atomic<std::uint64_t> serial;  // unique within the space; 0 once freed
  object_kind kind;
  std::uint32_t tag;                  // the kind's own check (see object_ref)
  std::atomic<std::uint32_t> owners;  // parent-side handles; workers hold none
};

class object_space : public std::enable_shared_from_this<object_space> {
 public:
  // create() maps `bytes` of shared memory and registers the space so that
  // the parent can resolve handles coming back from workers. Throws
  // tandem::error when the memory cannot be had.
  static std::shared_ptr<object_space> create(std::size_t bytes);
  ~object_space();
  object_space(const object_space&) = delete;
  object_space& operator=(const object_space&) = delete;

  // allocate() places a zeroed body of `bytes` bytes, aligned to 64, behind
  // a new header owned by one handle. Throws tandem::error naming the sizes
  // when the space is full. An object takes its header, its body and the
  // allocator's 16-byte block header, rounded up to 64: 128 bytes for a
  // primitive with an 8-byte body.
  object_header* allocate(object_kind kind, std::uint32_t tag, std::size_t bytes);
  // release() drops one owner; the last one frees the object.
  void release(object_header* header) noexcept;

  // describe() is what a handle sends to another process.
  object_ref describe(const object_header* header) const noexcept;
  // resolve() finds the object a reference names, in this process: in a
  // worker, in the space it entered; in the parent, in any live space
  // (returned so that the handle keeps it mapped). Throws decode_error
  // naming what does not match.
  static resolved_object resolve(const object_ref& ref);

  // enter_as_worker() makes this the only space a (forked) worker resolves
  // handles in; called once, first thing in a worker process.
  void enter_as_worker() noexcept;

  std::uint64_t token() const noexcept { return token_; }

 private:
  explicit object_space(std::size_t bytes);
  object_header* header_at(std::uint64_t offset) const noexcept;
  resolved_object check(const object_ref& ref) const;
  // full() and too_large() are the errors allocate() throws.
  error full(object_kind kind, std::size_t bytes) const;
  error too_large(object_kind kind, std::size_t bytes) const;

  ipc::segment memory_;
  const std::uint64_t token_;
  std::atomic<std::uint64_t> next_serial_{1};
};

}  // namespace tandem::detail

// segment.hpp — the one shared mapping a parent and its forked workers use.
//
// The segment is mapped MAP_SHARED before fork and inherited by the children
// at the same address. It is either anonymous shared memory or a memfd, so
// nothing is ever named in /dev/shm: a crash leaves nothing behind and no
// other local user can open it. Boost.Interprocess manages the space
// (a managed external buffer, rbtree_best_fit) so rings and heaps are carved
// out of it by size and alignment, and everything placed in it refers to
// other parts by offset, never by pointer.
//
// Carving (allocate/construct) is set-up work: the creating process does it
// before it forks. Rings and heaps then manage their own regions. Only the
// creating process ever allocates or frees (any of its threads: the
// manager locks), never a child: the manager's lock is not robust, so a
// child that died holding it would block everyone.
#pragma once

#include <boost/interprocess/managed_external_buffer.hpp>

#include <cstddef>
#include <new>
#include <utility>

namespace tandem::ipc {

enum class segment_backing {
  memfd,  // reserves the size up front (fallocate): fails now, not with SIGBUS later
  // MAP_SHARED|MAP_ANONYMOUS|MAP_NORESERVE: reserved, not committed, so a
  // size beyond what overcommit accounting allows still maps; pages are
  // taken as they are touched (if memory runs out then, as for any touched
  // page: the OOM killer, or SIGBUS).
  anonymous,
};

struct segment_options {
  std::size_t size = std::size_t{64} << 20;
  segment_backing backing = segment_backing::memfd;
};

// segment owns the mapping. Not copyable or movable: rings and heaps hold
// addresses inside it. Construction throws ipc_error naming the size and
// errno when the memory cannot be had; destruction unmaps it (the memory is
// freed once the last process that inherited it unmaps it or exits).
class segment {
 public:
  explicit segment(const segment_options& options);
  segment(const segment&) = delete;
  segment& operator=(const segment&) = delete;
  ~segment();

  std::byte* base() const noexcept { return base_; }
  std::size_t size() const noexcept { return size_; }

  // allocate() carves `bytes` aligned to `alignment` (a power of two) out of
  // the segment; throws ipc_error when the segment is too full.
  void* allocate(std::size_t bytes, std::size_t alignment);

  // deallocate() gives back a block that allocate() carved.
  void deallocate(void* block) noexcept { manager_.deallocate(block); }

  // construct() places a T in the segment. Set-up only.
  template <class T, class... Args>
  T* construct(Args&&... args) {
    return new (allocate(sizeof(T), alignof(T))) T(std::forward<Args>(args)...);
  }

  // free_bytes() is what allocate() can still carve, before alignment losses.
  std::size_t free_bytes() const { return manager_.get_free_memory(); }

 private:
  std::byte* base_ = nullptr;
  std::size_t size_ = 0;
  boost::interprocess::managed_external_buffer manager_;
};

}  // namespace tandem::ipc

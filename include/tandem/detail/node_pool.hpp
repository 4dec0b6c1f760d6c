// node_pool.hpp — the allocator of tasks, futures' states and handlers.
// Not part of the public API.
//
// Every submission allocates one node and frees it once the task ran and
// its future is gone, often on another thread: a task submitted from
// outside is freed by the worker that ran it, a stolen one by its thief.
// glibc returns such a block to the allocating thread's arena under that
// arena's lock, so submitters and workers fight over it (measured: about a
// sixth of fork-join time, and lock waits for Asio handlers). The pool
// keeps freed blocks in small per-thread lists by size class and moves
// them between threads in batches through a shared depot, so the common
// case takes no lock and no atomic operation at all.
#pragma once

#include <cstddef>
#include <new>

namespace tandem::detail {

// allocate_node() returns `size` bytes aligned for any fundamental type;
// free_node() takes them back (the same size). Blocks above the largest
// class go to malloc/free.
void* allocate_node(std::size_t size);
void free_node(void* block, std::size_t size) noexcept;

// pooled: a base that gives a class (and every class derived from it) the
// node pool. The destructor of a class freed through a base pointer must
// be virtual, so that the size passed to delete is the object's own.
struct pooled {
  static void* operator new(std::size_t size) { return allocate_node(size); }
  static void operator delete(void* block, std::size_t size) noexcept { free_node(block, size); }
  // Over-aligned types (a task capturing an alignas(64) value) bypass the
  // pool rather than get a block aligned for less.
  static void* operator new(std::size_t size, std::align_val_t align) {
    return ::operator new(size, align);
  }
  static void operator delete(void* block, std::size_t, std::align_val_t align) noexcept {
    ::operator delete(block, align);
  }
};

}  // namespace tandem::detail

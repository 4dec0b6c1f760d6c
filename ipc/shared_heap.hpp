// shared_heap.hpp — where payloads too big for a ring frame live.
//
// Each heap has one owner, the producer of the channel it serves: only the
// owner allocates and frees, so its allocator (Boost.Interprocess
// rbtree_best_fit, placed at the start of the heap's arena) needs no lock, and a
// process that dies can never leave a lock held. The consumer returns a
// block by setting the `returned` state in the block's prefix; the owner
// frees returned blocks the next time it allocates, and keeps some for the
// next payload of the same size (spares_, below). When the owner or the
// consumer dies, the survivor calls format(), which frees everything.
//
// Distrust: the owner decides what to free from its own records, never from
// shared memory alone. It frees only blocks it allocated and has either
// dropped itself or handed over to the consumer (shm_buffer::hand_over);
// a `returned` state the consumer writes on any other block (one the owner
// is still filling, or a forged prefix inside a payload) is ignored, so the
// consumer cannot make the owner free memory the owner still uses.
// give_back() ignores refs that fall outside the arena. Not covered: the
// allocator's own headers and free lists also live in the arena, where a
// consumer that scribbles on purpose can corrupt them; only moving the
// bookkeeping into the owner's private memory would close that.
//
// Memory-ordering contract: the owner writes a payload, then publishes it
// through the ring (see spsc_ring.hpp), so the consumer reads complete
// bytes. The consumer's store of `returned` (seq_cst) happens after its last
// read of the payload; the owner's load of it (seq_cst) happens before it
// frees and reuses the block. The store and the owner's doorbell form the
// Dekker pair of doorbell.hpp, so an owner parked on a full heap is woken.
//
// Block layout: heap_block_prefix (16) bytes of block_prefix, then payload.
#pragma once

#include "ipc/doorbell.hpp"
#include "ipc/frame.hpp"
#include "ipc/shm_buffer.hpp"
#include "ipc/spsc_ring.hpp"

#include <boost/interprocess/mem_algo/rbtree_best_fit.hpp>
#include <boost/interprocess/sync/mutex_family.hpp>

#include <atomic>
#include <cstdint>
#include <deque>
#include <span>
#include <unordered_map>
#include <vector>

namespace tandem::ipc {

class segment;

// block_prefix sits in shared memory in front of every payload.
struct block_prefix {
  std::atomic<std::uint32_t> state;  // block_in_use or block_returned
  std::uint32_t magic;               // block_magic: a cheap check on a returned ref
  std::uint64_t length;              // payload bytes
};
static_assert(sizeof(block_prefix) == heap_block_prefix);
static_assert(std::is_standard_layout_v<block_prefix>);

// heap_state is the shared part of a heap besides its arena.
struct heap_state {
  alignas(cache_line) doorbell returned;  // the owner parks here when the heap is full
};

// shared_heap is a handle made before fork; both processes hold a copy.
// Owner calls: format, try_allocate, allocate. Consumer calls: give_back.
class shared_heap {
 public:
  // shared_heap() carves `bytes` from the segment and formats it; throws
  // ipc_error when the segment cannot give it.
  shared_heap(segment& memory, std::size_t bytes);
  shared_heap(const shared_heap&) = delete;
  shared_heap& operator=(const shared_heap&) = delete;

  // bytes() is the arena that heap_refs are offsets into.
  std::span<std::byte> bytes() const noexcept { return {arena_, size_}; }

  // format() frees every block. Only when the peer is dead or not started
  // and no shm_buffer of this heap is alive.
  void format();

  // try_allocate() returns a block of `length` bytes, or an empty buffer
  // when the heap is full right now. Throws ipc_error if `length` can never
  // fit this heap.
  shm_buffer try_allocate(std::size_t length);

  // allocate() waits (per policy) for the consumer to return blocks; an
  // empty buffer on timeout.
  shm_buffer allocate(std::size_t length, const wait_policy& policy);

  // give_back() returns a block the consumer has finished with. A ref
  // outside the arena, or one that names no block of that length, is
  // ignored; the owner frees the block only if it did hand it over.
  void give_back(const heap_ref& ref) noexcept;

  // blocks_out() counts blocks not yet freed (returned ones included until
  // the owner reclaims them). For tests and leak checks.
  std::size_t blocks_out() const noexcept { return outstanding_.size(); }

 private:
  // The allocator object sits at the start of the arena, its free lists
  // after it: all of it is in shared memory, addressed by offset_ptr.
  using allocator = boost::interprocess::rbtree_best_fit<boost::interprocess::null_mutex_family>;

  // holder says who may still use an outstanding block, in the owner's
  // own records: the owner may free it once nobody does, or once the peer
  // holding it has marked it returned.
  enum class holder : std::uint8_t { owner, peer, nobody };
  struct block_record {
    std::uint64_t offset;  // of the payload
    std::size_t size;      // what was asked of the allocator: block_size()
    holder held_by;
  };

  // mark() is how shm_buffer, on the owner's thread, reports a block
  // leaving the owner: handed over to the peer, or dropped.
  friend class shm_buffer;
  void mark(std::uint64_t offset, holder now) noexcept;

  bool reclaimable(const block_record& block) const noexcept;
  block_prefix* prefix_at(std::uint64_t offset) const noexcept;
  void reclaim_front() noexcept;
  void reclaim_all() noexcept;
  void free_block(const block_record& block) noexcept;
  bool keep_spare(const block_record& block) noexcept;
  std::byte* take_spare(std::size_t size) noexcept;
  void free_spares() noexcept;

  heap_state* state_;
  std::byte* arena_;
  std::size_t size_;
  allocator* allocator_ = nullptr;
  std::deque<block_record> outstanding_;  // allocation order; the owner's copy only
  // Freed blocks kept for the next allocation of the same size, up to an
  // eighth of the heap, in the owner's memory: a stream of payloads of one
  // size then never walks the allocator's tree, whose nodes lie all over
  // the arena (in R4_4k the tree took 70% of the producer's time). An
  // allocation that finds no room frees them all first.
  std::unordered_map<std::size_t, std::vector<std::uint64_t>> spares_;  // size -> offsets
  std::size_t spare_bytes_ = 0;
};

}  // namespace tandem::ipc

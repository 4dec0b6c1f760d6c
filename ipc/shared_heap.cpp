#include "ipc/shared_heap.hpp"

#include "ipc/error.hpp"
#include "ipc/segment.hpp"

#include <algorithm>
#include <new>

namespace tandem::ipc {
namespace {

constexpr std::uint32_t block_in_use = 1;
constexpr std::uint32_t block_returned = 2;
constexpr std::uint32_t block_magic = 0x7a6d6862;  // "bhmz"

// block_size() is what a payload of `length` bytes asks of the allocator:
// its prefix included, rounded up to a cache line, so that payloads of
// nearly the same size share spare blocks.
std::size_t block_size(std::size_t length) noexcept {
  return (length + heap_block_prefix + cache_line - 1) / cache_line * cache_line;
}

}  // namespace

shared_heap::shared_heap(segment& memory, std::size_t bytes)
    : state_(memory.construct<heap_state>()),
      arena_(static_cast<std::byte*>(memory.allocate(bytes, cache_line))),
      size_(bytes) {
  format();
}

void shared_heap::format() {
  outstanding_.clear();
  spares_.clear();
  spare_bytes_ = 0;
  state_->returned.reset();
  allocator_ = new (arena_) allocator(size_, 0);
}

shm_buffer shared_heap::try_allocate(std::size_t length) {
  if (length > size_) throw ipc_error("shared_heap: a payload of " + size_text(length) +
                                      " can never fit a heap of " + size_text(size_));
  reclaim_front();
  const std::size_t size = block_size(length);
  void* block = take_spare(size);
  if (block == nullptr) block = allocator_->allocate(size);
  if (block == nullptr) {
    reclaim_all();
    free_spares();
    block = allocator_->allocate(size);
    if (block == nullptr) return {};
  }
  new (block) block_prefix{{block_in_use}, block_magic, length};
  const auto offset = static_cast<std::uint64_t>(static_cast<std::byte*>(block) - arena_) +
                      heap_block_prefix;
  outstanding_.push_back({offset, size, holder::owner});
  return shm_buffer(*this, arena_ + offset, heap_ref{offset, length});
}

shm_buffer shared_heap::allocate(std::size_t length, const wait_policy& policy) {
  shm_buffer buffer = try_allocate(length);
  if (!buffer) state_->returned.wait([&] { return bool(buffer = try_allocate(length)); }, policy);
  return buffer;
}

void shared_heap::give_back(const heap_ref& ref) noexcept {
  // The consumer's copy of outstanding_ is the one it inherited at fork, so
  // the ref is checked against the arena here and against the owner's
  // records when the owner reclaims (reclaimable()).
  if (!heap_ref_fits(ref, bytes())) return;
  block_prefix* prefix = prefix_at(ref.offset);
  // A ref that does not name a live block of this length is a peer's bug:
  // ignore it rather than mark some other block returned.
  if (prefix->magic != block_magic || prefix->length != ref.length) return;
  state_->returned.publish(prefix->state, block_returned, ringers::fenced);
}

void shared_heap::mark(std::uint64_t offset, holder now) noexcept {
  // Newest first: a buffer is handed over or dropped soon after it is
  // allocated. None is found only if format() ran while the buffer lived.
  const auto found =
      std::find_if(outstanding_.rbegin(), outstanding_.rend(),
                   [&](const block_record& block) { return block.offset == offset; });
  if (found != outstanding_.rend()) found->held_by = now;
}

bool shared_heap::reclaimable(const block_record& block) const noexcept {
  if (block.held_by == holder::nobody) return true;
  return block.held_by == holder::peer &&
         prefix_at(block.offset)->state.load(std::memory_order_seq_cst) == block_returned;
}

block_prefix* shared_heap::prefix_at(std::uint64_t offset) const noexcept {
  return reinterpret_cast<block_prefix*>(arena_ + offset - heap_block_prefix);
}

void shared_heap::reclaim_front() noexcept {
  while (!outstanding_.empty() && reclaimable(outstanding_.front())) {
    free_block(outstanding_.front());
    outstanding_.pop_front();
  }
}

void shared_heap::reclaim_all() noexcept {
  const auto kept =
      std::remove_if(outstanding_.begin(), outstanding_.end(), [&](const block_record& block) {
        if (!reclaimable(block)) return false;
        free_block(block);
        return true;
      });
  outstanding_.erase(kept, outstanding_.end());
}

void shared_heap::free_block(const block_record& block) noexcept {
  block_prefix* prefix = prefix_at(block.offset);
  prefix->magic = 0;  // a stale second give_back then fails the magic check
  if (spare_bytes_ + block.size <= size_ / 8 && keep_spare(block)) return;
  allocator_->deallocate(prefix);
}

// keep_spare() files a freed block under its size; false when there is no
// memory to remember it by (it then goes back to the allocator), leaving
// no empty list behind.
bool shared_heap::keep_spare(const block_record& block) noexcept {
  try {
    spares_[block.size].push_back(block.offset);
    spare_bytes_ += block.size;
    return true;
  } catch (const std::bad_alloc&) {
    const auto found = spares_.find(block.size);
    if (found != spares_.end() && found->second.empty()) spares_.erase(found);
    return false;
  }
}

std::byte* shared_heap::take_spare(std::size_t size) noexcept {
  const auto found = spares_.find(size);
  if (found == spares_.end()) return nullptr;  // no list is ever left empty
  const std::uint64_t offset = found->second.back();
  found->second.pop_back();
  if (found->second.empty()) spares_.erase(found);  // sizes come and go: keep no empty lists
  spare_bytes_ -= size;
  return reinterpret_cast<std::byte*>(prefix_at(offset));
}

void shared_heap::free_spares() noexcept {
  for (auto& [size, offsets] : spares_)
    for (const std::uint64_t offset : offsets) allocator_->deallocate(prefix_at(offset));
  spares_.clear();
  spare_bytes_ = 0;
}

}  // namespace tandem::ipc

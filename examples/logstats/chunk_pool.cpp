#include "chunk_pool.hpp"

#include <cstring>
#include <utility>

namespace logstats {

chunk_pool::slot::slot(slot&& other) noexcept
    : pool_(std::exchange(other.pool_, nullptr)), index_(other.index_) {}

chunk_pool::slot::~slot() {
  if (pool_ != nullptr) pool_->give_back(index_);
}

std::span<char> chunk_pool::slot::bytes() const {
  const auto at = index_ * pool_->slot_bytes_;
  return {reinterpret_cast<char*>(pool_->buffer_.data()) + at, pool_->slot_bytes_};
}

chunk_view chunk_pool::slot::view(std::size_t size) const {
  return {pool_->buffer_, index_ * pool_->slot_bytes_, size};
}

chunk_pool::chunk_pool(tandem::runtime& rt, std::size_t slots, std::size_t slot_bytes)
    : buffer_(rt, slots * slot_bytes), slot_bytes_(slot_bytes) {
  // Touch every page now, so that no run pays for the first touch (a page
  // fault and a zeroed page per 4 KiB), however many slots it gets to use.
  std::memset(buffer_.data(), 0, buffer_.size());
  for (std::size_t i = slots; i > 0; --i) free_.push_back(i - 1);
}

chunk_pool::slot chunk_pool::take() {
  std::unique_lock lock(free_mutex_);
  slot_freed_.wait(lock, [this] { return !free_.empty(); });
  const std::size_t index = free_.back();
  free_.pop_back();
  return slot(*this, index);
}

void chunk_pool::give_back(std::size_t index) {
  {
    std::lock_guard lock(free_mutex_);
    free_.push_back(index);
  }
  slot_freed_.notify_one();
}

}  // namespace logstats

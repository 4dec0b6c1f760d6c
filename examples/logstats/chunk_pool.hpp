// chunk_pool.hpp — the shared memory that the pipeline reads chunks into
// and its worker processes parse them in, without copying the text: a
// chunk crosses to a worker as a chunk_view (a tandem::shared_buffer
// handle, an offset and a length), a few bytes whatever its size.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <span>
#include <string_view>
#include <vector>

#include <tandem/serialize.hpp>
#include <tandem/shared_buffer.hpp>

namespace logstats {

// chunk_view is `size` bytes of text at `offset` in a shared buffer: what
// the parse task receives and reads in place.
struct chunk_view {
  tandem::shared_buffer buffer;
  std::uint64_t offset = 0;
  std::uint64_t size = 0;

  std::string_view text() const {
    return {reinterpret_cast<const char*>(buffer.data()) + offset, size};
  }
};

// chunk_pool is `slots` buffers of `slot_bytes` each, cut from one
// tandem::shared_buffer made once and reused run after run: fresh shared
// memory costs a page fault per 4 KiB in every process that touches it,
// warm memory nothing. The constructor touches it all. Thread-safe.
class chunk_pool {
 public:
  // slot is one buffer, lent until the slot is destroyed (move-only).
  class slot {
   public:
    slot(slot&& other) noexcept;
    slot& operator=(slot&&) = delete;
    ~slot();

    std::span<char> bytes() const;
    // view() is the slot's first `size` bytes, for a worker to read.
    chunk_view view(std::size_t size) const;

   private:
    friend class chunk_pool;
    slot(chunk_pool& pool, std::size_t index) noexcept : pool_(&pool), index_(index) {}

    chunk_pool* pool_;  // null once moved from
    std::size_t index_;
  };

  // chunk_pool() makes the shared buffer in rt's object space: it needs
  // runtime_options::shared_memory_bytes of at least slots * slot_bytes.
  chunk_pool(tandem::runtime& rt, std::size_t slots, std::size_t slot_bytes);

  // take() lends a free slot, waiting for one to be given back when none
  // is free: with a pool sized to the pipeline's bounds it rarely waits.
  slot take();

  // whole() is every slot at once, as one view (for a read-only pass).
  chunk_view whole() const { return {buffer_, 0, buffer_.size()}; }
  std::size_t slots() const { return buffer_.size() / slot_bytes_; }
  std::size_t slot_bytes() const { return slot_bytes_; }

 private:
  void give_back(std::size_t index);

  tandem::shared_buffer buffer_;
  std::size_t slot_bytes_;
  std::mutex free_mutex_;  // guards free_
  std::condition_variable slot_freed_;
  std::vector<std::size_t> free_;
};

}  // namespace logstats

// chunk_view crosses processes as its buffer's handle, offset and size;
// a range outside the buffer is a tandem::decode_error.
template <>
struct tandem::serializer<logstats::chunk_view> {
  static void write(tandem::writer& out, const logstats::chunk_view& chunk) {
    out.write(chunk.buffer, chunk.offset, chunk.size);
  }
  static logstats::chunk_view read(tandem::reader& in) {
    auto buffer = in.read<tandem::shared_buffer>();
    const auto offset = in.read<std::uint64_t>();
    const auto size = in.read<std::uint64_t>();
    if (offset > buffer.size() || size > buffer.size() - offset)
      throw tandem::decode_error("logstats: a chunk outside its shared buffer");
    return {std::move(buffer), offset, size};
  }
};

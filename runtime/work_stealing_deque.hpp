// work_stealing_deque.hpp — the Chase-Lev deque of one io-lane worker.
//
// The owner pushes and pops at the bottom (LIFO: the task it just spawned is
// the one whose data is hot); thieves steal from the top (FIFO: the oldest,
// usually largest, piece of work). The ring grows when full; replaced rings
// are kept until the deque dies, because a thief may still be reading one.
//
// Memory ordering follows Lê, Pop, Cohen and Zappa Nardelli, "Correct and
// Efficient Work-Stealing for Weak Memory Models" (PPoPP 2013), written
// without standalone fences so ThreadSanitizer can follow it (GCC refuses
// atomic_thread_fence under -fsanitize=thread):
//  * push() publishes bottom_ with a release store: the happens-before edge
//    from a task's construction to the thief that takes it.
//  * top_ only grows, by a seq_cst CAS: it decides races between thieves,
//    and between a thief and the owner for the last element.
//  * pop() writes bottom_ with a seq_cst exchange and then reads top_
//    seq_cst; steal() reads top_ then bottom_, both seq_cst. Where the paper
//    has a seq_cst fence, these operations sit in the single total order
//    instead, so the owner and a thief cannot both miss each other's claim
//    on the last element. (On x86 the exchange is the same locked
//    instruction the fence would be.)
//  * ring_ is published with release and read with acquire.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace tandem::detail {

template <class T>
class work_stealing_deque {
  static_assert(std::is_pointer_v<T>, "the deque holds pointers; nullptr means 'nothing'");

 public:
  explicit work_stealing_deque(std::size_t capacity = 256) {
    std::size_t cap = 1;
    while (cap < capacity) cap <<= 1;
    rings_.push_back(std::make_unique<ring>(cap));
    ring_.store(rings_.back().get(), std::memory_order_relaxed);
  }
  work_stealing_deque(const work_stealing_deque&) = delete;
  work_stealing_deque& operator=(const work_stealing_deque&) = delete;

  // push() adds at the bottom. Owner only.
  void push(T item) {
    const std::int64_t b = bottom_.load(std::memory_order_relaxed);
    const std::int64_t t = top_.load(std::memory_order_acquire);
    ring* r = ring_.load(std::memory_order_relaxed);
    if (b - t >= static_cast<std::int64_t>(r->capacity())) r = grow(r, t, b);
    r->put(b, item);
    bottom_.store(b + 1, std::memory_order_release);
  }

  // pop() takes from the bottom; nullptr when empty. Owner only.
  T pop() {
    const std::int64_t b = bottom_.load(std::memory_order_relaxed) - 1;
    ring* r = ring_.load(std::memory_order_relaxed);
    bottom_.exchange(b, std::memory_order_seq_cst);
    std::int64_t t = top_.load(std::memory_order_seq_cst);
    if (t > b) {  // was empty
      bottom_.store(b + 1, std::memory_order_relaxed);
      return nullptr;
    }
    T item = r->get(b);
    if (t == b) {  // the last element: race the thieves for it
      if (!top_.compare_exchange_strong(t, t + 1, std::memory_order_seq_cst,
                                        std::memory_order_relaxed))
        item = nullptr;
      bottom_.store(b + 1, std::memory_order_relaxed);
    }
    return item;
  }

  // steal() takes from the top; nullptr when empty or when another thread
  // won the race (then `lost_race` is set: the caller may retry). Any thread.
  T steal(bool& lost_race) {
    lost_race = false;
    std::int64_t t = top_.load(std::memory_order_seq_cst);
    const std::int64_t b = bottom_.load(std::memory_order_seq_cst);
    if (t >= b) return nullptr;
    ring* r = ring_.load(std::memory_order_acquire);
    T item = r->get(t);
    if (!top_.compare_exchange_strong(t, t + 1, std::memory_order_seq_cst,
                                      std::memory_order_relaxed)) {
      lost_race = true;
      return nullptr;
    }
    return item;
  }

  // size_hint() may be stale by the time it returns; any thread.
  std::size_t size_hint() const {
    const std::int64_t b = bottom_.load(std::memory_order_relaxed);
    const std::int64_t t = top_.load(std::memory_order_relaxed);
    return b > t ? static_cast<std::size_t>(b - t) : 0;
  }

 private:
  class ring {
   public:
    explicit ring(std::size_t capacity)
        : mask_(capacity - 1), slots_(new std::atomic<T>[capacity]) {}
    std::size_t capacity() const { return mask_ + 1; }
    void put(std::int64_t i, T item) {
      slots_[static_cast<std::size_t>(i) & mask_].store(item, std::memory_order_relaxed);
    }
    T get(std::int64_t i) const {
      return slots_[static_cast<std::size_t>(i) & mask_].load(std::memory_order_relaxed);
    }

   private:
    std::size_t mask_;
    std::unique_ptr<std::atomic<T>[]> slots_;
  };

  ring* grow(ring* old, std::int64_t top, std::int64_t bottom) {
    rings_.push_back(std::make_unique<ring>(old->capacity() * 2));
    ring* bigger = rings_.back().get();
    for (std::int64_t i = top; i < bottom; ++i) bigger->put(i, old->get(i));
    ring_.store(bigger, std::memory_order_release);
    return bigger;
  }

  alignas(64) std::atomic<std::int64_t> top_{0};
  alignas(64) std::atomic<std::int64_t> bottom_{0};
  std::atomic<ring*> ring_{nullptr};
  std::vector<std::unique_ptr<ring>> rings_;  // owner only; every ring ever used
};

}  // namespace tandem::detail

// inject_queue.hpp — the io lane's global queue for tasks submitted from
// outside a worker (and the cpu lane's queue of jobs): moodycamel::ConcurrentQueue (Debian's
// libconcurrentqueue-dev, or the wrap in subprojects/).
//
// ThreadSanitizer does not model the fences moodycamel synchronizes with,
// so under TSan push() and try_pop() state the happens-before edge they
// provide (release on the task before enqueueing, acquire after dequeueing);
// the queue's own internals are suppressed in tests/test_main.cpp.
#pragma once

#if __has_include(<concurrentqueue/concurrentqueue.h>)
#include <concurrentqueue/concurrentqueue.h>
#else
#include <concurrentqueue.h>
#endif

#include <span>

#include "runtime/sanitizers.hpp"
#include "tandem/detail/task_node.hpp"


#if defined(TANDEM_TSAN)
#include <sanitizer/tsan_interface.h>
#endif

namespace tandem::detail {

inline void tsan_release(void* task) noexcept {
#if defined(TANDEM_TSAN)
  __tsan_release(task);
#else
  (void)task;
#endif
}

template <class Item>
Item* tsan_acquire(Item* task) noexcept {
#if defined(TANDEM_TSAN)
  if (task) __tsan_acquire(task);
#endif
  return task;
}

template <class Item = task_node>
class inject_queue {
 public:
  using consumer_token = moodycamel::ConsumerToken;

  consumer_token make_consumer_token() { return consumer_token(queue_); }
  void push(Item* task) {
    tsan_release(task);
    queue_.enqueue(task);
  }
  // push_many() queues `items` in order, as one bulk enqueue.
  void push_many(std::span<Item* const> items) {
    for (Item* item : items) tsan_release(item);
    queue_.enqueue_bulk(items.data(), items.size());
  }
  Item* try_pop(consumer_token& token) {
    Item* task = nullptr;
    return tsan_acquire(queue_.try_dequeue(token, task) ? task : nullptr);
  }
  Item* try_pop() {
    Item* task = nullptr;
    return tsan_acquire(queue_.try_dequeue(task) ? task : nullptr);
  }
  // try_pop_many() takes up to into.size() items at once, oldest first;
  // how many it took.
  std::size_t try_pop_many(std::span<Item*> into) {
    return acquire_all(into, queue_.try_dequeue_bulk(into.data(), into.size()));
  }
  std::size_t try_pop_many(consumer_token& token, std::span<Item*> into) {
    return acquire_all(into, queue_.try_dequeue_bulk(token, into.data(), into.size()));
  }
  bool maybe_nonempty() const { return queue_.size_approx() > 0; }

 private:
  static std::size_t acquire_all(std::span<Item*> items, std::size_t taken) noexcept {
    for (std::size_t i = 0; i < taken; ++i) tsan_acquire(items[i]);
    return taken;
  }

  moodycamel::ConcurrentQueue<Item*> queue_;
};

}  // namespace tandem::detail

// inject_queue.hpp — the io lane's global queue for tasks submitted from
// outside a worker: moodycamel::ConcurrentQueue (Debian's
// libconcurrentqueue-dev, or the wrap in subprojects/).
#pragma once

#if __has_include(<concurrentqueue/concurrentqueue.h>)
#include <concurrentqueue/concurrentqueue.h>
#else
#include <concurrentqueue.h>
#endif

#include "tandem/detail/task_node.hpp"

namespace tandem::detail {

class inject_queue {
 public:
  using consumer_token = moodycamel::ConsumerToken;

  consumer_token make_consumer_token() { return consumer_token(queue_); }
  void push(task_node* task) { queue_.enqueue(task); }
  task_node* try_pop(consumer_token& token) {
    task_node* task = nullptr;
    return queue_.try_dequeue(token, task) ? task : nullptr;
  }
  task_node* try_pop() {
    task_node* task = nullptr;
    return queue_.try_dequeue(task) ? task : nullptr;
  }
  bool maybe_nonempty() const { return queue_.size_approx() > 0; }

 private:
  moodycamel::ConcurrentQueue<task_node*> queue_;
};

}  // namespace tandem::detail

#include "runtime/blocking_pool.hpp"

#include <algorithm>
#include <exception>
#include <utility>

#include "runtime/thread_role.hpp"
#include "tandem/errors.hpp"

namespace tandem::detail {

blocking_pool::blocking_pool(unsigned max_threads, std::chrono::milliseconds idle_timeout,
                             std::uint32_t runtime_id, task_runner runner, void* context)
    : max_threads_(std::max(1u, max_threads)),
      idle_timeout_(idle_timeout),
      runtime_id_(runtime_id),
      runner_(runner),
      runner_context_(context) {}

blocking_pool::~blocking_pool() { stop(); }

void blocking_pool::push(task_node* task) {
  std::unique_lock lock(mutex_);
  ++queued_;
  if (stopping_) {
    ++finished_;
    lock.unlock();
    task->abandon(std::make_exception_ptr(runtime_stopped()));
    return;
  }
  if (!idle_.empty()) {
    pool_thread* idle = idle_.back();
    idle_.pop_back();
    idle->handed = task;
    idle->wake.notify_one();
    return;
  }
  reap_exited(lock);
  if (threads_.size() < max_threads_) {
    pool_thread& fresh = threads_.emplace_back();
    fresh.thread = std::thread([this, &fresh, task] { thread_main(fresh, task); });
    return;
  }
  queue_.push_back(task);
}

void blocking_pool::thread_main(pool_thread& self, task_node* first) {
  current_thread_role() = thread_role{runtime_id_, nullptr};
  task_node* task = first;
  std::unique_lock lock(mutex_);
  while (task) {
    lock.unlock();
    runner_(runner_context_, task);
    lock.lock();
    ++finished_;
    task = wait_for_task(lock, self);
  }
  self.exited = true;
}

task_node* blocking_pool::wait_for_task(std::unique_lock<std::mutex>& lock, pool_thread& self) {
  if (!queue_.empty()) {
    task_node* next = queue_.front();
    queue_.pop_front();
    return next;
  }
  if (stopping_) return nullptr;
  idle_.push_back(&self);
  self.wake.wait_for(lock, idle_timeout_, [&] { return self.handed || stopping_; });
  if (self.handed) return std::exchange(self.handed, nullptr);
  std::erase(idle_, &self);  // timed out, or stopping: this thread exits
  return nullptr;
}

void blocking_pool::reap_exited(std::unique_lock<std::mutex>&) {
  for (auto it = threads_.begin(); it != threads_.end();) {
    if (it->exited) {
      it->thread.join();  // it has left thread_main: joining is immediate
      it = threads_.erase(it);
    } else {
      ++it;
    }
  }
}

std::uint64_t blocking_pool::queued_count() const {
  std::lock_guard lock(mutex_);
  return queued_;
}

std::uint64_t blocking_pool::finished_count() const {
  std::lock_guard lock(mutex_);
  return finished_;
}

unsigned blocking_pool::live_threads() const {
  std::lock_guard lock(mutex_);
  unsigned live = 0;
  for (const auto& t : threads_) live += t.exited ? 0 : 1;
  return live;
}

void blocking_pool::stop() {
  std::deque<task_node*> stranded;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
    for (pool_thread* idle : idle_) idle->wake.notify_one();
    idle_.clear();
    stranded.swap(queue_);
    finished_ += stranded.size();
  }
  const auto reason = std::make_exception_ptr(runtime_stopped());
  for (task_node* task : stranded) task->abandon(reason);
  for (auto& t : threads_) t.thread.join();
  std::lock_guard lock(mutex_);
  threads_.clear();
}

}  // namespace tandem::detail

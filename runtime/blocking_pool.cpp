#include "runtime/blocking_pool.hpp"

#include <algorithm>
#include <exception>
#include <string>
#include <utility>

#include "runtime/thread_role.hpp"
#include "runtime/thread_scheduling.hpp"
#include "tandem/detail/deadline.hpp"
#include "tandem/errors.hpp"

namespace tandem::detail {

namespace {

// Rows of blocking threads in a trace come after the io workers'.
constexpr std::uint64_t first_trace_row = 1'000'000;

}  // namespace

blocking_pool::blocking_pool(unsigned max_threads, std::chrono::milliseconds idle_timeout,
                             std::uint32_t runtime_id, task_runner runner, void* context,
                             bool metrics, trace_recorder& trace,
                             std::chrono::nanoseconds thread_slice)
    : max_threads_(std::max(1u, max_threads)),
      idle_timeout_(idle_timeout),
      runtime_id_(runtime_id),
      runner_(runner),
      runner_context_(context),
      metrics_(metrics),
      trace_(trace),
      thread_slice_(thread_slice) {}

blocking_pool::~blocking_pool() { stop(); }

void blocking_pool::push(task_node* task) {
  if (metrics_ || trace_.active()) sample_stamp(*task, true);  // a clock read is nothing here
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
  queue_.push_back(task);
  pool_thread* fresh = reserve_thread(lock);
  lock.unlock();
  if (fresh) start_thread(*fresh);
}

blocking_pool::pool_thread* blocking_pool::reserve_thread(std::unique_lock<std::mutex>& lock) {
  if (live_ >= max_threads_ || queue_.size() <= arriving_) return nullptr;
  reap_exited(lock);
  ++live_;
  ++starting_;
  ++arriving_;
  auto& fresh = threads_.emplace_back();
  fresh.serial = next_serial_++;
  return &fresh;
}

void blocking_pool::start_thread(pool_thread& fresh) {
  // Creating a thread takes tens of microseconds (about 100 on these VMs):
  // it happens outside the lock, so running threads can hand over and
  // take tasks meanwhile.
  std::thread handle;
  std::exception_ptr failure;
  try {
    handle = std::thread([this, &fresh] { thread_main(fresh); });
  } catch (...) {
    failure = std::current_exception();
  }
  std::unique_lock lock(mutex_);
  if (failure) {
    forget_unstarted(lock, fresh, failure);
  } else {
    fresh.thread = std::move(handle);
  }
  if (--starting_ == 0) all_started_.notify_all();
}

void blocking_pool::forget_unstarted(std::unique_lock<std::mutex>& lock, pool_thread& fresh,
                                     const std::exception_ptr& why) {
  threads_.remove_if([&](const pool_thread& t) { return &t == &fresh; });
  --arriving_;
  if (--live_ > 0) return;  // the threads that exist will take the queue
  // No thread at all can run the queued tasks: fail them rather than let
  // their futures wait forever.
  std::deque<task_node*> stranded;
  stranded.swap(queue_);
  finished_ += stranded.size();
  lock.unlock();
  for (task_node* task : stranded) task->abandon(why);
  lock.lock();
}

void blocking_pool::thread_main(pool_thread& self) {
  current_thread_role() = thread_role{runtime_id_, nullptr};
  request_slice(thread_slice_);
  std::unique_lock lock(mutex_);
  --arriving_;  // from here on it takes a queued task or waits in idle_
  while (task_node* task = wait_for_task(lock, self)) {
    if (metrics_) bump(tally_.started);
    pool_thread* next = reserve_thread(lock);
    lock.unlock();
    if (next) start_thread(*next);
    run(self, task);
    lock.lock();
    ++finished_;
  }
  --live_;
  self.exited = true;
}

// run() runs `task` outside the lock and counts it under the lock.
task_outcome blocking_pool::run(pool_thread& self, task_node* task) {
  const char* name = trace_.active() ? task->trace_name() : nullptr;
  const task_report report =
      run_and_time(task, [this](task_node* t) { return runner_(runner_context_, t); });
  if (name && report.timed)
    trace_.record(first_trace_row + self.serial, "blocking thread " + std::to_string(self.serial),
                  name, "io_blocking", trace_recorder::ending_of(report.outcome),
                  traced_times(report));
  if (metrics_) {
    std::lock_guard lock(mutex_);
    tally_.record(report);
  }
  return report.outcome;
}

task_node* blocking_pool::wait_for_task(std::unique_lock<std::mutex>& lock, pool_thread& self) {
  if (!queue_.empty()) {
    task_node* next = queue_.front();
    queue_.pop_front();
    return next;
  }
  if (stopping_) return nullptr;
  idle_.push_back(&self);
  const auto woken = [&] { return self.handed || stopping_; };
  // A huge timeout means "keep idle threads": wait_for() would overflow.
  const auto deadline = deadline_after(idle_timeout_);
  if (deadline == std::chrono::steady_clock::time_point::max())
    self.wake.wait(lock, woken);
  else
    self.wake.wait_until(lock, deadline, woken);
  if (self.handed) return std::exchange(self.handed, nullptr);
  std::erase(idle_, &self);  // timed out, or stopping: this thread exits
  return nullptr;
}

void blocking_pool::reap_exited(std::unique_lock<std::mutex>&) {
  for (auto it = threads_.begin(); it != threads_.end();) {
    if (it->exited && it->thread.joinable()) {
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

void blocking_pool::add_metrics(blocking_metrics& into) const {
  std::lock_guard lock(mutex_);
  const std::uint64_t started = tally_.add_to(into);
  into.submitted += queued_;
  into.threads += live_;
  if (metrics_) settle_depths(into, started);  // uncounted, the depths would be guesses
}

void blocking_pool::stop() {
  std::deque<task_node*> stranded;
  {
    std::unique_lock lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
    for (pool_thread* idle : idle_) idle->wake.notify_one();
    idle_.clear();
    stranded.swap(queue_);
    finished_ += stranded.size();
    all_started_.wait(lock, [&] { return starting_ == 0; });  // every handle is stored
  }
  const auto reason = std::make_exception_ptr(runtime_stopped());
  for (task_node* task : stranded) task->abandon(reason);
  for (auto& t : threads_) t.thread.join();
  std::lock_guard lock(mutex_);
  threads_.clear();
}

}  // namespace tandem::detail

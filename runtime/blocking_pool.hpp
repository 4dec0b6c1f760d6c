// blocking_pool.hpp — the threads that run tasks marked tandem::io_blocking.
//
// A blocking task may hold its thread for seconds (sleep, a blocking
// syscall, a synchronous client library), so it never runs on an io-lane
// worker. The pool hands each task to an idle thread, or starts a new one
// while fewer than `max_threads` exist; beyond that tasks wait in FIFO
// order. A thread idle for `idle_timeout` exits. Starting threads on demand
// is what lets 1000 sleeping tasks all sleep at once.
//
// Lifetime: every thread is joined — when a later thread is booked after it
// exited, or at stop() — never detached, so nothing of the pool runs after
// the pool is destroyed.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <list>
#include <mutex>
#include <thread>
#include <vector>

#include "runtime/lane_tally.hpp"
#include "runtime/trace_recorder.hpp"
#include "tandem/detail/task_node.hpp"

namespace tandem::detail {

class blocking_pool {
 public:
  using task_runner = task_outcome (*)(void* context, task_node* task);

  // blocking_pool() starts no thread yet; those it starts ask for
  // `thread_slice` (thread_scheduling.hpp). With `metrics`, it counts what it
  // runs (metrics.hpp); `trace` records slices while a trace runs.
  blocking_pool(unsigned max_threads, std::chrono::milliseconds idle_timeout,
                std::uint32_t runtime_id, task_runner runner, void* context, bool metrics,
                trace_recorder& trace, std::chrono::nanoseconds thread_slice);
  ~blocking_pool();  // stop()
  blocking_pool(const blocking_pool&) = delete;
  blocking_pool& operator=(const blocking_pool&) = delete;

  void push(task_node* task);

  // queued_count() / finished_count(): totals so far, for quiescence.
  std::uint64_t queued_count() const;
  std::uint64_t finished_count() const;
  // add_metrics() adds the pool's counts to `into`.
  void add_metrics(blocking_metrics& into) const;

  // stop() wakes and joins every thread; tasks still queued are abandoned
  // with runtime_stopped.
  void stop();

 private:
  struct pool_thread {
    std::condition_variable wake;
    task_node* handed = nullptr;  // a task given to this idle thread
    bool exited = false;
    std::thread thread;
    std::uint64_t serial = 0;  // names its row in a trace
  };

  void thread_main(pool_thread& self);
  task_node* wait_for_task(std::unique_lock<std::mutex>& lock, pool_thread& self);
  // reserve_thread() books a new thread when tasks wait that no starting
  // thread will take and the bound allows; start_thread() then creates it
  // outside the lock.
  pool_thread* reserve_thread(std::unique_lock<std::mutex>& lock);
  void start_thread(pool_thread& fresh);
  void forget_unstarted(std::unique_lock<std::mutex>& lock, pool_thread& fresh,
                        const std::exception_ptr& why);
  void reap_exited(std::unique_lock<std::mutex>& lock);
  task_outcome run(pool_thread& self, task_node* task);

  const unsigned max_threads_;
  const std::chrono::milliseconds idle_timeout_;
  const std::uint32_t runtime_id_;
  task_runner runner_;
  void* runner_context_;
  const bool metrics_;
  trace_recorder& trace_;
  const std::chrono::nanoseconds thread_slice_;

  mutable std::mutex mutex_;             // guards everything below
  std::list<pool_thread> threads_;       // stable addresses
  std::vector<pool_thread*> idle_;       // waiting for a hand-off, newest last
  std::deque<task_node*> queue_;         // tasks waiting for a thread
  unsigned live_ = 0;                    // threads booked and not yet exited
  unsigned starting_ = 0;                // booked, handle not yet stored
  // Booked threads that have not yet reached thread_main: each will take
  // one queued task. (Not starting_: a thread may take its task and block
  // in it before its handle is stored, and a task queued meanwhile must
  // still get a thread.)
  unsigned arriving_ = 0;
  std::uint64_t next_serial_ = 0;        // of the next thread booked
  lane_tally tally_;                     // written under mutex_
  std::condition_variable all_started_;  // starting_ reached 0
  std::uint64_t queued_ = 0;
  std::uint64_t finished_ = 0;
  bool stopping_ = false;
};

}  // namespace tandem::detail

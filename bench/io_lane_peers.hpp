// io_lane_peers.hpp — the pools io_lane compares tandem's io lane with.
//
// Every fire-and-forget peer is a "pool" with two calls, so one workload
// template serves them all:
//   post(fn)       from the external (benchmark) thread;
//   spawn(fn)      from inside a task running on the pool (a continuation).
// The external thread learns that work finished through one wait_latch,
// shared by every peer, so no peer waits more cleverly than another.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/defer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#ifdef TANDEM_HAVE_TBB
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>
#endif

namespace io_lane {

// wait_latch: the external thread waits until `count` tasks counted down.
// It waits the way tandem's own future::get() does from outside the lane —
// spin briefly, yield a few times, then sleep (C++20 atomic::wait, a futex)
// — so the waiting scheme is no advantage to either side. It is re-armed
// between runs rather than rebuilt, so a late notify from the previous run
// lands on live memory (and at worst wakes the next wait spuriously).
class wait_latch {
 public:
  void arm(std::int64_t count) noexcept;
  void count_down() noexcept;
  void wait() noexcept;

 private:
  std::atomic<std::int64_t> remaining_{0};
  std::atomic<std::uint32_t> done_{1};  // 32 bits: atomic::wait is a bare futex
};

// mutex_pool: the naive baseline — one mutex, one condition variable, one
// std::deque of std::function. Well written (no lost wake-ups, notifies
// only when a worker sleeps), but nothing clever.
class mutex_pool {
 public:
  explicit mutex_pool(unsigned threads);
  ~mutex_pool();
  mutex_pool(const mutex_pool&) = delete;
  mutex_pool& operator=(const mutex_pool&) = delete;

  void post(std::function<void()> task);
  void spawn(std::function<void()> task) { post(std::move(task)); }

 private:
  void work();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> queue_;
  unsigned sleeping_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

// asio_pool: boost::asio::thread_pool. A task spawned from inside the pool
// uses asio::defer, Asio's documented hint for a continuation: it goes to
// the running thread's private queue without taking the pool's lock.
class asio_pool {
 public:
  explicit asio_pool(unsigned threads) : pool_(threads) {}
  ~asio_pool() { pool_.join(); }

  template <class F>
  void post(F&& fn) {
    boost::asio::post(pool_, std::forward<F>(fn));
  }
  template <class F>
  void spawn(F&& fn) {
    boost::asio::defer(pool_, std::forward<F>(fn));
  }

 private:
  boost::asio::thread_pool pool_;
};

#ifdef TANDEM_HAVE_TBB
// tbb_peers holds both oneTBB styles and the global limit they need.
//
// TBB's worker count is process-wide: by default cores - 1 workers, because
// the thread that calls into TBB is expected to work too. The enqueue pool's
// caller only waits, so the limit is raised to `threads` workers, and its
// arena reserves no slot for the caller: `threads` workers run its tasks,
// as with every other pool. The task_group arena keeps the default slot for
// the caller, who joins in wait(): caller + (threads - 1) workers.
class tbb_peers {
 public:
  explicit tbb_peers(unsigned threads);

  // The enqueue pool (fire and forget).
  template <class F>
  void post(F&& fn) {
    enqueue_arena_.enqueue(std::forward<F>(fn));
  }
  template <class F>
  void spawn(F&& fn) {
    enqueue_arena_.enqueue(std::forward<F>(fn));
  }

  // in_group_arena() runs `fn` on the calling thread inside the task_group
  // arena, where tbb::task_group::run()/wait() fork and join.
  template <class F>
  decltype(auto) in_group_arena(F&& fn) {
    return group_arena_.execute(std::forward<F>(fn));
  }

 private:
  tbb::global_control workers_;
  tbb::task_arena enqueue_arena_;
  tbb::task_arena group_arena_;
};
#endif

}  // namespace io_lane

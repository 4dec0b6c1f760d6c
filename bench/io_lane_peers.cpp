#include "io_lane_peers.hpp"

namespace io_lane {

namespace {

inline void cpu_pause() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

// The same budget as tandem's wait_backoff: 64 rounds of 16 pauses
// (~1-4 us), 16 yields, then sleep.
constexpr unsigned spin_rounds = 64;
constexpr unsigned pauses_per_round = 16;
constexpr unsigned yield_rounds = 16;

}  // namespace

void wait_latch::arm(std::int64_t count) noexcept {
  remaining_.store(count, std::memory_order_relaxed);
  done_.store(count == 0 ? 1 : 0, std::memory_order_release);
}

void wait_latch::count_down() noexcept {
  if (remaining_.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  done_.store(1, std::memory_order_release);
  done_.notify_one();
}

void wait_latch::wait() noexcept {
  for (unsigned round = 0; round < spin_rounds + yield_rounds; ++round) {
    if (done_.load(std::memory_order_acquire)) return;
    if (round < spin_rounds) {
      for (unsigned i = 0; i < pauses_per_round; ++i) cpu_pause();
    } else {
      std::this_thread::yield();
    }
  }
  while (!done_.load(std::memory_order_acquire)) done_.wait(0, std::memory_order_acquire);
}

mutex_pool::mutex_pool(unsigned threads) {
  threads_.reserve(threads);
  for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
}

mutex_pool::~mutex_pool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : threads_) t.join();
}

void mutex_pool::post(std::function<void()> task) {
  bool someone_sleeps;
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(task));
    someone_sleeps = sleeping_ > 0;
  }
  // Notify outside the lock, so the woken worker does not block on it.
  if (someone_sleeps) wake_.notify_one();
}

void mutex_pool::work() {
  std::unique_lock lock(mutex_);
  for (;;) {
    while (queue_.empty() && !stopping_) {
      ++sleeping_;
      wake_.wait(lock);
      --sleeping_;
    }
    if (queue_.empty()) return;  // stopping, and drained
    std::function<void()> task = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    task();
    lock.lock();
  }
}

#ifdef TANDEM_HAVE_TBB
tbb_peers::tbb_peers(unsigned threads)
    : workers_(tbb::global_control::max_allowed_parallelism, threads + 1),
      enqueue_arena_(static_cast<int>(threads), 0),
      group_arena_(static_cast<int>(threads)) {
  enqueue_arena_.initialize();
  group_arena_.initialize();
}
#endif

}  // namespace io_lane

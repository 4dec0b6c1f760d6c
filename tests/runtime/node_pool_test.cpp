// The node pool (include/tandem/detail/node_pool.hpp): blocks are aligned,
// whole and never handed out twice, whatever thread frees them; a thread's
// blocks outlive it; classes derived from `pooled` use it.
#include "tandem/detail/node_pool.hpp"

#include <doctest/doctest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "runtime/sanitizers.hpp"

using tandem::detail::allocate_node;
using tandem::detail::free_node;

namespace {

#if defined(TANDEM_ASAN)
constexpr bool pool_active = false;  // the pool steps aside under ASan
#else
constexpr bool pool_active = true;
#endif

bool aligned(const void* p, std::size_t alignment) {
  return reinterpret_cast<std::uintptr_t>(p) % alignment == 0;
}

// A block filled with its owner's tag, checked before it is freed: a block
// handed out twice would be overwritten by its second owner.
struct tagged_block {
  unsigned char* bytes;
  std::size_t size;
  unsigned char tag;

  void fill() const { std::memset(bytes, tag, size); }
  bool intact() const {
    return std::all_of(bytes, bytes + size, [this](unsigned char b) { return b == tag; });
  }
};

}  // namespace

TEST_CASE("every size gets a whole block aligned for any fundamental type" *
          doctest::timeout(30)) {
  std::vector<std::pair<void*, std::size_t>> blocks;
  for (std::size_t size = 1; size <= 1100; ++size) {
    void* block = allocate_node(size);
    REQUIRE(block != nullptr);
    CHECK(aligned(block, alignof(std::max_align_t)));
    std::memset(block, 0xAB, size);  // ASan: out of bounds if the block were short
    blocks.emplace_back(block, size);
  }
  std::set<void*> distinct;
  for (auto [block, size] : blocks) distinct.insert(block);
  CHECK(distinct.size() == blocks.size());
  for (auto [block, size] : blocks) free_node(block, size);
}

TEST_CASE("a block freed on a thread is reused by that thread's next allocation of its class" *
          doctest::timeout(30)) {
  void* first = allocate_node(100);
  free_node(first, 100);
  void* again = allocate_node(120);  // same class (up to 128 bytes)
  if (pool_active) CHECK(again == first);
  free_node(again, 120);
  void* large = allocate_node(4096);  // above every class: straight to operator new
  std::memset(large, 1, 4096);
  free_node(large, 4096);
}

TEST_CASE("blocks handed between threads are never given to two owners at once" *
          doctest::timeout(60)) {
  constexpr int threads = 4;
  constexpr int rounds = 40000;
  std::mutex exchange_mutex;
  std::vector<tagged_block> exchange;  // blocks allocated on one thread, freed on another
  std::atomic<int> corrupt{0};
  auto worker = [&](int index) {
    std::mt19937 random(static_cast<unsigned>(index) + 1);
    std::vector<tagged_block> mine;
    for (int i = 0; i < rounds; ++i) {
      const std::size_t size = 1 + random() % 600;
      tagged_block b{static_cast<unsigned char*>(allocate_node(size)), size,
                     static_cast<unsigned char>(1 + (index * 61 + i) % 250)};
      b.fill();
      mine.push_back(b);
      if (random() % 3 == 0) {
        std::lock_guard lock(exchange_mutex);
        exchange.push_back(mine.back());
        mine.pop_back();
      }
      if (mine.size() > 200 || random() % 4 == 0) {
        tagged_block victim{};
        {
          std::lock_guard lock(exchange_mutex);
          if (exchange.empty()) continue;
          victim = exchange.back();
          exchange.pop_back();
        }
        if (!victim.intact()) corrupt.fetch_add(1);
        free_node(victim.bytes, victim.size);
      }
      if (mine.size() > 100) {
        if (!mine.front().intact()) corrupt.fetch_add(1);
        free_node(mine.front().bytes, mine.front().size);
        mine.erase(mine.begin());
      }
    }
    for (const auto& b : mine) {
      if (!b.intact()) corrupt.fetch_add(1);
      free_node(b.bytes, b.size);
    }
  };
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i) pool.emplace_back(worker, i);
  for (auto& t : pool) t.join();
  for (const auto& b : exchange) {
    CHECK(b.intact());
    free_node(b.bytes, b.size);
  }
  CHECK(corrupt.load() == 0);
}

TEST_CASE("the blocks an exiting thread kept are handed on to other threads" *
          doctest::timeout(30)) {
  constexpr std::size_t size = 300;  // a class no other case here fills
  constexpr int count = 100;
  std::set<void*> freed;
  std::thread([&] {
    std::vector<void*> blocks;
    for (int i = 0; i < count; ++i) blocks.push_back(allocate_node(size));
    for (void* b : blocks) free_node(b, size);
    freed.insert(blocks.begin(), blocks.end());
  }).join();
  void* reused = nullptr;
  std::thread([&] { reused = allocate_node(size); }).join();
  if (pool_active) CHECK(freed.count(reused) == 1);
  free_node(reused, size);
}

namespace {

struct small_node : tandem::detail::pooled {
  virtual ~small_node() = default;
  char payload[40] = {};
};
struct bigger_node final : small_node {
  char more[400] = {};
};
struct alignas(64) overaligned_node : tandem::detail::pooled {
  char payload[8] = {};
};

}  // namespace

TEST_CASE("pooled classes: deleting through a base frees the object's own size; "
          "over-aligned ones keep their alignment" *
          doctest::timeout(30)) {
  small_node* node = new bigger_node;
  std::memset(static_cast<bigger_node*>(node)->more, 7, sizeof(bigger_node::more));
  delete node;  // the virtual destructor passes sizeof(bigger_node)
  auto* aligned_node = new overaligned_node;
  CHECK(aligned(aligned_node, 64));
  delete aligned_node;
}

// Without the pool (ASan) there is no depot, and a child forked while
// another thread is inside ASan's own allocator may inherit its lock held.
TEST_CASE("a child forked while other threads use the depot can still allocate and free" *
          doctest::timeout(60) * doctest::skip(!pool_active)) {
  std::atomic<bool> stop{false};
  std::thread churn([&] {  // moves batches through the depot all the time
    std::vector<void*> blocks;
    while (!stop.load()) {
      for (int i = 0; i < 200; ++i) blocks.push_back(allocate_node(64));
      for (void* b : blocks) free_node(b, 64);
      blocks.clear();
    }
  });
  int stuck = 0;
  for (int round = 0; round < 50; ++round) {
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      std::vector<void*> blocks;  // enough to give batches to the depot and take them back
      for (int i = 0; i < 200; ++i) blocks.push_back(allocate_node(64));
      for (void* b : blocks) free_node(b, 64);
      for (int i = 0; i < 200; ++i) free_node(allocate_node(64), 64);
      _exit(0);
    }
    int status = 0;
    bool exited = false;
    for (int waited = 0; waited < 500 && !exited; ++waited) {
      exited = waitpid(child, &status, WNOHANG) == child;
      if (!exited) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!exited) {  // deadlocked on a lock it inherited held
      ++stuck;
      kill(child, SIGKILL);
      waitpid(child, &status, 0);
      break;
    }
  }
  stop = true;
  churn.join();
  CHECK(stuck == 0);
}

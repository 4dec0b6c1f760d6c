#include "tandem/detail/node_pool.hpp"

#include <array>
#include <cstdlib>
#include <mutex>

#include <pthread.h>

#include "runtime/sanitizers.hpp"

namespace tandem::detail {

namespace {

// Size classes, in bytes: a node is a task, its future's state and the
// task's captures, so most fall in the first three.
constexpr std::array<std::size_t, 6> class_bytes{64, 128, 192, 256, 384, 512};
constexpr std::size_t largest_class = class_bytes.back();

// Blocks move between a thread and the depot `batch` at a time; a thread
// keeps at most two batches per class; the depot at most `depot_batches`
// per class (about 1 MiB for the largest), and frees what does not fit.
constexpr unsigned batch = 32;
constexpr unsigned local_limit = 2 * batch;
constexpr unsigned depot_batches = 64;

std::size_t class_of(std::size_t size) noexcept {
  std::size_t c = 0;
  while (class_bytes[c] < size) ++c;
  return c;
}

struct free_block {
  free_block* next;
};

// block_list is a thread's free blocks of one class.
struct block_list {
  free_block* head = nullptr;
  unsigned count = 0;

  void push(free_block* b) noexcept {
    b->next = head;
    head = b;
    ++count;
  }
  free_block* pop() noexcept {
    free_block* b = head;
    head = b->next;
    --count;
    return b;
  }
  // take_batch() unlinks the first `batch` blocks as one chain.
  free_block* take_batch() noexcept {
    free_block* first = head;
    free_block* last = head;
    for (unsigned i = 1; i < batch; ++i) last = last->next;
    head = last->next;
    last->next = nullptr;
    count -= batch;
    return first;
  }
};

void free_chain(free_block* chain) noexcept {
  while (chain) {
    free_block* next = chain->next;
    std::free(chain);
    chain = next;
  }
}

// depot: batches (chains of `batch` blocks) shared by every thread.
class depot {
 public:
  // give() keeps `chain` unless the class is full (false: caller frees).
  bool give(std::size_t cls, free_block* chain) noexcept {
    std::lock_guard lock(mutex_);
    auto& shelf = shelves_[cls];
    if (shelf.count == depot_batches) return false;
    shelf.chains[shelf.count++] = chain;
    return true;
  }
  // take() is a chain of `batch` blocks, or null when the class is empty.
  free_block* take(std::size_t cls) noexcept {
    std::lock_guard lock(mutex_);
    auto& shelf = shelves_[cls];
    return shelf.count == 0 ? nullptr : shelf.chains[--shelf.count];
  }

  // lock() and unlock() hold the depot across a fork().
  void lock() noexcept { mutex_.lock(); }
  void unlock() noexcept { mutex_.unlock(); }

 private:
  struct shelf {
    std::array<free_block*, depot_batches> chains{};
    unsigned count = 0;
  };
  std::mutex mutex_;
  std::array<shelf, class_bytes.size()> shelves_{};
};

// The depot is never destroyed: threads may exit, and hand their blocks
// back, after static destructors ran. fork() holds its lock, so that a child
// (the cpu lane's zygote, a host's own fork) never inherits it locked by a
// thread the child does not have.
depot& shared_depot() {
  static depot* const d = [] {
    auto* created = new depot;
    pthread_atfork([] { shared_depot().lock(); }, [] { shared_depot().unlock(); },
                   [] { shared_depot().unlock(); });
    return created;
  }();
  return *d;
}

void give_or_free(std::size_t cls, free_block* chain) noexcept {
  if (!shared_depot().give(cls, chain)) free_chain(chain);
}

// thread_cache is plain data so that reaching it costs no guard check;
// a separate object (exit_flush) hands its blocks back when the thread
// exits, registered the first time the thread keeps a block. The
// initial-exec model keeps every access free of __tls_get_addr calls.
struct thread_cache {
  std::array<block_list, class_bytes.size()> lists;
  bool flush_registered = false;
};
[[gnu::tls_model("initial-exec")]] constinit thread_local thread_cache cache{};

struct exit_flush {
  ~exit_flush() {
    for (std::size_t cls = 0; cls < class_bytes.size(); ++cls) {
      block_list& list = cache.lists[cls];
      while (list.count >= batch) give_or_free(cls, list.take_batch());
      free_chain(list.head);
      list = block_list{};
    }
  }
};

void register_exit_flush() {
  thread_local exit_flush flush;  // constructed, and its exit registered, once
  (void)flush;
  cache.flush_registered = true;
}

void* refill_and_allocate(std::size_t cls) {
  if (!cache.flush_registered) register_exit_flush();
  if (free_block* chain = shared_depot().take(cls)) {
    block_list& list = cache.lists[cls];
    list.head = chain;
    list.count = batch;
    return list.pop();
  }
  if (void* block = std::malloc(class_bytes[cls])) return block;
  throw std::bad_alloc();
}

// Under AddressSanitizer the pool steps aside, so that a use after free
// of a task or state is still caught.
#if defined(TANDEM_ASAN)
constexpr bool pooling = false;
#else
constexpr bool pooling = true;
#endif

}  // namespace

void* allocate_node(std::size_t size) {
  if (!pooling || size > largest_class) return ::operator new(size);
  const std::size_t cls = class_of(size);
  block_list& list = cache.lists[cls];
  if (list.head) return list.pop();
  return refill_and_allocate(cls);
}

void free_node(void* block, std::size_t size) noexcept {
  if (!pooling || size > largest_class) return ::operator delete(block);
  const std::size_t cls = class_of(size);
  block_list& list = cache.lists[cls];
  if (!cache.flush_registered) register_exit_flush();
  list.push(static_cast<free_block*>(block));
  if (list.count == local_limit) give_or_free(cls, list.take_batch());
}

}  // namespace tandem::detail

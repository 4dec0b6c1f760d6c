// full_fence.hpp — a sequentially consistent fence that also builds under
// ThreadSanitizer.
//
// GCC rejects std::atomic_thread_fence under -fsanitize=thread (-Wtsan:
// TSan does not model fences). TSan checks data races, not the ordering a
// fence provides, so in that build a seq_cst read-modify-write of a
// thread-private atomic stands in: it is a full barrier on x86 and Arm.
#pragma once

#include <atomic>

namespace tandem::detail {

inline void full_fence() noexcept {
#if defined(__SANITIZE_THREAD__)
  thread_local std::atomic<int> barrier{0};
  barrier.fetch_add(0, std::memory_order_seq_cst);
#else
  std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
}

}  // namespace tandem::detail

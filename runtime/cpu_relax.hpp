// cpu_relax.hpp — the spin-loop hint, so a spinning thread yields its core's
// pipeline (and power) to the sibling hyper-thread.
#pragma once

namespace tandem::detail {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

}  // namespace tandem::detail

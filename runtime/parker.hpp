// parker.hpp — puts one thread to sleep until another wakes it.
//
// A binary token on a private futex: unpark() before park() makes park()
// return at once, so a wake-up can never be lost between a worker deciding
// to sleep and actually sleeping.
#pragma once

#include <atomic>
#include <cstdint>

namespace tandem::detail {

class parker {
 public:
  // park() sleeps until unpark() has been called (since the last park()).
  void park() noexcept;
  // unpark() wakes the parked thread, or pre-empts its next park().
  void unpark() noexcept;
  // try_take() consumes an unpark() that came since the last park() without
  // sleeping; true if there was one. For a thread that waits elsewhere (in
  // the reactor) and is woken there by whoever unparks it.
  bool try_take() noexcept { return token_.exchange(0, std::memory_order_seq_cst) != 0; }

 private:
  std::atomic<std::uint32_t> token_{0};
};

}  // namespace tandem::detail

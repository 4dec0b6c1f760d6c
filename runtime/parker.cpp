#include "runtime/parker.hpp"

#include "ipc/futex.hpp"

namespace tandem::detail {

void parker::park() noexcept {
  while (token_.exchange(0, std::memory_order_acquire) == 0)
    ipc::futex_wait(token_, 0, ipc::futex_scope::process_private);
}

void parker::unpark() noexcept {
  if (token_.exchange(1, std::memory_order_seq_cst) == 0)
    ipc::futex_wake(token_, 1, ipc::futex_scope::process_private);
}

}  // namespace tandem::detail

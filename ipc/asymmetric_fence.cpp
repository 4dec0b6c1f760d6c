#include "ipc/asymmetric_fence.hpp"

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace tandem::ipc {
namespace {

long membarrier(int command) noexcept { return syscall(SYS_membarrier, command, 0, 0); }

// register_for_fences() asks for the command, registers this process, and
// runs one heavy fence to be sure it works here (a seccomp filter may allow
// the query and refuse the rest).
bool register_for_fences() noexcept {
  const long commands = membarrier(MEMBARRIER_CMD_QUERY);
  if (commands < 0 || (commands & MEMBARRIER_CMD_GLOBAL_EXPEDITED) == 0) return false;
  return membarrier(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) == 0 &&
         membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED) == 0;
}

}  // namespace

bool asymmetric_fences_available() noexcept {
  static const bool available = register_for_fences();
  return available;
}

bool heavy_fence() noexcept {
  return asymmetric_fences_available() && membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED) == 0;
}

}  // namespace tandem::ipc

#include "ipc/pdeathsig.hpp"

#include "ipc/error.hpp"

#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <csignal>
#include <string>

namespace tandem::ipc {

void die_with_parent(pid_t expected_parent, int signal) {
  switch (tie_to_parent(expected_parent, signal)) {
    case parent_tie::tied:
      return;
    case parent_tie::parent_gone:
      raise(signal);
      return;
    case parent_tie::refused:
      throw_errno("prctl(PR_SET_PDEATHSIG, " + std::to_string(signal) + ")");
  }
}

// Raw system calls: a sanitizer intercepts the libc wrappers, and its
// interceptor would update the parent's state from a child sharing it.
parent_tie tie_to_parent(pid_t expected_parent, int signal) noexcept {
  if (syscall(SYS_prctl, PR_SET_PDEATHSIG, static_cast<unsigned long>(signal), 0UL, 0UL, 0UL) != 0)
    return parent_tie::refused;
  // The parent may have died between fork and prctl: then nobody will send
  // the signal, and we have been re-parented.
  return syscall(SYS_getppid) == expected_parent ? parent_tie::tied : parent_tie::parent_gone;
}

int parent_death_signal() {
  int signal = 0;
  if (prctl(PR_GET_PDEATHSIG, &signal) != 0) throw_errno("prctl(PR_GET_PDEATHSIG)");
  return signal;
}

void adopt_orphans() {
  if (prctl(PR_SET_CHILD_SUBREAPER, 1UL) != 0) throw_errno("prctl(PR_SET_CHILD_SUBREAPER)");
}

}  // namespace tandem::ipc

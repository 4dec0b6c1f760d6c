#include "ipc/pdeathsig.hpp"

#include "ipc/error.hpp"

#include <sys/prctl.h>
#include <unistd.h>

#include <csignal>
#include <string>

namespace tandem::ipc {

void die_with_parent(pid_t expected_parent, int signal) {
  if (prctl(PR_SET_PDEATHSIG, static_cast<unsigned long>(signal)) != 0)
    throw_errno("prctl(PR_SET_PDEATHSIG, " + std::to_string(signal) + ")");
  // The parent may have died between fork and prctl: then nobody will send
  // the signal, and we have been re-parented.
  if (getppid() != expected_parent) raise(signal);
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

// refuse_fences.hpp — makes the kernel refuse heavy fences in this process,
// so the ipc suites can test what a waiter does when heavy_fence() fails
// (a seccomp policy or a kernel that stops honouring the registration).
//
// A seccomp filter answers EPERM to membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED)
// and lets every other system call through. A filter cannot be removed:
// install it only in a forked child (child.hpp).
#pragma once

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/membarrier.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>

#include "child.hpp"

namespace tandem::ipc::test {

#if defined(__x86_64__)
inline constexpr unsigned audit_arch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
inline constexpr unsigned audit_arch = AUDIT_ARCH_AARCH64;
#else
inline constexpr unsigned audit_arch = 0;  // not written for this architecture
#endif

// refuse_heavy_fences() is true once the filter is in place.
inline bool refuse_heavy_fences() noexcept {
  if (audit_arch == 0) return false;
  sock_filter rules[] = {
      // Another architecture's call numbers mean other calls: allow them.
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, audit_arch, 0, 5),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_membarrier, 0, 3),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args[0])),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, MEMBARRIER_CMD_GLOBAL_EXPEDITED, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  const sock_fprog program{static_cast<unsigned short>(sizeof rules / sizeof rules[0]), rules};
  // Without privileges a process may filter itself only after giving up
  // the right to gain any (set-uid programs it would exec).
  return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
         syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) == 0;
}

// can_refuse_heavy_fences() asks a throwaway child whether the filter can
// be installed here (an architecture it is not written for, or a kernel
// without seccomp, cannot), so a test can say it is skipped rather than
// fail.
inline bool can_refuse_heavy_fences() {
  return exited_zero(reap(fork_child([] { return refuse_heavy_fences() ? 0 : 1; }, 10)));
}

}  // namespace tandem::ipc::test

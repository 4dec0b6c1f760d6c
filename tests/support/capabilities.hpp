// capabilities.hpp — for tests that must see the kernel refuse what only
// CAP_SYS_NICE allows, which a test run as root would never see.
#pragma once

#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace tandem::test {

// drop_cap_sys_nice() takes CAP_SYS_NICE out of the calling thread's
// effective capabilities (threads it starts afterwards lack it too).
inline bool drop_cap_sys_nice() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (syscall(SYS_capget, &header, data) != 0) return false;
  data[CAP_TO_INDEX(CAP_SYS_NICE)].effective &= ~CAP_TO_MASK(CAP_SYS_NICE);
  return syscall(SYS_capset, &header, data) == 0;
}

}  // namespace tandem::test

// thread_slice.hpp — the scheduling slice that the runtime asks the kernel
// for on its own threads (io workers, blocking threads and the cpu lane's
// dispatcher), so that they preempt a busy cpu worker as
// soon as they wake.
//
// Linux's EEVDF scheduler (6.6 and later) lets a waking thread preempt the
// running one only when the waker's virtual deadline comes first, and the
// deadline is a slice away. Since 6.12 a SCHED_OTHER thread may ask for a
// slice of its own (sched_setattr's sched_runtime, 0.1 to 100 ms), and a
// waker with a shorter slice than the running thread preempts it. With
// equal slices, an io thread that wakes on a core a worker process keeps
// busy waits up to the worker's whole slice. Older kernels accept the
// request and ignore it.
#pragma once

#include <sys/types.h>

#include <chrono>

namespace tandem::detail {

// request_slice() asks for `slice` as the calling thread's scheduling
// slice, keeping its policy and nice value; true when the kernel reports
// the slice afterwards. It changes nothing and returns false when `slice`
// is zero or the thread's policy is not SCHED_OTHER (a real-time, batch or
// idle policy inherited from the thread that made the runtime is kept).
// Threads and processes that the thread starts later (a task's own
// threads, run_process children) get the default slice again (the
// kernel's reset-on-fork), unless the thread's nice is negative: reset on
// fork would reset that nice in them too, so they inherit the slice.
bool request_slice(std::chrono::nanoseconds slice) noexcept;

// current_slice() is the slice of `thread` (a thread id of this process;
// 0: the calling thread) as the kernel reports it: zero before Linux 6.12,
// which reports none, and for a thread that is gone or not SCHED_OTHER.
std::chrono::nanoseconds current_slice(pid_t thread = 0) noexcept;

}  // namespace tandem::detail

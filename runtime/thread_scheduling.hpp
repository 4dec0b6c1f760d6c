// thread_scheduling.hpp — the scheduling the runtime asks the kernel for on
// its own threads (io workers, blocking threads and the cpu lane's
// dispatcher), so that they preempt a busy cpu worker as soon as they wake.
//
// The slice. Linux's EEVDF scheduler (6.6 and later) lets a waking thread
// preempt the running one only when the waker's virtual deadline comes
// first, and the deadline is a slice away. Since 6.12 a SCHED_OTHER thread
// may ask for a slice of its own (sched_setattr's sched_runtime, 0.1 to
// 100 ms), and a waker with a shorter slice than the running thread
// preempts it. With equal slices, an io thread that wakes on a core a
// worker process keeps busy waits up to the worker's whole slice. Older
// kernels accept the request and ignore it.
//
// Real time, when asked for (runtime_options::realtime_priority). A slice
// does not help a thread the scheduler finds ineligible: EEVDF owes CPU
// time to a worker that waited, and an io thread that has just served a
// burst of requests is behind it until the next tick (4 ms at HZ=250)
// however short its slice (seen with perf sched on 2 vCPUs: io threads
// runnable for 2-3 ms beside a worker, whether the worker ran at nice 10
// or SCHED_IDLE). A SCHED_RR thread preempts every ordinary one at once.
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

// request_realtime() makes the calling thread SCHED_RR at `priority` (1 to
// 99), with reset on fork: the threads and processes it starts are
// ordinary again. True when the kernel took it; false for priority 0 or a
// refusal (errno says why: EPERM without CAP_SYS_NICE or a high enough
// RLIMIT_RTPRIO, or without real-time time in the thread's cgroup).
bool request_realtime(int priority) noexcept;

// realtime_refusal() is 0 when a thread of this process may become
// SCHED_RR at `priority`, else the errno of the refusal: it asks on a
// scratch thread, so no running thread changes.
int realtime_refusal(int priority);

// thread_scheduling is what the runtime's io workers and dispatcher ask
// for (runtime_options' thread_slice and realtime_priority).
struct thread_scheduling {
  std::chrono::nanoseconds slice{0};
  int realtime_priority = 0;
};

// take_scheduling() is what such a thread calls as it starts: real time
// when a priority is given (and the kernel agrees), else the slice.
void take_scheduling(const thread_scheduling& wanted) noexcept;

// current_slice() is the slice of `thread` (a thread id of this process;
// 0: the calling thread) as the kernel reports it: zero before Linux 6.12,
// which reports none, and for a thread that is gone or not SCHED_OTHER.
std::chrono::nanoseconds current_slice(pid_t thread = 0) noexcept;

}  // namespace tandem::detail

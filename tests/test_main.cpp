// test_main.cpp — doctest's main for every suite.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

// ThreadSanitizer does not model the fences moodycamel::ConcurrentQueue
// synchronizes with, and reports its slot accesses as races. tandem states
// the edge the queue provides for the tasks it carries (inject_queue.hpp);
// the queue's internals are third-party code TSan cannot judge.
extern "C" const char* __tsan_default_suppressions() {
  // libstdc++ is not instrumented: TSan cannot see the atomic reference
  // count of a std::exception_ptr, so the last release of a shared
  // exception (by a lane, after the caller caught and read it) looks like
  // a race with the caller's reads: the release (any exception_ptr member
  // that drops a reference), and the destructor of the exception it runs.
  // A catch block's reference, dropped by __cxa_end_catch, leaves no such
  // frame: tandem hands caught exceptions on only after the catch ended
  // (detail::exception_of).
  // A robust process_mutex whose owner died is unlocked by the thread that
  // recovered it, and one unlocked by a thread that does not hold it is
  // refused with EPERM (a test checks it): TSan, which does not model
  // robust mutexes, reports both as an unlock by the wrong thread.
  return "race:moodycamel::ConcurrentQueue\n"
         "race:std::__exception_ptr::exception_ptr::\n"
         "race:std::runtime_error::~runtime_error\n"
         "mutex:tandem::detail::unlock_robust_mutex\n";
}

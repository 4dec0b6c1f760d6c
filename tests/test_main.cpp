// test_main.cpp — doctest's main for every suite.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

// ThreadSanitizer does not model the fences moodycamel::ConcurrentQueue
// synchronizes with, and reports its slot accesses as races. tandem states
// the edge the queue provides for the tasks it carries (inject_queue.hpp);
// the queue's internals are third-party code TSan cannot judge.
extern "C" const char* __tsan_default_suppressions() {
  return "race:moodycamel::ConcurrentQueue\n";
}

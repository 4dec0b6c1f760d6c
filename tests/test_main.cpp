// test_main.cpp — doctest's main for every suite.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

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

// The watchdog ends a test binary whose current case runs far past its
// doctest::timeout (which doctest only reports after the case returns),
// naming the case, so that a hang shows up in the log as that case, not
// as meson's anonymous timeout of the whole binary.
namespace {

using watch_clock = std::chrono::steady_clock;

std::atomic<const char*> watched_case{nullptr};
std::atomic<watch_clock::rep> watched_deadline{0};

watch_clock::duration allowance(const doctest::TestCaseData& tc) {
  using namespace std::chrono_literals;
  const auto stated = std::chrono::duration_cast<watch_clock::duration>(
      std::chrono::duration<double>(tc.m_timeout));
  return tc.m_timeout > 0 ? std::max<watch_clock::duration>(2 * stated, 60s) : 300s;
}

[[noreturn]] void watch_forever() {
  for (;;) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    const auto deadline = watched_deadline.load();
    if (deadline == 0 || watch_clock::now().time_since_epoch().count() < deadline) continue;
    std::fprintf(stderr, "watchdog: test case \"%s\" is still running long past its timeout; "
                 "aborting\n", watched_case.load());
    std::abort();
  }
}

struct watchdog_listener : doctest::IReporter {
  explicit watchdog_listener(const doctest::ContextOptions&) {}
  void test_case_start(const doctest::TestCaseData& tc) override {
    static std::once_flag started;
    std::call_once(started, [] { std::thread(watch_forever).detach(); });
    watched_case = tc.m_name;
    watched_deadline = (watch_clock::now() + allowance(tc)).time_since_epoch().count();
  }
  void test_case_end(const doctest::CurrentTestCaseStats&) override { watched_deadline = 0; }
  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats&) override {}
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_exception(const doctest::TestCaseException&) override {}
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}
};

}  // namespace

REGISTER_LISTENER("watchdog", 1, watchdog_listener);

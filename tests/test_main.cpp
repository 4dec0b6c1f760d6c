// test_main.cpp — doctest's main for every suite.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

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
// as meson's anonymous timeout of the whole binary. It is an alarm, not a
// thread: a test that forks must be able to fork a single-threaded process
// (ThreadSanitizer refuses threads in a child of a multi-threaded one).
namespace {

const char* watched_case = "";
pid_t watching_process = 0;

extern "C" void on_watchdog_alarm(int) {
  if (getpid() != watching_process) {  // a forked child's own alarm: die of it as usual
    signal(SIGALRM, SIG_DFL);
    raise(SIGALRM);
    return;
  }
  const char intro[] = "watchdog: aborting; this test case is still running long past its timeout: ";
  [[maybe_unused]] auto ignored = write(STDERR_FILENO, intro, sizeof intro - 1);
  ignored = write(STDERR_FILENO, watched_case, std::strlen(watched_case));
  ignored = write(STDERR_FILENO, "\n", 1);
  std::abort();
}

unsigned allowance_s(const doctest::TestCaseData& tc) {
  return tc.m_timeout > 0 ? std::max(60u, static_cast<unsigned>(2 * tc.m_timeout)) : 300u;
}

struct watchdog_listener : doctest::IReporter {
  explicit watchdog_listener(const doctest::ContextOptions&) {}
  void test_case_start(const doctest::TestCaseData& tc) override {
    if (watching_process == 0) {
      watching_process = getpid();
      signal(SIGALRM, on_watchdog_alarm);
    }
    watched_case = tc.m_name;
    alarm(allowance_s(tc));
  }
  void test_case_end(const doctest::CurrentTestCaseStats&) override { alarm(0); }
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

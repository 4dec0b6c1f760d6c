#include <doctest/doctest.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <set>
#include <string>
#include <thread>

#include "runtime/thread_scheduling.hpp"
#include "support/capabilities.hpp"
#include "support/eventually.hpp"
#include "tandem/future.hpp"
#include "tandem/runtime.hpp"

using namespace std::chrono_literals;
using tandem::detail::current_slice;
using tandem::detail::realtime_refusal;
using tandem::detail::request_realtime;
using tandem::detail::request_slice;

namespace {

// slices_supported() tells whether this kernel takes a thread's own slice
// (Linux 6.12 and later), asked on a scratch thread so no test thread
// changes.
bool slices_supported() {
  bool took = false;
  std::thread([&] { took = request_slice(300us); }).join();
  return took;
}

// kernel_default() is the slice of a thread that asked for none.
std::chrono::nanoseconds kernel_default() {
  std::chrono::nanoseconds slice{};
  std::thread([&] { slice = current_slice(); }).join();
  return slice;
}

std::set<pid_t> thread_ids() {
  std::set<pid_t> ids;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task"))
    ids.insert(std::stoi(task.path().filename().string()));
  return ids;
}

// policy_of() is the policy of `thread` (0: the calling thread), with
// SCHED_RESET_ON_FORK when that is set.
int policy_of(pid_t thread = 0) { return sched_getscheduler(thread); }

constexpr int realtime = SCHED_RR | SCHED_RESET_ON_FORK;

// is_ordinary() is true for SCHED_OTHER, reset on fork or not (a thread
// that asked for a slice has it).
bool is_ordinary(int policy) { return (policy & ~SCHED_RESET_ON_FORK) == SCHED_OTHER; }

// may_take_realtime() says whether this test process may use SCHED_RR at
// priority 1 (it may not without CAP_SYS_NICE or an RLIMIT_RTPRIO).
bool may_take_realtime() {
  if (realtime_refusal(1) == 0) return true;
  MESSAGE("this process may not use SCHED_RR (no CAP_SYS_NICE, RLIMIT_RTPRIO 0): not checked");
  return false;
}

const auto worker_policy = tandem::define_task<int()>("thread_scheduling_test.worker_policy",
                                                      tandem::cpu, [] { return policy_of(); });

const auto worker_slice = tandem::define_task<long long()>(
    "thread_scheduling_test.worker_slice", tandem::cpu,
    [] { return static_cast<long long>(current_slice().count()); });

}  // namespace

TEST_CASE("request_slice sets the thread's slice and keeps its nice" * doctest::timeout(30)) {
  if (!slices_supported()) {
    MESSAGE("this kernel keeps no slice per thread (before Linux 6.12): nothing to set");
    CHECK(current_slice() != 300us);
    return;
  }
  std::thread([] {
    REQUIRE(setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 3) == 0);
    CHECK(request_slice(250us));
    CHECK(current_slice() == 250us);
    CHECK(getpriority(PRIO_PROCESS, static_cast<id_t>(gettid())) == 3);
    // what it starts gets the kernel's default again (reset on fork)
    std::chrono::nanoseconds child{};
    std::thread([&] { child = current_slice(); }).join();
    CHECK(child != 250us);
    CHECK(child == kernel_default());
  }).join();
}

TEST_CASE("request_slice leaves a zero slice and a non-SCHED_OTHER thread alone" *
          doctest::timeout(30)) {
  std::thread([] {
    const auto before = current_slice();
    CHECK_FALSE(request_slice(0ns));
    CHECK(current_slice() == before);
  }).join();
  std::thread([] {
    sched_param none{};
    REQUIRE(pthread_setschedparam(pthread_self(), SCHED_BATCH, &none) == 0);
    CHECK_FALSE(request_slice(300us));
    int policy = -1;
    REQUIRE(pthread_getschedparam(pthread_self(), &policy, &none) == 0);
    CHECK(policy == SCHED_BATCH);
  }).join();
}

TEST_CASE("every thread a runtime starts asks for thread_slice; its workers keep the default" *
          doctest::timeout(60)) {
  const bool supported = slices_supported();
  const auto before = thread_ids();
  tandem::runtime rt{
      tandem::runtime_options{.io_threads = 2, .cpu_workers = 1, .thread_slice = 400us}};
  rt.submit(tandem::io_blocking, [] {}).get();  // a blocking thread too
  CHECK(rt.submit(worker_slice).get() == kernel_default().count());
  std::set<pid_t> started;
  for (const pid_t tid : thread_ids())
    if (!before.contains(tid)) started.insert(tid);
  REQUIRE(started.size() >= 4);  // 2 io workers, a blocking thread, the dispatcher
  // Each asks as it starts: an io worker that has run nothing yet may still
  // be on its way (seen under AddressSanitizer).
  const auto count_with_slice = [&] {
    return std::count_if(started.begin(), started.end(),
                         [](pid_t tid) { return current_slice(tid) == 400us; });
  };
  if (supported)
    CHECK(tandem::test::eventually(
        [&] { return count_with_slice() == static_cast<std::ptrdiff_t>(started.size()); }));
  else
    CHECK(count_with_slice() == 0);
  CHECK(rt.submit(tandem::io, [] { return current_slice(); }).get() ==
        (supported ? std::chrono::nanoseconds(400us) : kernel_default()));
}

TEST_CASE("thread_slice 0 leaves the kernel's default slice" * doctest::timeout(60)) {
  tandem::runtime rt{
      tandem::runtime_options{.io_threads = 1, .cpu_workers = 1, .thread_slice = 0us}};
  CHECK(rt.submit(tandem::io, [] { return current_slice(); }).get() == kernel_default());
}

TEST_CASE("a thread_slice the kernel would not take is refused, naming the option" *
          doctest::timeout(30)) {
  for (const auto bad : {std::chrono::microseconds(50), std::chrono::microseconds(200'000)}) {
    CAPTURE(bad.count());
    CHECK_THROWS_WITH_AS(tandem::runtime(tandem::runtime_options{.thread_slice = bad}),
                         doctest::Contains("runtime_options::thread_slice"), tandem::error);
  }
}

TEST_CASE("request_realtime makes the thread SCHED_RR; what it starts is ordinary again" *
          doctest::timeout(30)) {
  CHECK_FALSE(request_realtime(0));
  if (!may_take_realtime()) return;
  std::thread([] {
    REQUIRE(request_realtime(1));
    CHECK(policy_of() == realtime);
    sched_param param{};
    REQUIRE(sched_getparam(0, &param) == 0);
    CHECK(param.sched_priority == 1);
    int child = -1;
    std::thread([&] { child = policy_of(); }).join();
    CHECK(is_ordinary(child));
  }).join();
  CHECK(is_ordinary(policy_of()));  // the scratch thread of realtime_refusal changed nothing
}

TEST_CASE("realtime_priority runs the io workers and the dispatcher SCHED_RR, nothing else" *
          doctest::timeout(60)) {
  if (!may_take_realtime()) return;
  const auto before = thread_ids();
  tandem::runtime rt{tandem::runtime_options{
      .io_threads = 2, .cpu_workers = 1, .thread_slice = 400us, .realtime_priority = 1}};
  CHECK(rt.submit(tandem::io, [] { return policy_of(); }).get() == realtime);
  CHECK(is_ordinary(rt.submit(tandem::io_blocking, [] { return policy_of(); }).get()));
  CHECK(is_ordinary(rt.submit(worker_policy).get()));
  // 2 io workers and the dispatcher, each once it has started (a worker
  // that has run nothing yet may still be on its way).
  const auto realtime_threads = [&] {
    int count = 0;
    for (const pid_t tid : thread_ids())
      if (!before.contains(tid) && policy_of(tid) == realtime) ++count;
    return count;
  };
  CHECK(tandem::test::eventually([&] { return realtime_threads() == 3; }));
  CHECK(is_ordinary(policy_of()));  // the thread that made the runtime is left as it was
}

TEST_CASE("a realtime_priority outside 1-99, or one the kernel refuses, is refused naming it" *
          doctest::timeout(60)) {
  for (const int bad : {-1, 100}) {
    CAPTURE(bad);
    CHECK_THROWS_WITH_AS(tandem::runtime(tandem::runtime_options{.realtime_priority = bad}),
                         doctest::Contains("runtime_options::realtime_priority"), tandem::error);
  }
  // Refused: in a child without CAP_SYS_NICE and with RLIMIT_RTPRIO 0.
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    alarm(30);  // a child that hangs dies, and the wait below ends
    const rlimit none{0, 0};
    if (setrlimit(RLIMIT_RTPRIO, &none) != 0 || !tandem::test::drop_cap_sys_nice()) _exit(2);
    try {
      tandem::runtime rt{tandem::runtime_options{.realtime_priority = 1}};
    } catch (const tandem::error& refused) {
      const std::string what = refused.what();
      _exit(what.find("runtime_options::realtime_priority is 1") != std::string::npos &&
                    what.find("CAP_SYS_NICE") != std::string::npos
                ? 0
                : 3);
    } catch (...) {
      _exit(5);  // never back into the test runner, as a second process
    }
    _exit(4);  // constructed: not refused
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);  // 2: set-up; 3: message; 4: not refused; 5: other error
}

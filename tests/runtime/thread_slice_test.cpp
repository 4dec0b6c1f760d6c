#include <doctest/doctest.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <string>
#include <thread>

#include "runtime/thread_slice.hpp"
#include "tandem/future.hpp"
#include "tandem/runtime.hpp"

using namespace std::chrono_literals;
using tandem::detail::current_slice;
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

const auto worker_slice = tandem::define_task<long long()>(
    "thread_slice_test.worker_slice", tandem::cpu,
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
  for (const pid_t tid : started) {
    CAPTURE(tid);
    if (supported)
      CHECK(current_slice(tid) == 400us);
    else
      CHECK(current_slice(tid) != 400us);
  }
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

// The cpu lane's processes live and die with the runtime: shutdown drains or
// kills, nothing leaks (processes, fds, threads, /dev/shm), workers die with
// a killed host, worker_init runs in every worker, a lost zygote is an error
// and not a hang.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <optional>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "ipc/pdeathsig.hpp"
#include "support/cpu_tasks.hpp"
#include "support/process_census.hpp"
#include "tandem/tandem.hpp"

using namespace std::chrono_literals;
using tandem::test::count_entries;
using tandem::test::no_children;
using tandem::test::parent_of;
using tandem::test::process_exists;
using tandem::test::spin_for;

namespace {

int init_runs = 0;  // per worker process
const auto init = tandem::define_task<void()>("life.init", tandem::cpu, [] { ++init_runs; });
const auto failing_init = tandem::define_task<void()>(
    "life.failing_init", tandem::cpu, [] { throw std::runtime_error("no config file"); });
const auto exiting_init =
    tandem::define_task<void()>("life.exiting_init", tandem::cpu, [] { _exit(5); });
const auto inits_seen =
    tandem::define_task<std::pair<int, int>()>("life.inits_seen", tandem::cpu, [] {
      return std::pair{int(getpid()), init_runs};
    });
const auto work = tandem::define_task<int(int)>("life.work", tandem::cpu, [](int ms) {
  spin_for(ms);
  return ms;
});
const auto blocked_signals =
    tandem::define_task<std::vector<int>()>("life.blocked_signals", tandem::cpu, [] {
      sigset_t blocked;
      pthread_sigmask(SIG_BLOCK, nullptr, &blocked);
      std::vector<int> found;
      for (int signal = 1; signal < NSIG; ++signal)
        if (sigismember(&blocked, signal) == 1) found.push_back(signal);
      return found;
    });

}  // namespace

TEST_CASE("shutdown(drain) waits for running and queued cpu tasks" * doctest::timeout(60)) {
  std::vector<tandem::future<int>> results;
  {
    tandem::runtime rt{tandem::runtime_options{.io_threads = 1, .cpu_workers = 2}};
    for (int i = 0; i < 6; ++i) results.push_back(rt.submit(work, 100));
    rt.shutdown(tandem::drain);
    for (auto& f : results) REQUIRE(f.is_ready());
    // The workers are gone with the runtime: none is counted or named.
    CHECK(rt.metrics().cpu.workers_alive == 0);
    CHECK(rt.cpu_worker_pids().empty());
  }
  for (auto& f : results) CHECK(f.get() == 100);
  CHECK(no_children());
}

TEST_CASE("shutdown(cancel) kills busy workers and resolves every future; nothing leaks" *
          doctest::timeout(60)) {
  const tandem::test::process_census before;
  const std::size_t shm_before = count_entries("/dev/shm");
  std::vector<tandem::future<int>> results;
  std::vector<pid_t> workers;
  {
    tandem::runtime rt{tandem::runtime_options{.io_threads = 1, .cpu_workers = 2}};
    for (int i = 0; i < 10; ++i) results.push_back(rt.submit(work, 30'000));
    std::this_thread::sleep_for(200ms);
    workers = rt.cpu_worker_pids();
    const auto started = std::chrono::steady_clock::now();
    rt.shutdown(tandem::cancel);
    CHECK(std::chrono::steady_clock::now() - started < 10s);
  }
  for (auto& f : results) CHECK_THROWS_AS(f.get(), tandem::task_cancelled);
  for (const pid_t pid : workers) CHECK_FALSE(process_exists(pid));
  CHECK(no_children());
  const auto after = tandem::test::process_census::settled(before);
  CHECK(after.fds == before.fds);
  CHECK(after.threads == before.threads);
  CHECK(count_entries("/dev/shm") == shm_before);
}

TEST_CASE("after the host is killed with SIGKILL no worker or zygote outlives it by 1 s" *
          doctest::timeout(60)) {
  tandem::ipc::adopt_orphans();  // orphans come to us, so we can see them end
  int report[2];
  REQUIRE(pipe(report) == 0);
  const pid_t host = fork();
  REQUIRE(host >= 0);
  if (host == 0) {
    tandem::runtime rt{tandem::runtime_options{.io_threads = 1, .cpu_workers = 2}};
    rt.submit(work, 1).get();
    std::vector<pid_t> pids = rt.cpu_worker_pids();
    pids.push_back(parent_of(pids.at(0)));  // the zygote
    const auto bytes = static_cast<ssize_t>(pids.size() * sizeof(pid_t));
    if (write(report[1], pids.data(), pids.size() * sizeof(pid_t)) != bytes) _exit(1);
    pause();
    _exit(0);
  }
  close(report[1]);
  std::vector<pid_t> pids(3);
  REQUIRE(read(report[0], pids.data(), 3 * sizeof(pid_t)) == 3 * sizeof(pid_t));
  close(report[0]);
  for (const pid_t pid : pids) CHECK(process_exists(pid));
  REQUIRE(kill(host, SIGKILL) == 0);
  REQUIRE(waitpid(host, nullptr, 0) == host);
  const auto killed = std::chrono::steady_clock::now();
  std::set<pid_t> left(pids.begin(), pids.end());
  while (!left.empty() && std::chrono::steady_clock::now() - killed < 1s) {
    if (const pid_t gone = waitpid(-1, nullptr, WNOHANG); gone > 0) left.erase(gone);
    std::erase_if(left, [](pid_t pid) { return !process_exists(pid); });
    std::this_thread::sleep_for(5ms);
  }
  CHECK(left.empty());
  while (waitpid(-1, nullptr, WNOHANG) > 0) {
  }
}

TEST_CASE("a runtime made in a process that already runs threads works" * doctest::timeout(60)) {
  std::atomic<bool> stop{false};
  std::vector<std::thread> busy;
  for (int i = 0; i < 4; ++i)
    busy.emplace_back([&] {
      while (!stop) std::this_thread::sleep_for(1ms);
    });
  {
    tandem::runtime rt{tandem::runtime_options{.io_threads = 1, .cpu_workers = 2}};
    std::vector<tandem::future<int>> results;
    for (int i = 0; i < 20; ++i) results.push_back(rt.submit(work, i));
    for (int i = 0; i < 20; ++i) CHECK(results[i].get() == i);
  }
  stop = true;
  for (auto& t : busy) t.join();
}

TEST_CASE("workers start with no signal blocked, whatever the creating thread blocks" *
          doctest::timeout(60)) {
  sigset_t host_blocks, before;
  sigemptyset(&host_blocks);
  sigaddset(&host_blocks, SIGTERM);
  sigaddset(&host_blocks, SIGUSR1);
  REQUIRE(pthread_sigmask(SIG_BLOCK, &host_blocks, &before) == 0);
  {
    tandem::runtime rt{tandem::runtime_options{.io_threads = 1, .cpu_workers = 1}};
    CHECK(rt.submit(blocked_signals).get() == std::vector<int>{});
  }
  pthread_sigmask(SIG_SETMASK, &before, nullptr);
}

TEST_CASE("the signals meant for the host's process group leave the zygote and workers running" *
          doctest::timeout(60)) {
  tandem::runtime rt{tandem::runtime_options{.io_threads = 1, .cpu_workers = 1}};
  rt.submit(work, 1).get();
  const pid_t worker = rt.cpu_worker_pids().at(0);
  const pid_t zygote = parent_of(worker);
  auto running = rt.submit(work, 300);
  for (const int signal : {SIGINT, SIGQUIT, SIGHUP, SIGTERM}) {
    REQUIRE(kill(worker, signal) == 0);
    REQUIRE(kill(zygote, signal) == 0);
  }
  CHECK(running.get() == 300);  // the task in flight finished
  CHECK(rt.cpu_worker_pids() == std::vector<pid_t>{worker});
  // The zygote still forks replacements.
  REQUIRE(kill(worker, SIGKILL) == 0);
  CHECK(rt.submit(work, 1).get() == 1);
}

TEST_CASE("worker_init runs once in every worker, replacements included" * doctest::timeout(60)) {
  tandem::runtime rt{tandem::runtime_options{
      .io_threads = 1, .cpu_workers = 2, .max_tasks_per_worker = 2, .worker_init = init}};
  std::set<int> pids;
  for (int i = 0; i < 10; ++i) {
    const auto [pid, runs] = rt.submit(inits_seen).get();
    CHECK(runs == 1);
    pids.insert(pid);
  }
  CHECK(pids.size() >= 5);
  CHECK(init_runs == 0);  // never in the host
}

TEST_CASE("a worker_init that throws fails cpu tasks with a clear error, never hangs" *
          doctest::timeout(60)) {
  tandem::runtime rt{
      tandem::runtime_options{.io_threads = 1, .cpu_workers = 1, .worker_init = failing_init}};
  CHECK_THROWS_WITH_AS(rt.submit(work, 1).get(), doctest::Contains("no config file"),
                       tandem::worker_crashed);
  CHECK_THROWS_AS(rt.submit(work, 1).get(), tandem::worker_crashed);
  CHECK(rt.submit(tandem::io, work, 1).get() == 1);
}

TEST_CASE("a worker_init that kills its worker fails cpu tasks instead of respawning forever" *
          doctest::timeout(60)) {
  std::optional<tandem::runtime> rt;
  rt.emplace(
      tandem::runtime_options{.io_threads = 1, .cpu_workers = 2, .worker_init = exiting_init});
  CHECK_THROWS_WITH_AS(rt->submit(work, 1).get(), doctest::Contains("life.exiting_init"),
                       tandem::worker_crashed);
  CHECK_THROWS_AS(rt->submit(work, 1).get(), tandem::worker_crashed);
  CHECK(rt->submit(tandem::io, work, 1).get() == 1);
  rt.reset();  // and it shuts down
}

// process_cpu_seconds() is the CPU time every thread of this process used.
double process_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) { return double(t.tv_sec) + double(t.tv_usec) / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

TEST_CASE("a zygote killed from outside fails cpu tasks instead of hanging them" *
          doctest::timeout(60)) {
  tandem::runtime rt{tandem::runtime_options{.io_threads = 1, .cpu_workers = 1}};
  rt.submit(work, 1).get();
  const pid_t zygote = parent_of(rt.cpu_worker_pids().at(0));
  auto running = rt.submit(work, 20'000);
  std::this_thread::sleep_for(100ms);
  REQUIRE(kill(zygote, SIGKILL) == 0);
  CHECK_THROWS_WITH_AS(running.get(), doctest::Contains("zygote"), tandem::worker_crashed);
  CHECK_THROWS_AS(rt.submit(work, 1).get(), tandem::worker_crashed);
  // The workers died with it: none is counted alive.
  CHECK(rt.cpu_worker_pids().empty());
  CHECK(rt.metrics().cpu.workers_alive == 0);
  // And the lane, which respawns nothing now, sleeps: half a second costs
  // this process far less than half a second of CPU (a spinning
  // dispatcher took all of it).
  const double cpu_before = process_cpu_seconds();
  std::this_thread::sleep_for(500ms);
  CHECK(process_cpu_seconds() - cpu_before < 0.25);
}

TEST_CASE("heaps larger than memory are reserved, not committed; past the address space, an error" *
          doctest::timeout(60)) {
  constexpr std::size_t gib = std::size_t{1} << 30;
  // 5 heaps of 16 GiB: more than these machines' memory, which a committed
  // mapping would be refused.
  tandem::runtime big{tandem::runtime_options{
      .io_threads = 1, .cpu_workers = 3, .cpu_spare_workers = 1, .cpu_payload_bytes = 16 * gib}};
  CHECK(big.submit(work, 0).get() == 0);
  big.shutdown();
  for (const std::size_t heap : {std::size_t{1} << 45, std::size_t{1} << 62})
    CHECK_THROWS_WITH_AS(tandem::runtime(tandem::runtime_options{
                             .io_threads = 1, .cpu_workers = 4, .cpu_payload_bytes = heap}),
                         doctest::Contains("lower runtime_options::cpu_payload_bytes"),
                         tandem::error);
}

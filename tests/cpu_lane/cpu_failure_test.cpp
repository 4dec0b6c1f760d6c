// Failure is per task: each way a cpu task or its worker can fail hits only
// that task's future, and the lane goes on with a replacement worker.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "ipc/channel.hpp"
#include "ipc/frame.hpp"
#include "runtime/cpu_worker.hpp"
#include "runtime/worker_protocol.hpp"
#include "support/cpu_tasks.hpp"
#include "tandem/tandem.hpp"

using namespace std::chrono_literals;
using tandem::test::replaced_soon;
using tandem::test::spin_for;

namespace {

const auto square = tandem::define_task<int(int)>("fail.square", tandem::cpu, [](int x) {
  spin_for(20);
  return x * x;
});
const auto io_square =
    tandem::define_task<int(int)>("fail.io_square", tandem::io, [](int x) { return x * x; });
const auto pid_after = tandem::define_task<int(int)>("fail.pid_after", tandem::cpu, [](int ms) {
  spin_for(ms);
  return int(getpid());
});
const auto thrower = tandem::define_task<int()>(
    "fail.thrower", tandem::cpu, []() -> int { throw std::out_of_range("no such row"); });
const auto odd_thrower =
    tandem::define_task<int()>("fail.odd_thrower", tandem::cpu, []() -> int { throw 42; });
const auto too_large_thrower = tandem::define_task<int()>(
    "fail.too_large_thrower", tandem::cpu,
    []() -> int { throw tandem::payload_too_large("my own limit", 1, 0); });
// Its message is 396 ASCII bytes, then 'é' (2 bytes) across the 400-byte
// limit less the cut's mark; its type's name is over 400 bytes too.
using long_named =
    std::pair<std::map<std::string, std::string>, std::map<std::string, std::string>>;
const auto long_thrower =
    tandem::define_task<int(bool)>("fail.long_thrower", tandem::cpu, [](bool long_type) -> int {
      if (long_type) throw long_named{};
      throw std::runtime_error(std::string(396, 'a') + "\u00e9" + std::string(100, 'b'));
    });
const auto crasher =
    tandem::define_task<int(std::string)>("fail.crasher", tandem::cpu, [](std::string how) -> int {
      spin_for(50);
      if (how == "segv") raise(SIGSEGV);
      if (how == "abort") std::abort();
      std::exit(3);
    });
const auto marker = tandem::define_task<void(std::string)>(
    "fail.marker", tandem::cpu, [](std::string path) { mkdir(path.c_str(), 0700); });
// mark_then_spin() makes the directory `path` when it starts, then spins:
// a test sees it running (appears_soon()) instead of guessing with a sleep.
const auto mark_then_spin = tandem::define_task<int(std::string, int)>(
    "fail.mark_then_spin", tandem::cpu, [](std::string path, int ms) {
      mkdir(path.c_str(), 0700);
      spin_for(ms);
      return int(getpid());
    });
const auto bloat = tandem::define_task<int(int)>("fail.bloat", tandem::cpu, [](int mib) {
  static std::vector<char> kept;  // stays resident: the worker grew
  kept.assign(std::size_t(mib) << 20, 'x');
  return int(getpid());
});
const auto echo = tandem::define_task<std::vector<std::byte>(std::vector<std::byte>)>(
    "fail.echo", tandem::cpu, [](std::vector<std::byte> v) { return v; });
const auto make_bytes = tandem::define_task<std::vector<std::byte>(std::size_t)>(
    "fail.make_bytes", tandem::cpu, [](std::size_t n) { return std::vector<std::byte>(n); });
// A user type whose serializer writes nothing: refused when written.
struct silent {};
const auto count_silent = tandem::define_task<int(std::vector<silent>)>(
    "fail.count_silent", tandem::cpu, [](std::vector<silent> v) { return int(v.size()); });
const auto make_silent = tandem::define_task<std::vector<silent>(int)>(
    "fail.make_silent", tandem::cpu, [](int n) { return std::vector<silent>(n); });
const auto scribble = tandem::define_task<int()>("fail.scribble", tandem::cpu, []() -> int {
  // A broken worker: it scribbles over its own completion ring's index.
  tandem::ipc::channel* completions = tandem::detail::this_worker_completions();
  completions->ring().state().head.store(~std::uint64_t{0} - 7);
  completions->ring().state().readable.ring();
  pause();
  return 0;
});

// forge() is a broken worker that publishes, past whatever it has posted,
// a well-formed reply of `kind` and `id` with an 8-byte body, then goes on
// running (it naps for `nap_ms`, then returns 7; -1: it never returns).
void forge(tandem::detail::to_parent kind, std::uint64_t id) {
  tandem::ipc::spsc_ring& ring = tandem::detail::this_worker_completions()->ring();
  const std::uint64_t head = ring.state().head.load();
  const tandem::ipc::frame_header header{8, static_cast<std::uint16_t>(kind), 0, id};
  std::memcpy(ring.bytes().data() + (head & (ring.bytes().size() - 1)), &header, sizeof header);
  ring.state().head.store(head + tandem::ipc::frame_bytes(8));
  ring.state().readable.ring();
}
const auto forged_value = tandem::define_task<int()>("fail.forged_value", tandem::cpu, [] {
  forge(tandem::detail::to_parent::value, 0xdeadbeef);
  std::this_thread::sleep_for(100ms);
  return 7;
});
const auto forged_retiring = tandem::define_task<int()>("fail.forged_retiring", tandem::cpu, [] {
  forge(tandem::detail::to_parent::retiring, 0);
  pause();
  return 7;
});

}  // namespace

template <>
struct tandem::serializer<silent> {
  static void write(tandem::writer&, const silent&) {}
  static silent read(tandem::reader&) { return {}; }
};

namespace {

tandem::runtime_options two_workers() { return {.io_threads = 2, .cpu_workers = 2}; }

// forked_by_zygote_soon() waits until the zygote (the parent of `worker`)
// has `count` living children, and returns them.
std::vector<pid_t> forked_by_zygote_soon(pid_t worker, std::size_t count) {
  const pid_t zygote = tandem::test::parent_of(worker);
  std::vector<pid_t> children;
  for (int i = 0; i < 500; ++i) {
    children = tandem::test::living_children_of(zygote);
    if (children.size() == count) break;
    std::this_thread::sleep_for(10ms);
  }
  return children;
}

bool contains(const std::vector<pid_t>& pids, pid_t pid) {
  return std::find(pids.begin(), pids.end(), pid) != pids.end();
}

// appears_soon() waits (up to 10 s) until `path` exists.
bool appears_soon(const std::string& path) {
  struct stat st {};
  return tandem::test::eventually([&] { return stat(path.c_str(), &st) == 0; });
}

}  // namespace

TEST_CASE("an exception in a task reaches only its future, as remote_error" *
          doctest::timeout(60)) {
  tandem::runtime rt{two_workers()};
  auto before = rt.submit(square, 3);
  auto failing = rt.submit(thrower);
  auto after = rt.submit(square, 4);
  try {
    failing.get();
    FAIL("no exception");
  } catch (const tandem::remote_error& e) {
    CHECK(e.type_name() == "std::out_of_range");
    CHECK(e.message() == "no such row");
    CHECK(std::string(e.what()).find("fail.thrower") != std::string::npos);
  }
  CHECK(before.get() == 9);
  CHECK(after.get() == 16);
  CHECK_THROWS_WITH_AS(rt.submit(odd_thrower).get(), doctest::Contains("threw int"),
                       tandem::remote_error);
}

TEST_CASE(
    "a payload_too_large the task throws itself is its remote_error, not an oversized "
    "result" *
    doctest::timeout(60)) {
  tandem::runtime rt{two_workers()};
  try {
    rt.submit(too_large_thrower).get();
    FAIL("no exception");
  } catch (const tandem::remote_error& e) {
    CHECK(e.type_name() == "tandem::payload_too_large");
    CHECK(e.message() == "my own limit");
  }
}

TEST_CASE("a long message or type name is cut on a character boundary, and says so" *
          doctest::timeout(60)) {
  tandem::runtime rt{two_workers()};
  try {
    rt.submit(long_thrower, false).get();
    FAIL("no exception");
  } catch (const tandem::remote_error& e) {
    CHECK(e.message() == std::string(396, 'a') + "\u2026");
  }
  try {
    rt.submit(long_thrower, true).get();
    FAIL("no exception");
  } catch (const tandem::remote_error& e) {
    CHECK(e.type_name().size() <= 400);
    CHECK(e.type_name().starts_with("std::pair<std::map<"));
    CHECK(e.type_name().ends_with("\u2026"));
  }
}

TEST_CASE("a serializer that writes nothing is refused on the argument and the result path" *
          doctest::timeout(60)) {
  tandem::runtime rt{two_workers()};
  CHECK_THROWS_WITH_AS(rt.submit(count_silent, std::vector<silent>(3)).get(),
                       doctest::Contains("silent>::write() wrote no byte"), tandem::error);
  CHECK_THROWS_WITH_AS(rt.submit(make_silent, 3).get(),
                       doctest::Contains("silent>::write() wrote no byte"), tandem::remote_error);
  CHECK(rt.submit(square, 3).get() == 9);  // the lane is unharmed
}

TEST_CASE("a crashing task fails alone with worker_crashed and its worker is replaced" *
          doctest::timeout(120)) {
  tandem::runtime rt{two_workers()};
  struct way {
    const char* how;
    int signal;
    int exit_code;
  };
  for (const way w : {way{"segv", SIGSEGV, -1}, way{"abort", SIGABRT, -1}, way{"exit", 0, 3}}) {
    CAPTURE(w.how);
    std::vector<tandem::future<int>> others;
    for (int i = 0; i < 10; ++i) others.push_back(rt.submit(square, i));
    auto crashing = rt.submit(crasher, std::string(w.how));
    for (int i = 10; i < 20; ++i) others.push_back(rt.submit(square, i));
    try {
      crashing.get();
      FAIL("no exception");
    } catch (const tandem::worker_crashed& e) {
      CHECK(e.signal() == w.signal);
      CHECK(e.exit_code() == w.exit_code);
      CHECK(std::string(e.what()).find("fail.crasher") != std::string::npos);
      CHECK(replaced_soon(rt, e.pid(), 2));
    }
    for (int i = 0; i < 20; ++i) CHECK(others[i].get() == i * i);
  }
}

TEST_CASE("kill -9 of a busy worker from outside fails only its task" * doctest::timeout(60)) {
  tandem::runtime rt{two_workers()};
  rt.submit(square, 1).get();
  auto victim = rt.submit(pid_after, 5000);
  auto other = rt.submit(pid_after, 300);
  std::this_thread::sleep_for(150ms);
  const int other_pid = other.get();
  const auto pids = rt.cpu_worker_pids();
  pid_t target = 0;
  for (const pid_t pid : pids)
    if (pid != other_pid) target = pid;
  REQUIRE(target != 0);
  REQUIRE(kill(target, SIGKILL) == 0);
  try {
    victim.get();
    FAIL("no exception");
  } catch (const tandem::worker_crashed& e) {
    CHECK(e.pid() == target);
    CHECK(e.signal() == SIGKILL);
  }
  CHECK(replaced_soon(rt, target, 2));
  CHECK(rt.submit(square, 5).get() == 25);
}

TEST_CASE("a spare worker takes a killed worker's place at once, and a new spare is forked" *
          doctest::timeout(60)) {
  tandem::runtime rt{{.io_threads = 1, .cpu_workers = 1, .cpu_spare_workers = 1}};
  const pid_t worker = rt.submit(pid_after, 0).get();
  REQUIRE(rt.cpu_worker_pids() == std::vector<pid_t>{worker});
  const auto forked = forked_by_zygote_soon(worker, 2);  // the worker and the spare
  REQUIRE(forked.size() == 2);
  const pid_t spare = forked[0] == worker ? forked[1] : forked[0];
  char dir_template[] = "/tmp/tandem-spare-XXXXXX";
  REQUIRE(mkdtemp(dir_template) != nullptr);
  const std::string started = std::string(dir_template) + "/started";
  auto victim = rt.submit(mark_then_spin, started, 5000);
  REQUIRE(appears_soon(started));  // killed while it runs, not while it waits
  REQUIRE(kill(worker, SIGKILL) == 0);
  CHECK_THROWS_AS(victim.get(), tandem::worker_crashed);
  rmdir(started.c_str());
  rmdir(dir_template);
  CHECK(rt.submit(pid_after, 0).get() == spare);  // no fork on the way
  CHECK(rt.cpu_worker_pids() == std::vector<pid_t>{spare});
  const auto after = forked_by_zygote_soon(spare, 2);  // the spare replaced in turn
  CHECK(after.size() == 2);
  CHECK(contains(after, spare));
  CHECK_FALSE(contains(after, worker));
}

TEST_CASE("cpu_spare_workers = 0 forks only the workers, and a replacement when one is needed" *
          doctest::timeout(60)) {
  tandem::runtime rt{{.io_threads = 1, .cpu_workers = 2, .cpu_spare_workers = 0}};
  const pid_t worker = rt.submit(pid_after, 0).get();
  std::this_thread::sleep_for(100ms);  // a spare, were there one, would be forked by now
  auto forked = forked_by_zygote_soon(worker, 2);
  auto pids = rt.cpu_worker_pids();
  std::sort(forked.begin(), forked.end());
  std::sort(pids.begin(), pids.end());
  CHECK(pids == forked);
  REQUIRE(kill(worker, SIGKILL) == 0);
  CHECK(replaced_soon(rt, worker, 2));
  const auto now = rt.cpu_worker_pids();
  CHECK(std::count_if(now.begin(), now.end(), [&](pid_t pid) { return !contains(forked, pid); }) ==
        1);  // the replacement was forked after the kill
  CHECK(rt.submit(square, 3).get() == 9);
}

TEST_CASE("a task past its timeout gets task_timeout and its worker is replaced" *
          doctest::timeout(60)) {
  tandem::runtime rt{two_workers()};
  const auto started = std::chrono::steady_clock::now();
  auto late = rt.submit(tandem::submit_options{.timeout = 200ms}, pid_after, 10'000);
  auto fine = rt.submit(tandem::submit_options{.timeout = 5s}, square, 6);
  CHECK_THROWS_WITH_AS(late.get(), doctest::Contains("timeout of 200 ms"), tandem::task_timeout);
  CHECK(std::chrono::steady_clock::now() - started < 5s);
  CHECK(fine.get() == 36);
  CHECK(rt.submit(square, 7).get() == 49);
}

TEST_CASE("default_timeout applies to submissions that name none" * doctest::timeout(60)) {
  tandem::runtime rt{
      tandem::runtime_options{.io_threads = 1, .cpu_workers = 1, .default_timeout = 200ms}};
  CHECK_THROWS_WITH_AS(rt.submit(pid_after, 10'000).get(), doctest::Contains("timeout of 200 ms"),
                       tandem::task_timeout);
  CHECK(rt.submit(square, 2).get() == 4);
  // A timeout too long to add to the clock means no limit, not an overflow.
  const tandem::submit_options forever{.timeout = std::chrono::nanoseconds::max()};
  CHECK(rt.submit(forever, square, 3).get() == 9);
}

TEST_CASE("an io task cannot take a timeout: the future says so" * doctest::timeout(30)) {
  tandem::runtime rt{two_workers()};
  CHECK_THROWS_WITH_AS(rt.submit(tandem::submit_options{.timeout = 1s}, io_square, 2).get(),
                       doctest::Contains("timeout cannot stop it"), tandem::error);
  CHECK(rt.submit(io_square, 2).get() == 4);
}

TEST_CASE("cancel: a queued cpu task never runs; a running one stops only with kill_running" *
          doctest::timeout(60)) {
  tandem::runtime rt{tandem::runtime_options{.io_threads = 1, .cpu_workers = 1}};
  char dir_template[] = "/tmp/tandem-cancel-XXXXXX";
  REQUIRE(mkdtemp(dir_template) != nullptr);
  const std::string mark = std::string(dir_template) + "/ran";

  const std::string started = std::string(dir_template) + "/started";
  auto running = rt.submit(mark_then_spin, started, 1500);
  REQUIRE(appears_soon(started));
  auto queued = rt.submit(marker, mark);
  CHECK(queued.cancel());
  CHECK_FALSE(running.cancel());  // running: plain cancel() does not stop it
  CHECK(running.get() > 0);
  CHECK_THROWS_AS(queued.get(), tandem::task_cancelled);
  rt.submit(square, 1).get();
  struct stat st {};
  CHECK(stat(mark.c_str(), &st) != 0);  // the cancelled task never ran

  const std::string endless_started = std::string(dir_template) + "/endless";
  auto endless = rt.submit(mark_then_spin, endless_started, 60'000);
  REQUIRE(appears_soon(endless_started));
  const pid_t worker = rt.cpu_worker_pids().at(0);
  CHECK(endless.cancel(tandem::kill_running));
  CHECK_THROWS_WITH_AS(endless.get(), doctest::Contains("kill_running"), tandem::task_cancelled);
  CHECK(replaced_soon(rt, worker, 1));
  CHECK(rt.submit(square, 3).get() == 9);
  rmdir(started.c_str());
  rmdir(endless_started.c_str());
  rmdir(dir_template);
}

TEST_CASE("a worker is replaced after max_tasks_per_worker tasks; no task is lost" *
          doctest::timeout(60)) {
  tandem::runtime rt{
      tandem::runtime_options{.io_threads = 1, .cpu_workers = 2, .max_tasks_per_worker = 3}};
  std::vector<tandem::future<int>> runs;
  for (int i = 0; i < 20; ++i) runs.push_back(rt.submit(pid_after, 1));
  std::map<int, int> per_pid;
  for (auto& f : runs) ++per_pid[f.get()];
  CHECK(per_pid.size() >= 7);
  for (const auto& [pid, count] : per_pid) CHECK(count <= 3);
}

TEST_CASE("a worker that grew past max_worker_rss is replaced between tasks" *
          doctest::timeout(60)) {
  tandem::runtime rt{tandem::runtime_options{
      .io_threads = 1, .cpu_workers = 1, .max_worker_rss = std::size_t{48} << 20}};
  const int grown = rt.submit(bloat, 96).get();
  CHECK(rt.submit(pid_after, 1).get() != grown);
}

TEST_CASE("payloads larger than the shared heap fail with payload_too_large" *
          doctest::timeout(60)) {
  tandem::runtime rt{tandem::runtime_options{
      .io_threads = 1, .cpu_workers = 1, .cpu_payload_bytes = std::size_t{1} << 20}};
  try {
    rt.submit(echo, std::vector<std::byte>(std::size_t{2} << 20)).get();
    FAIL("no exception");
  } catch (const tandem::payload_too_large& e) {
    CHECK(e.size() > e.limit());
    CHECK(std::string(e.what()).find("arguments of task 'fail.echo'") != std::string::npos);
  }
  try {
    rt.submit(make_bytes, std::size_t{2} << 20).get();
    FAIL("no exception");
  } catch (const tandem::payload_too_large& e) {
    CHECK(std::string(e.what()).find("result of task 'fail.make_bytes'") != std::string::npos);
  }
  // Just under the heap's size: refused, naming the limit actually enforced.
  try {
    rt.submit(make_bytes, (std::size_t{1} << 20) - 64).get();
    FAIL("no exception");
  } catch (const tandem::payload_too_large& e) {
    CHECK(e.size() > e.limit());
  }
  const std::vector<std::byte> fits(std::size_t{256} << 10, std::byte{7});
  CHECK(rt.submit(echo, fits).get() == fits);
  // Each refusal counts as a failed submission, the one refused before it
  // was queued (its arguments) included.
  const auto m = rt.metrics().cpu;
  CHECK(m.submitted == 4);
  CHECK(m.failed == 3);
  CHECK(m.completed == 1);
}

TEST_CASE("a worker that corrupts its ring fails its task, never the parent" *
          doctest::timeout(60)) {
  tandem::runtime rt{tandem::runtime_options{.io_threads = 1, .cpu_workers = 1}};
  const pid_t worker = rt.submit(pid_after, 1).get();
  CHECK_THROWS_WITH_AS(rt.submit(scribble).get(), doctest::Contains("corrupt"),
                       tandem::worker_crashed);
  CHECK(replaced_soon(rt, worker, 1));
  CHECK(rt.submit(square, 8).get() == 64);
}

TEST_CASE("a worker that forges a reply fails its task and is replaced, never wedged" *
          doctest::timeout(60)) {
  tandem::runtime rt{tandem::runtime_options{.io_threads = 1, .cpu_workers = 1}};
  // A reply for a task it was not given: the replies after it could not be
  // matched to their tasks any more.
  pid_t worker = rt.submit(pid_after, 1).get();
  auto forged = rt.submit(forged_value);
  auto after = rt.submit(square, 3);
  CHECK_THROWS_WITH_AS(forged.get(), doctest::Contains("answers no task"), tandem::worker_crashed);
  CHECK(after.get() == 9);
  CHECK(replaced_soon(rt, worker, 1));
  // "retiring" from a running task: believed, it would leave the task
  // running unwatched, past any timeout and shutdown.
  worker = rt.submit(pid_after, 1).get();
  CHECK_THROWS_WITH_AS(rt.submit(forged_retiring).get(),
                       doctest::Contains("cannot send while running"), tandem::worker_crashed);
  CHECK(replaced_soon(rt, worker, 1));
  CHECK(rt.submit(square, 8).get() == 64);
}

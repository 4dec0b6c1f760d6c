// The chaos soak (issue 6 §4). For TANDEM_SOAK_SECONDS (default 60), in
// rounds, 4 threads submit a random mix of io and cpu tasks of which 1%
// throw, 1% crash their worker, 1% run past their timeout and 1% are
// cancelled, while a side thread kill -9s a random cpu worker every 100 ms.
// Then: every future resolved with the outcome its task called for (or one
// the chaos permits), each lane counted every job exactly once, the lane is
// back to full strength after each round, the host's RSS stays flat once
// warm, and nothing (child, fd, thread, mapping, /dev/shm entry) outlives
// the runtime. Submitters keep a bounded window of futures and wait on the
// oldest, so the task rate follows what the build can do (a sanitized build
// runs fewer tasks in the same time) and memory stays bounded.
//
//   TANDEM_SOAK_SECONDS=3600 build/tests/soak_test
#include <doctest/doctest.h>
#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <iterator>
#include <mutex>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "ipc/error.hpp"
#include "ipc/pidfd.hpp"
#include "support/cpu_tasks.hpp"
#include "support/process_census.hpp"
#include "tandem/tandem.hpp"

using namespace std::chrono_literals;

namespace {

using steady = std::chrono::steady_clock;

constexpr unsigned submitters = 4;
constexpr unsigned rounds = 5;
constexpr unsigned cpu_workers = 2;
constexpr unsigned io_threads = 2;
constexpr auto kill_every = 100ms;
// A task meant to time out gets this timeout and would spin far past it.
constexpr auto short_timeout = 20ms;
constexpr int overrun_us = 5'000'000;
// Futures each submitter keeps in flight: enough to keep both lanes busy.
constexpr std::size_t window = 32;
// A future still not ready this long after its turn came is lost.
constexpr auto lost_after = 60s;
constexpr int crash_exit_code = 77;

// soak_seconds() is TANDEM_SOAK_SECONDS, or 60.
double soak_seconds() {
  const char* asked = std::getenv("TANDEM_SOAK_SECONDS");
  const double seconds = asked ? std::strtod(asked, nullptr) : 0;
  return seconds > 0 ? seconds : 60;
}

// sanitized is true under ASan or TSan: GCC defines __SANITIZE_*__, clang
// 14 (our TSan compiler) only answers __has_feature.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool sanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool sanitized = true;
#else
constexpr bool sanitized = false;
#endif
#else
constexpr bool sanitized = false;
#endif

// ---- the task ----

enum class fate : int { ok, throws, crashes, times_out, cancelled, count };
constexpr const char* fate_names[] = {"ok", "throw", "crash", "timeout", "cancel"};

// value_of() is what task `id` returns: a bijection, so no two tasks share
// a value and a result delivered to the wrong future cannot pass.
std::uint64_t value_of(std::uint64_t id) {
  return id * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull;
}

std::string failure_of(std::uint64_t id) { return "soak task " + std::to_string(id) + " threw"; }

void spin_us(int us) {
  const auto until = steady::now() + std::chrono::microseconds(us);
  while (steady::now() < until) {
  }
}

// run_task() does what `how` asks: return value_of(id), throw, crash (id
// even: SIGSEGV, odd: exit), or spin long past its timeout.
std::uint64_t run_task(std::uint64_t id, int how, int busy_us) {
  switch (static_cast<fate>(how)) {
    case fate::throws:
      spin_us(busy_us);
      throw std::runtime_error(failure_of(id));
    case fate::crashes:
      spin_us(busy_us);
      if (id % 2 == 0) raise(SIGSEGV);
      _exit(crash_exit_code);
    case fate::times_out:
      spin_us(overrun_us);  // its timeout stops it long before: a value means it did not
      break;
    default:
      spin_us(busy_us);
  }
  return value_of(id);
}

const auto soak_task =
    tandem::define_task<std::uint64_t(std::uint64_t, int, int)>("soak.task", tandem::cpu, run_task);

// ---- plans and what became of them ----

enum class lane { io, cpu };
enum class cancel_result { not_asked, won, kill_requested, refused };
constexpr const char* cancel_names[] = {"not asked", "won", "kill requested", "refused"};

struct plan {
  std::uint64_t id = 0;
  lane where = lane::io;
  fate intent = fate::ok;
  int busy_us = 0;
  bool kill_running = false;  // cancel with tandem::kill_running (cpu only)
  bool cancel_late = false;   // cancel when its turn to be waited for comes
};

struct pending {
  plan task;
  tandem::future<std::uint64_t> result;
  cancel_result cancel = cancel_result::not_asked;
  std::string error;  // what the future threw: a mismatch's report names it
};

enum class seen { value, thrown, crashed, killed, timed_out, cancelled, lost, wrong, count };
constexpr const char* seen_names[] = {"value",     "thrown",    "crashed", "killed by chaos",
                                      "timed out", "cancelled", "lost",    "wrong"};

// draw() picks the next task: io or cpu at even odds, 1% each of the four
// faults (crashes and timeouts only on the cpu lane), 0-2 ms of work (5-20
// ms for half of the cancelled ones).
plan draw(std::mt19937_64& rng, std::uint64_t id) {
  plan p{.id = id, .where = rng() % 2 ? lane::cpu : lane::io};
  const auto roll = rng() % 100;
  if (roll < 4) p.intent = static_cast<fate>(roll + 1);
  if (p.intent == fate::crashes || p.intent == fate::times_out) p.where = lane::cpu;
  p.busy_us = static_cast<int>(rng() % 2001);
  p.kill_running = p.where == lane::cpu && rng() % 2;
  p.cancel_late = rng() % 2;
  // Late cancels find their task running only if it runs long enough.
  if (p.intent == fate::cancelled && p.cancel_late)
    p.busy_us = 5'000 + static_cast<int>(rng() % 15'001);
  return p;
}

tandem::future<std::uint64_t> submit(tandem::runtime& rt, const plan& p) {
  const int how = static_cast<int>(p.intent);
  if (p.where == lane::io)
    return rt.submit(tandem::io, [p, how] { return run_task(p.id, how, p.busy_us); });
  if (p.intent == fate::times_out)
    return rt.submit(tandem::submit_options{.timeout = short_timeout}, soak_task, p.id, how,
                     p.busy_us);
  return rt.submit(soak_task, p.id, how, p.busy_us);
}

// cancel() cancels as the plan says. A plain cancel() first tells a task
// stopped in the queue from one killed while running.
cancel_result cancel(pending& p) {
  if (p.result.cancel()) return cancel_result::won;
  if (p.task.kill_running && p.result.cancel(tandem::kill_running))
    return cancel_result::kill_requested;
  return cancel_result::refused;
}

// launch() submits, and cancels at once half of the tasks meant to be
// cancelled: those are still queued behind the submitter's window. The
// other half are cancelled in settle(), when they are the oldest in the
// window and most likely running or just done: the racy cases.
pending launch(tandem::runtime& rt, const plan& p) {
  pending launched{p, submit(rt, p), cancel_result::not_asked, {}};
  if (p.intent == fate::cancelled && !p.cancel_late) launched.cancel = cancel(launched);
  return launched;
}

seen crash_seen(const pending& p, const tandem::worker_crashed& e) {
  if (e.signal() == SIGKILL &&
      std::string_view(e.what()).find("killed by signal 9") != std::string_view::npos)
    return seen::killed;
  const bool as_asked = p.task.id % 2 == 0 ? e.signal() == SIGSEGV
                                           : e.signal() == 0 && e.exit_code() == crash_exit_code;
  return as_asked ? seen::crashed : seen::wrong;
}

// observe_error() names the outcome of a future that threw `error`.
seen observe_error(const pending& p, std::exception_ptr error) {
  const bool on_cpu = p.task.where == lane::cpu;
  try {
    std::rethrow_exception(error);
  } catch (const tandem::remote_error& e) {
    return on_cpu && e.message() == failure_of(p.task.id) ? seen::thrown : seen::wrong;
  } catch (const tandem::worker_crashed& e) {
    return on_cpu ? crash_seen(p, e) : seen::wrong;
  } catch (const tandem::task_timeout&) {
    return seen::timed_out;
  } catch (const tandem::task_cancelled&) {
    return seen::cancelled;
  } catch (const tandem::error&) {
    return seen::wrong;
  } catch (const std::runtime_error& e) {
    return !on_cpu && e.what() == failure_of(p.task.id) ? seen::thrown : seen::wrong;
  } catch (...) {
    return seen::wrong;
  }
}

// observe() waits for the future and names its outcome; a value or an
// error that belongs to another task is `wrong`.
seen observe(pending& p) {
  if (!p.result.wait_for(lost_after)) return seen::lost;
  try {
    return p.result.get() == value_of(p.task.id) ? seen::value : seen::wrong;
  } catch (const std::exception& e) {
    p.error = e.what();
    return observe_error(p, std::current_exception());
  }
}

bool cancel_allows(cancel_result c, seen s) {
  switch (c) {
    case cancel_result::won:
      return s == seen::cancelled;
    case cancel_result::kill_requested:  // killed, or it finished first
      return s == seen::cancelled || s == seen::value;
    default:  // it had started (or finished): it must complete
      return s == seen::value;
  }
}

// allowed() says whether `s` is what the task called for, or the side
// killer's collateral: any cpu task may lose its worker to kill -9.
bool allowed(const pending& p, seen s) {
  if (s == seen::killed) return p.task.where == lane::cpu;
  switch (p.task.intent) {
    case fate::ok:
      return s == seen::value;
    case fate::throws:
      return s == seen::thrown;
    case fate::crashes:
      return s == seen::crashed;
    case fate::times_out:
      return s == seen::timed_out;
    case fate::cancelled:
      return cancel_allows(p.cancel, s);
    default:
      return false;
  }
}

// ---- tallies ----

struct tally {
  std::uint64_t tasks[2] = {};  // by lane
  std::uint64_t outcomes[2][static_cast<int>(seen::count)] = {};
  std::uint64_t faults[static_cast<int>(fate::count)] = {};  // by fate (ok unused)
  std::uint64_t cancels_won = 0;
  std::uint64_t mismatched = 0;
  std::uint64_t kills = 0;
  std::vector<std::string> mismatches;  // the first few, for the failure message

  void add(const tally& other);
  std::uint64_t seen_total(seen s) const {
    return outcomes[0][static_cast<int>(s)] + outcomes[1][static_cast<int>(s)];
  }
  std::uint64_t seen_on(lane l, seen s) const {
    return outcomes[static_cast<int>(l)][static_cast<int>(s)];
  }
};

void tally::add(const tally& other) {
  for (int l = 0; l < 2; ++l) {
    tasks[l] += other.tasks[l];
    for (int s = 0; s < static_cast<int>(seen::count); ++s) outcomes[l][s] += other.outcomes[l][s];
  }
  for (int f = 0; f < static_cast<int>(fate::count); ++f) faults[f] += other.faults[f];
  cancels_won += other.cancels_won;
  mismatched += other.mismatched;
  kills += other.kills;
  for (const auto& m : other.mismatches)
    if (mismatches.size() < 10) mismatches.push_back(m);
}

std::string describe(const pending& p, seen s) {
  return "task " + std::to_string(p.task.id) + " (" + (p.task.where == lane::cpu ? "cpu" : "io") +
         ", asked to " + fate_names[static_cast<int>(p.task.intent)] + ", cancel " +
         cancel_names[static_cast<int>(p.cancel)] + "): " + seen_names[static_cast<int>(s)] +
         (p.error.empty() ? "" : " (" + p.error + ")");
}

void settle(pending& p, tally& into) {
  if (p.task.intent == fate::cancelled && p.task.cancel_late) p.cancel = cancel(p);
  const seen s = observe(p);
  const int where = static_cast<int>(p.task.where);
  ++into.tasks[where];
  ++into.outcomes[where][static_cast<int>(s)];
  ++into.faults[static_cast<int>(p.task.intent)];
  into.cancels_won += p.cancel == cancel_result::won;
  if (allowed(p, s)) return;
  ++into.mismatched;
  if (into.mismatches.size() < 10) into.mismatches.push_back(describe(p, s));
}

// ---- the chaos ----

struct round_shared {
  tandem::runtime& rt;
  steady::time_point until;
  std::atomic<std::uint64_t>& next_id;
  std::mutex total_mutex;  // guards total
  tally& total;
};

void submitter(round_shared& round, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::deque<pending> in_flight;
  tally mine;
  while (steady::now() < round.until) {
    in_flight.push_back(launch(round.rt, draw(rng, round.next_id++)));
    if (in_flight.size() < window) continue;
    settle(in_flight.front(), mine);
    in_flight.pop_front();
  }
  for (auto& p : in_flight) settle(p, mine);
  std::lock_guard lock(round.total_mutex);
  round.total.add(mine);
}

// kill_one() sends SIGKILL to a random worker. The pidfd pins the process
// it was opened on; checking that its parent is the zygote afterwards
// proves that this process is a worker (a recycled pid would fail the check
// or leave the pidfd on a dead process), so nothing else is ever hit.
bool kill_one(const tandem::runtime& rt, pid_t zygote, std::mt19937_64& rng) {
  const std::vector<pid_t> pids = rt.cpu_worker_pids();
  if (pids.empty()) return false;
  const pid_t pid = pids[rng() % pids.size()];
  try {
    const tandem::ipc::pidfd target(pid);
    return tandem::test::parent_of(pid) == zygote && target.send_signal(SIGKILL);
  } catch (const tandem::ipc::ipc_error&) {
    return false;  // gone already
  }
}

void killer(round_shared& round, pid_t zygote, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uint64_t kills = 0;
  for (auto next = steady::now() + kill_every; next < round.until; next += kill_every) {
    std::this_thread::sleep_until(next);
    kills += kill_one(round.rt, zygote, rng);
  }
  std::lock_guard lock(round.total_mutex);
  round.total.kills += kills;
}

void run_round(round_shared& round, pid_t zygote, std::uint64_t seed) {
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < submitters; ++i)
    threads.emplace_back([&round, seed, i] { submitter(round, seed + i); });
  threads.emplace_back([&round, zygote, seed] { killer(round, zygote, seed + submitters); });
  for (auto& t : threads) t.join();
}

// ---- the checks ----

// lane_full() waits (up to 10 s) for the lane to have all its workers.
bool lane_full(const tandem::runtime& rt) {
  const auto deadline = steady::now() + 10s;
  for (;;) {
    if (rt.metrics().cpu.workers_alive == cpu_workers && rt.cpu_worker_pids().size() == cpu_workers)
      return true;
    if (steady::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
}

// lane_quiet() waits until each lane has counted an ending for everything
// submitted to it (a job cancelled in the queue is counted once it is
// popped), and returns the snapshot.
tandem::metrics_snapshot lane_quiet(const tandem::runtime& rt) {
  const auto deadline = steady::now() + 10s;
  auto settled = [](const tandem::lane_metrics& l) {
    return l.completed + l.failed + l.cancelled + l.timed_out == l.submitted;
  };
  auto m = rt.metrics();
  while ((!settled(m.cpu) || !settled(m.io)) && steady::now() < deadline) {
    std::this_thread::sleep_for(5ms);
    m = rt.metrics();
  }
  return m;
}

// check_lane_counts() holds each lane's metrics against what the futures
// said: a job resolved twice, or counted twice, shows as a difference.
// (`extra_cpu` are the values of cpu tasks run outside the chaos.)
void check_lane_counts(const tandem::metrics_snapshot& m, const tally& t, std::uint64_t extra_cpu) {
  CHECK(m.cpu.submitted == t.tasks[1] + extra_cpu);
  CHECK(m.cpu.completed == t.seen_on(lane::cpu, seen::value) + extra_cpu);
  CHECK(m.cpu.failed == t.seen_on(lane::cpu, seen::thrown) + t.seen_on(lane::cpu, seen::crashed) +
                            t.seen_on(lane::cpu, seen::killed));
  CHECK(m.cpu.cancelled == t.seen_on(lane::cpu, seen::cancelled));
  CHECK(m.cpu.timed_out == t.seen_total(seen::timed_out));
  CHECK(m.cpu.restarts_timeout == t.seen_total(seen::timed_out));
  CHECK(m.io.submitted == t.tasks[0]);
  CHECK(m.io.completed == t.seen_on(lane::io, seen::value));
  CHECK(m.io.failed == t.seen_on(lane::io, seen::thrown));
  CHECK(m.io.cancelled == t.seen_on(lane::io, seen::cancelled));
}

std::size_t count_lines(const char* path) {
  std::ifstream in(path);
  return static_cast<std::size_t>(
      std::count(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>(), '\n'));
}

std::size_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

std::set<std::string> shm_names() {
  std::set<std::string> names;
  if (DIR* d = opendir("/dev/shm")) {
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.') names.insert(e->d_name);
    closedir(d);
  }
  return names;
}

// shared_mappings() counts the shared ones (the runtime's segments, rings
// and heaps are all MAP_SHARED).
std::size_t shared_mappings() {
  std::ifstream maps("/proc/self/maps");
  std::size_t shared = 0;
  for (std::string range, perms, rest; maps >> range >> perms && std::getline(maps, rest);)
    shared += perms.size() == 4 && perms[3] == 's';
  return shared;
}

// child_pids() are the pids of this process's children, zombies included.
std::set<pid_t> child_pids() {
  std::set<pid_t> found;
  if (DIR* d = opendir("/proc")) {
    while (dirent* e = readdir(d))
      if (const pid_t pid = std::atoi(e->d_name);
          pid > 0 && tandem::test::parent_of(pid) == getpid())
        found.insert(pid);
    closedir(d);
  }
  return found;
}

// host_state is what must be the same before a runtime and after it.
struct host_state {
  std::set<pid_t> children = child_pids();
  tandem::test::process_census census;
  std::size_t mappings = count_lines("/proc/self/maps");
  std::size_t shared = shared_mappings();
  std::set<std::string> shm = shm_names();
};

// Private mappings the host may gain for good while a runtime lives: the C
// library keeps each malloc arena (two lines of maps) once made, and makes
// more the more threads allocate at once (at most 8 per core). A warm-up
// soak before the baseline makes most of them; 8 lines leave room for 4
// more. (ASan and TSan map shadow and allocator regions of their own as
// memory is touched, so those builds skip this count.) Shared mappings must
// come back exactly: a leaked segment, ring or heap, even one, is one of
// them.
constexpr std::size_t mapping_slack = 8;

void check_nothing_left(const host_state& before) {
  CHECK(child_pids() == before.children);
  const auto after = tandem::test::process_census::settled(before.census);
  CHECK(after.fds == before.census.fds);
  CHECK(after.threads == before.census.threads);
  CHECK(shared_mappings() == before.shared);
  if (!sanitized) {
    const std::size_t mappings = count_lines("/proc/self/maps");
    CHECK(mappings <= before.mappings + mapping_slack);
    CHECK(mappings + mapping_slack >= before.mappings);
  }
  std::set<std::string> added;
  for (const auto& name : shm_names())
    if (!before.shm.contains(name)) added.insert(name);
  for (const auto& name : added) FAIL_CHECK("new /dev/shm entry: " << name);
}

// RSS may grow this much between the end of round 2 and the last round.
// Rounds 1 and 2 warm up the allocator's arenas and thread caches and the
// pages of the rings; after them the host holds nothing per task (the
// window of futures is bounded), and in our 60 s runs RSS (about 5 MiB)
// moved by 0.1 MiB from round 2 to round 5. 8 MiB is 80 times that noise,
// and a leak of one task's state (some hundred bytes) per task crosses it
// within a few minutes of soak; the ASan build's LeakSanitizer catches
// smaller leaks exactly, and check_nothing_left() leaked mappings. ASan
// (whose quarantine holds freed memory) and TSan (shadow memory, history)
// grow RSS by design, so those builds only report it.
constexpr std::size_t rss_growth_bound = std::size_t{8} << 20;

void report_outcomes(const tally& t, double seconds) {
  const std::uint64_t tasks = t.tasks[0] + t.tasks[1];
  std::printf("soak: %.0f s, %" PRIu64 " tasks (io %" PRIu64 ", cpu %" PRIu64 "), %.0f tasks/s\n",
              seconds, tasks, t.tasks[0], t.tasks[1], static_cast<double>(tasks) / seconds);
  std::printf("  outcomes:");
  for (int s = 0; s < static_cast<int>(seen::count); ++s)
    std::printf("%s %s %" PRIu64, s ? "," : "", seen_names[s], t.seen_total(static_cast<seen>(s)));
  std::printf("\n  faults injected: throw %" PRIu64 ", crash %" PRIu64 ", timeout %" PRIu64
              ", cancel %" PRIu64 " (%" PRIu64 " stopped in the queue), kill -9 %" PRIu64 "\n",
              t.faults[1], t.faults[2], t.faults[3], t.faults[4], t.cancels_won, t.kills);
}

void report(const tally& t, const tandem::metrics_snapshot& m, const std::vector<std::size_t>& rss,
            double seconds) {
  report_outcomes(t, seconds);
  std::printf("  worker restarts: crash %" PRIu64 ", timeout %" PRIu64 ", cancel %" PRIu64 "\n",
              m.cpu.restarts_crash, m.cpu.restarts_timeout, m.cpu.restarts_cancel);
  std::printf("  host RSS after each round (MiB):");
  for (const std::size_t bytes : rss) std::printf(" %.1f", static_cast<double>(bytes) / (1 << 20));
  std::printf("\n  lost %" PRIu64 ", not as asked %" PRIu64 "\n", t.seen_total(seen::lost),
              t.mismatched);
  std::fflush(stdout);
}

struct soak_result {
  tally total;
  std::vector<std::size_t> rss;  // host RSS after each round
  tandem::metrics_snapshot metrics;
};

void check_futures(const tally& t) {
  for (const auto& what : t.mismatches) FAIL_CHECK(what);
  CHECK(t.seen_total(seen::lost) == 0);
  CHECK(t.mismatched == 0);
}

// soak() runs `count` rounds of chaos on a runtime of its own and checks
// all that can be checked while it lives.
soak_result soak(unsigned count, steady::duration round_length, std::uint64_t seed) {
  soak_result out;
  tandem::runtime rt{tandem::runtime_options{.io_threads = io_threads, .cpu_workers = cpu_workers}};
  REQUIRE(rt.submit(soak_task, 0, static_cast<int>(fate::ok), 0).get() == value_of(0));
  const pid_t zygote = tandem::test::parent_of(rt.cpu_worker_pids().at(0));
  std::atomic<std::uint64_t> next_id{1};
  for (unsigned r = 0; r < count; ++r) {
    round_shared round{rt, steady::now() + round_length, next_id, {}, out.total};
    run_round(round, zygote, seed + r * 100);
    CHECK_MESSAGE(lane_full(rt), "round " << r + 1 << ": workers not back to " << cpu_workers);
    out.rss.push_back(resident_bytes());
  }
  check_futures(out.total);
  out.metrics = lane_quiet(rt);
  check_lane_counts(out.metrics, out.total, 1);
  return out;
}

}  // namespace

TEST_CASE("chaos soak: every future resolves as its task asked while workers are killed" *
          doctest::timeout(soak_seconds() + 120)) {
  const std::uint64_t seed = std::random_device{}();
  // A short soak first, so that what the C library keeps for good once the
  // same threads have run (see mapping_slack) is in the baseline.
  soak(1, std::chrono::seconds(1), seed);
  tandem::test::start_symbolizer();
  const host_state before;
  const double seconds = soak_seconds();
  const auto round_length =
      std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(seconds / rounds));
  const soak_result result = soak(rounds, round_length, seed + 1000);
  report(result.total, result.metrics, result.rss, seconds);
  check_nothing_left(before);
  if (!sanitized) CHECK(result.rss.back() <= result.rss[1] + rss_growth_bound);
}

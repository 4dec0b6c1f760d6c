// io_lane.cpp — tandem's io lane side by side with its peers (shared/BENCH.md).
//
//   W1             one external thread submits empty tasks, waits for all (tandem
//                  also with runtime_options::metrics off)
//   W2             fib(30), both children spawned at every call, joined
//   W3             ping-pong: submit one task, wait for it; p50/p99 latency
//   W4             sum of squares of 2^24 floats in 1024 tasks
//   blocking_1000  1000 blocking 500 ms sleeps at once
//   timers_100k    100,000 Asio coroutines each awaiting a 500 ms timer (tandem
//                  also in a child process on tcmalloc: tcmalloc_peer.hpp)
//
// Every implementation gets the machine's core count of threads. The peers
// (tbb, tbb_group, asio, mutex_pool) live in io_lane_peers.hpp, the Python
// ones in python_peer.hpp and peers/.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>  // before Asio 1.18's awaitable.hpp, which uses std::exchange unincluded
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "harness.hpp"
#include "io_lane_peers.hpp"
#include "python_peer.hpp"
#include "tcmalloc_peer.hpp"
#include "tandem/io_executor.hpp"
#include "tandem/runtime.hpp"
#include "tandem/when_all.hpp"

namespace {

using namespace std::chrono_literals;
using io_lane::wait_latch;
using tandem::bench::better;
using tandem::bench::figures;
using tandem::bench::implementation;

// sizes: the full run, or --quick (a few seconds, only proves it works).
struct sizes {
  int w1_tasks;
  int fib_n;
  int pingpong_rounds;
  std::size_t w4_floats;
  int blocking_tasks;
  int blocking_ms;
  int timers;
  int python_timers;
  int timer_ms;
};
constexpr sizes full_sizes{1'000'000, 30,     100'000, std::size_t{1} << 24, 1000, 500,
                           100'000,   10'000, 500};
constexpr sizes quick_sizes{100'000, 22, 5'000, std::size_t{1} << 20, 50, 50, 5'000, 500, 50};
constexpr int w4_tasks = 1024;

// settle() lets the previous implementation's threads go idle (TBB's
// workers spin a while after their work runs out) before a timed run, so
// one implementation's leftovers do not slow the next on few cores.
void settle() { std::this_thread::sleep_for(5ms); }

template <class F>
double timed_ms(F&& run) {
  settle();
  const auto start = std::chrono::steady_clock::now();
  run();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

[[noreturn]] void wrong_result(const char* workload, const char* impl) {
  std::fprintf(stderr, "io_lane: %s computed a wrong result on %s\n", workload, impl);
  std::exit(1);
}

// peers: every peer pool, built once for the whole process (like tandem's
// runtime), and the rule that adds them to a workload's list in table
// order: tbb, tbb_group, asio, mutex_pool.
class peers {
 public:
  explicit peers(tandem::bench::harness& h, unsigned threads)
      : asio_(threads),
        mutex_(threads)
#ifdef TANDEM_HAVE_TBB
        ,
        tbb_(threads)
#endif
  {
#ifndef TANDEM_HAVE_TBB
    h.skip("tbb, tbb_group", "oneTBB (libtbb-dev) was not found when configuring");
#else
    (void)h;
#endif
  }

  // add() appends the pool peers running `on_pool(pool)` and, when given,
  // tbb_group running `on_group(tbb_peers&)`.
  template <class OnPool, class OnGroup = std::nullptr_t>
  void add(std::vector<implementation>& impls, OnPool on_pool, OnGroup on_group = nullptr) {
#ifdef TANDEM_HAVE_TBB
    impls.push_back({"tbb", [this, on_pool] { return on_pool(tbb_, "tbb"); }});
    if constexpr (!std::is_same_v<OnGroup, std::nullptr_t>)
      impls.push_back({"tbb_group", [this, on_group] { return on_group(tbb_); }});
#else
    (void)on_group;
#endif
    impls.push_back({"asio", [this, on_pool] { return on_pool(asio_, "asio"); }});
    impls.push_back({"mutex_pool", [this, on_pool] { return on_pool(mutex_, "mutex_pool"); }});
  }

 private:
  io_lane::asio_pool asio_;
  io_lane::mutex_pool mutex_;
#ifdef TANDEM_HAVE_TBB
  io_lane::tbb_peers tbb_;
#endif
};

// ---- W1: tasks_per_s --------------------------------------------------------

figures tasks_per_s(int tasks, double ms) { return {{"tasks_per_s", tasks / (ms / 1000.0)}}; }

// tandem keeps every future and waits for all. get() on each, in order, is
// used rather than when_all(v.begin(), v.end()).get(): both are idiomatic,
// and get() measured faster on 2 cores (~4.4M vs ~3.8M tasks/s): when_all
// copies the vector and attaches a callback to each of the 1M states, while
// get() of a future that is ready by then is a load and a release.
figures w1_tandem(tandem::runtime& rt, std::vector<tandem::future<void>>& futures, int tasks) {
  futures.clear();  // capacity reserved once, outside the timing
  return tasks_per_s(tasks, timed_ms([&] {
                       for (int i = 0; i < tasks; ++i)
                         futures.push_back(rt.submit(tandem::io, [] {}));
                       for (auto& f : futures) f.get();
                     }));
}

template <class Pool>
figures w1_pool(Pool& pool, wait_latch& latch, int tasks) {
  latch.arm(tasks);
  return tasks_per_s(tasks, timed_ms([&] {
                       for (int i = 0; i < tasks; ++i) pool.post([&latch] { latch.count_down(); });
                       latch.wait();
                     }));
}

#ifdef TANDEM_HAVE_TBB
figures w1_group(io_lane::tbb_peers& tbb, int tasks) {
  return tasks_per_s(tasks, timed_ms([&] {
                       tbb.in_group_arena([&] {
                         tbb::task_group group;
                         for (int i = 0; i < tasks; ++i) group.run([] {});
                         group.wait();
                       });
                     }));
}
#endif

// W1 also runs on a runtime with metrics off: the ratio "tandem vs
// tandem_no_metrics" is what leaving metrics on costs (issue: within 3%).
void bench_w1(tandem::bench::harness& h, tandem::runtime& rt, peers& p, const sizes& sz) {
  std::vector<tandem::future<void>> futures;
  futures.reserve(static_cast<std::size_t>(sz.w1_tasks));
  wait_latch latch;
  tandem::runtime no_metrics{
      tandem::runtime_options{.io_threads = rt.options().io_threads, .metrics = false}};
  std::vector<implementation> impls{
      {"tandem", [&] { return w1_tandem(rt, futures, sz.w1_tasks); }},
      {"tandem_no_metrics", [&] { return w1_tandem(no_metrics, futures, sz.w1_tasks); }}};
  p.add(
      impls, [&](auto& pool, const char*) { return w1_pool(pool, latch, sz.w1_tasks); }
#ifdef TANDEM_HAVE_TBB
      ,
      [&](io_lane::tbb_peers& tbb) { return w1_group(tbb, sz.w1_tasks); }
#endif
  );
  h.run_workload("W1", {{"tasks_per_s", better::higher}}, impls);
}

// ---- W2: fib, ms ------------------------------------------------------------

constexpr long fib_reference(int n) {
  return n < 2 ? n : fib_reference(n - 1) + fib_reference(n - 2);
}

// tandem forks both children and joins with get(): on a worker, get() runs
// other tasks while it waits, so the nested joins cannot deadlock.
long fib_tandem(tandem::runtime& rt, int n) {
  if (n < 2) return n;
  auto a = rt.submit(tandem::io, fib_tandem, std::ref(rt), n - 1);
  auto b = rt.submit(tandem::io, fib_tandem, std::ref(rt), n - 2);
  return a.get() + b.get();
}

figures fib_figures(int n, long got, double ms, const char* impl) {
  if (got != fib_reference(n)) wrong_result("W2", impl);
  return {{"ms", ms}};
}

figures w2_tandem(tandem::runtime& rt, int n) {
  long got = 0;
  const double ms =
      timed_ms([&] { got = rt.submit(tandem::io, fib_tandem, std::ref(rt), n).get(); });
  return fib_figures(n, got, ms, "tandem");
}

// fib_continuation: fib for pools whose tasks cannot block to join. Each
// call spawns its two children and returns; a node counts its pending
// children, and the child that finishes last completes its parent, and so
// on up to the root, which releases the external thread's latch.
template <class Pool>
class fib_continuation {
 public:
  fib_continuation(Pool& pool, wait_latch& latch) : pool_(pool), latch_(latch) {}

  long run(int n) {
    latch_.arm(1);
    pool_.post([this, n] { call(n, nullptr, 0); });
    latch_.wait();
    return result_;
  }

 private:
  struct node {
    node* parent;
    int slot;  // which of the parent's two results this node delivers
    std::atomic<int> pending{2};
    long part[2] = {0, 0};
  };

  void spawn(int n, node* parent, int slot) {
    pool_.spawn([this, n, parent, slot] { call(n, parent, slot); });
  }

  void call(int n, node* parent, int slot) {
    if (n < 2) return deliver(n, parent, slot);
    auto* self = new node{parent, slot};
    spawn(n - 1, self, 0);
    spawn(n - 2, self, 1);
  }

  void deliver(long value, node* parent, int slot) {
    while (parent) {
      parent->part[slot] = value;
      if (parent->pending.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
      value = parent->part[0] + parent->part[1];
      node* done = parent;
      parent = done->parent;
      slot = done->slot;
      delete done;
    }
    result_ = value;
    latch_.count_down();
  }

  Pool& pool_;
  wait_latch& latch_;
  long result_ = 0;
};

template <class Pool>
figures w2_pool(Pool& pool, wait_latch& latch, int n, const char* impl) {
  fib_continuation<Pool> fib(pool, latch);
  long got = 0;
  const double ms = timed_ms([&] { got = fib.run(n); });
  return fib_figures(n, got, ms, impl);
}

#ifdef TANDEM_HAVE_TBB
// tbb_group: the idiomatic nested task_group, one per call.
long fib_group(int n) {
  if (n < 2) return n;
  long a = 0, b = 0;
  tbb::task_group group;
  group.run([&] { a = fib_group(n - 1); });
  group.run([&] { b = fib_group(n - 2); });
  group.wait();
  return a + b;
}

figures w2_group(io_lane::tbb_peers& tbb, int n) {
  long got = 0;
  const double ms = timed_ms([&] { got = tbb.in_group_arena([n] { return fib_group(n); }); });
  return fib_figures(n, got, ms, "tbb_group");
}
#endif

void bench_w2(tandem::bench::harness& h, tandem::runtime& rt, peers& p, const sizes& sz) {
  wait_latch latch;
  std::vector<implementation> impls{{"tandem", [&] { return w2_tandem(rt, sz.fib_n); }}};
  p.add(
      impls, [&](auto& pool, const char* impl) { return w2_pool(pool, latch, sz.fib_n, impl); }
#ifdef TANDEM_HAVE_TBB
      ,
      [&](io_lane::tbb_peers& tbb) { return w2_group(tbb, sz.fib_n); }
#endif
  );
  h.run_workload("W2", {{"ms", better::lower}}, impls);
}

// ---- W3: ping-pong, p50_us / p99_us -----------------------------------------

// round_trips() times `rounds` calls of `one_round` (one submit and its
// wait) and reports the median and 99th percentile in microseconds.
template <class F>
figures round_trips(int rounds, F&& one_round) {
  std::vector<double> us;
  us.reserve(static_cast<std::size_t>(rounds));
  settle();
  for (int i = 0; i < rounds; ++i) {
    const auto start = std::chrono::steady_clock::now();
    one_round();
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
                     .count());
  }
  return {{"p50_us", tandem::bench::percentile(us, 50)},
          {"p99_us", tandem::bench::percentile(us, 99)}};
}

void bench_w3(tandem::bench::harness& h, tandem::runtime& rt, peers& p, const sizes& sz) {
  wait_latch latch;
  std::vector<implementation> impls{
      {"tandem", [&] {
         return round_trips(sz.pingpong_rounds, [&] { rt.submit(tandem::io, [] {}).get(); });
       }}};
  p.add(impls, [&](auto& pool, const char*) {
    return round_trips(sz.pingpong_rounds, [&] {
      latch.arm(1);
      pool.post([&latch] { latch.count_down(); });
      latch.wait();
    });
  });
  h.run_workload("W3", {{"p50_us", better::lower}, {"p99_us", better::lower}}, impls);
}

// ---- W4: sum of squares, ms -------------------------------------------------

// squares: the data (filled once, outside any timing), its slices, and the
// sequential reference every implementation's total is checked against.
class squares {
 public:
  explicit squares(std::size_t count) : data_(count) {
    for (std::size_t i = 0; i < count; ++i) data_[i] = static_cast<float>(i % 1000) / 1000.0f;
    reference_ = slice(0, w4_tasks);
  }

  // sum(first, end) is the sum of squares of slices [first, end).
  double slice(int first, int end) const {
    const std::size_t per = data_.size() / w4_tasks;
    double sum = 0;
    for (std::size_t i = per * static_cast<std::size_t>(first);
         i < per * static_cast<std::size_t>(end); ++i)
      sum += static_cast<double>(data_[i]) * data_[i];
    return sum;
  }
  double part(int index) const { return slice(index, index + 1); }

  figures check(double total, double ms, const char* impl) const {
    if (std::abs(total - reference_) > 1e-9 * std::abs(reference_)) wrong_result("W4", impl);
    return {{"ms", ms}};
  }

 private:
  std::vector<float> data_;
  double reference_ = 0;
};

// tandem gathers the 1024 parts with when_all, the counterpart of the
// pools' latch and of task_group::wait(): one wait for the whole set.
// tandem_get_each calls get() on each future in turn instead (also
// idiomatic, shown beside it): the outside thread then waits, and is woken,
// once per part, and on 2 cores each wake-up takes a core from a worker.
std::vector<tandem::future<double>> submit_parts(tandem::runtime& rt, const squares& sq) {
  std::vector<tandem::future<double>> parts;
  parts.reserve(w4_tasks);
  for (int i = 0; i < w4_tasks; ++i)
    parts.push_back(rt.submit(tandem::io, [&sq, i] { return sq.part(i); }));
  return parts;
}

figures w4_tandem(tandem::runtime& rt, const squares& sq) {
  double total = 0;
  const double ms = timed_ms([&] {
    auto parts = submit_parts(rt, sq);
    for (auto& part : tandem::when_all(parts.begin(), parts.end()).get()) total += part.get();
  });
  return sq.check(total, ms, "tandem");
}

figures w4_tandem_get_each(tandem::runtime& rt, const squares& sq) {
  double total = 0;
  const double ms = timed_ms([&] {
    for (auto& part : submit_parts(rt, sq)) total += part.get();
  });
  return sq.check(total, ms, "tandem_get_each");
}

// The pools write each slice's sum to its own slot; the external thread adds
// the slots once the latch opens (in the same order as tandem's get()s).
template <class Pool>
figures w4_pool(Pool& pool, wait_latch& latch, const squares& sq, const char* impl) {
  std::vector<double> parts(w4_tasks);
  double total = 0;
  latch.arm(w4_tasks);
  const double ms = timed_ms([&] {
    for (int i = 0; i < w4_tasks; ++i)
      pool.post([&, i] {
        parts[static_cast<std::size_t>(i)] = sq.part(i);
        latch.count_down();
      });
    latch.wait();
    for (double part : parts) total += part;
  });
  return sq.check(total, ms, impl);
}

#ifdef TANDEM_HAVE_TBB
// tbb_group: a task_group running the same 1024 slices (not parallel_reduce),
// so every implementation splits the work identically.
figures w4_group(io_lane::tbb_peers& tbb, const squares& sq) {
  std::vector<double> parts(w4_tasks);
  double total = 0;
  const double ms = timed_ms([&] {
    tbb.in_group_arena([&] {
      tbb::task_group group;
      for (int i = 0; i < w4_tasks; ++i)
        group.run([&, i] { parts[static_cast<std::size_t>(i)] = sq.part(i); });
      group.wait();
    });
    for (double part : parts) total += part;
  });
  return sq.check(total, ms, "tbb_group");
}
#endif

void bench_w4(tandem::bench::harness& h, tandem::runtime& rt, peers& p, const sizes& sz) {
  const squares sq(sz.w4_floats);
  wait_latch latch;
  std::vector<implementation> impls{
      {"tandem", [&] { return w4_tandem(rt, sq); }},
      {"tandem_get_each", [&] { return w4_tandem_get_each(rt, sq); }}};
  p.add(
      impls, [&](auto& pool, const char* impl) { return w4_pool(pool, latch, sq, impl); }
#ifdef TANDEM_HAVE_TBB
      ,
      [&](io_lane::tbb_peers& tbb) { return w4_group(tbb, sq); }
#endif
  );
  h.run_workload("W4", {{"ms", better::lower}}, impls);
}

// ---- blocking_1000: ms --------------------------------------------------------

std::vector<std::string> python_args(int tasks, int ms) {
  return {std::to_string(tasks), std::to_string(ms)};
}

// A second runtime, for this workload only, allows 1000 blocking threads.
// Its blocking threads outlive a repetition (idle timeout 10 s), so the
// counted repetitions reuse the threads the warm-up started; the Python
// executor is created inside its own timing, as a script would.
void bench_blocking(tandem::bench::harness& h, unsigned threads, const sizes& sz) {
  tandem::runtime rt{tandem::runtime_options{.io_threads = threads, .max_blocking_threads = 1000}};
  const auto sleep = std::chrono::milliseconds(sz.blocking_ms);
  std::vector<tandem::future<void>> futures;
  futures.reserve(static_cast<std::size_t>(sz.blocking_tasks));
  std::vector<implementation> impls{
      {"tandem", [&] {
         futures.clear();
         return figures{{"ms", timed_ms([&] {
                           for (int i = 0; i < sz.blocking_tasks; ++i)
                             futures.push_back(rt.submit(tandem::io_blocking, [sleep] {
                               std::this_thread::sleep_for(sleep);
                             }));
                           for (auto& f : futures) f.get();
                         })}};
       }}};
  tandem::bench::add_python(h, impls, "python_tpe", "python_tpe_blocking.py",
                            python_args(sz.blocking_tasks, sz.blocking_ms));
  h.run_workload("blocking_1000", {{"ms", better::lower}}, impls);
}

// ---- timers_100k: ms ------------------------------------------------------------

boost::asio::awaitable<void> sleep_then_count(std::chrono::milliseconds delay, wait_latch& done) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, delay);
  co_await timer.async_wait(boost::asio::use_awaitable);
  done.count_down();
}

// timer_wave_ms() is one repetition: `timers` coroutines co_spawned from
// this thread, each awaiting a timer of `delay`, timed until all are done.
double timer_wave_ms(tandem::runtime& rt, wait_latch& done, int timers,
                     std::chrono::milliseconds delay) {
  done.arm(timers);
  return timed_ms([&] {
    for (int i = 0; i < timers; ++i)
      boost::asio::co_spawn(rt.io_executor(), sleep_then_count(delay, done), boost::asio::detached);
    done.wait();
  });
}

// tandem_tcmalloc runs the same wave in a child of this binary whose malloc
// is tcmalloc (tcmalloc_peer.hpp): run_tcmalloc_child() below.
void bench_timers(tandem::bench::harness& h, tandem::runtime& rt, unsigned threads,
                  const sizes& sz) {
  wait_latch done;
  const auto delay = std::chrono::milliseconds(sz.timer_ms);
  std::vector<implementation> impls{
      {"tandem", [&] {
         return figures{{"ms", timer_wave_ms(rt, done, sz.timers, delay)}};
       }}};
  // Its check runs a child process: not for a run that leaves timers out.
  if (h.selected("timers_100k"))
    tandem::bench::add_tcmalloc_peer(h, impls, "tandem_tcmalloc",
                                     {"timers", std::to_string(threads), std::to_string(sz.timers),
                                      std::to_string(sz.timer_ms)});
  tandem::bench::add_python(h, impls, "python_asyncio", "python_asyncio_timers.py",
                            python_args(sz.python_timers, sz.timer_ms));
  h.run_workload("timers_100k", {{"ms", better::lower}}, impls);
}

// run_tcmalloc_child() is this binary as tandem_tcmalloc's child: `check`
// only answers that tcmalloc is its malloc; `timers THREADS TIMERS MS` runs
// one wave to warm up (the in-process runtime is warm too) and prints the
// next one's figure.
int run_tcmalloc_child(int argc, char** argv) {
  if (!tandem::bench::running_on_tcmalloc()) {
    std::fprintf(stderr, "io_lane: the child's malloc is not tcmalloc\n");
    return 3;
  }
  const std::string what = argc > 2 ? argv[2] : "";
  if (what == "check") {
    std::puts("{\"tcmalloc\": 1}");
    return 0;
  }
  if (what != "timers" || argc != 6) {
    std::fprintf(stderr, "io_lane: a tcmalloc child takes: check | timers THREADS TIMERS MS\n");
    return 2;
  }
  const auto threads = static_cast<unsigned>(std::stoul(argv[3]));
  const int timers = std::stoi(argv[4]);
  const auto delay = std::chrono::milliseconds(std::stoi(argv[5]));
  tandem::runtime rt{tandem::runtime_options{.io_threads = threads}};
  wait_latch done;
  timer_wave_ms(rt, done, timers, delay);
  std::printf("{\"ms\": %.3f}\n", timer_wave_ms(rt, done, timers, delay));
  return 0;
}

int run(int argc, char** argv) {
  tandem::bench::harness h(
      "io_lane",
      tandem::bench::parse_options(argc, argv, "io_lane",
                                   {"W1", "W2", "W3", "W4", "blocking_1000", "timers_100k"}));
  const sizes& sz = h.opts().quick ? quick_sizes : full_sizes;
  const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  std::printf("every implementation gets %u threads (tandem: io_threads = %u)\n", threads, threads);

  tandem::runtime rt{tandem::runtime_options{.io_threads = threads}};
  peers p(h, threads);
  bench_w1(h, rt, p, sz);
  bench_w2(h, rt, p, sz);
  bench_w3(h, rt, p, sz);
  bench_w4(h, rt, p, sz);
  bench_blocking(h, threads, sz);
  bench_timers(h, rt, threads, sz);

  const int rc = h.finish();
  std::printf(
      "note: timers_100k runs %d coroutines on tandem but %d asyncio tasks on python_asyncio "
      "(the issue's reference figure); the ratio compares the wall times as they are\n",
      sz.timers, sz.python_timers);
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == tandem::bench::tcmalloc_child_flag)
    return tandem::bench::guarded_main("io_lane", [&] { return run_tcmalloc_child(argc, argv); });
  return tandem::bench::guarded_main("io_lane", [&] { return run(argc, argv); });
}

// demo — what the io lane gives a program, in three short scenes.
//
//  1. Blocking waits: four tasks that each block for 500 ms take the time
//     of one when marked tandem::io_blocking (the seeds' "four runs took
//     2.00 s" done sequentially).
//  2. Waiting without threads: 10,000 Asio coroutines each wait 500 ms on a
//     timer; none holds a thread, so two io threads serve them all.
//  3. Futures: fork-join with get() inside tasks, then() and when_all().
//  4. The cpu lane: defined tasks in worker processes; one of them crashes
//     and only its future fails (Python's process pool breaks here), one
//     runs past its timeout and is stopped.
#include <tandem/tandem.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "common/command_line.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;
using stopwatch = std::chrono::steady_clock;

long slow_fib(int n) { return n < 2 ? n : slow_fib(n - 1) + slow_fib(n - 2); }

const auto cpu_fib = tandem::define_task<long(int)>("demo.fib", tandem::cpu, slow_fib);
const auto crash = tandem::define_task<long(int)>("demo.crash", tandem::cpu, [](int n) -> long {
  std::raise(SIGSEGV);  // a bug in native code: the worker dies, not the program
  return n;
});

namespace {

double seconds_since(stopwatch::time_point start) {
  return std::chrono::duration<double>(stopwatch::now() - start).count();
}

void blocking_waits(tandem::runtime& rt) {
  const auto start = stopwatch::now();
  std::vector<tandem::future<void>> waits;
  for (int i = 0; i < 4; ++i)
    waits.push_back(rt.submit(tandem::io_blocking, [] { std::this_thread::sleep_for(500ms); }));
  for (auto& w : waits) w.get();
  std::printf("1. four blocking 500 ms waits:            %.2f s (one after another: 2.00 s)\n",
              seconds_since(start));
}

void coroutine_waits(tandem::runtime& rt) {
  constexpr int count = 10'000;
  std::atomic<int> finished{0};
  tandem::promise<void> all_done;
  auto done = all_done.get_future();
  const auto start = stopwatch::now();
  for (int i = 0; i < count; ++i)
    asio::co_spawn(
        rt.io_executor(),
        [&]() -> asio::awaitable<void> {
          asio::steady_timer timer(co_await asio::this_coro::executor, 500ms);
          co_await timer.async_wait(asio::use_awaitable);
          if (++finished == count) all_done.set_value();
        },
        asio::detached);
  done.get();
  std::printf("2. %d coroutines waiting 500 ms each:  %.2f s on %u io threads\n", count,
              seconds_since(start), rt.options().io_threads);
}

long fib(tandem::runtime& rt, int n) {
  if (n < 20) return n < 2 ? n : fib(rt, n - 1) + fib(rt, n - 2);  // small: no task
  auto left = rt.submit(tandem::io, [&rt, n] { return fib(rt, n - 1); });
  const long right = fib(rt, n - 2);
  return left.get() + right;  // get() on a worker runs other tasks meanwhile
}

void futures(tandem::runtime& rt) {
  const auto start = stopwatch::now();
  const long f32 = rt.submit(tandem::io, [&rt] { return fib(rt, 32); }).get();
  auto doubled = rt.submit(tandem::io, [] { return 21; }).then([](int x) { return 2 * x; });
  auto both = tandem::when_all(std::move(doubled),
                               rt.submit(tandem::io, [] { return std::string("tandem"); }));
  auto [answer, name] = both.get();
  std::printf("3. fork-join fib(32) = %ld, then() = %d, when_all() with \"%s\": %.2f s\n", f32,
              answer.get(), name.get().c_str(), seconds_since(start));
}

void cpu_tasks(tandem::runtime& rt) {
  const auto start = stopwatch::now();
  std::vector<tandem::future<long>> fibs;
  for (int n = 26; n < 34; ++n) fibs.push_back(rt.submit(cpu_fib, n));
  auto crashed = rt.submit(crash, 1);
  auto stuck = rt.submit(tandem::submit_options{.timeout = 300ms}, cpu_fib, 90);
  long sum = 0;
  for (auto& f : fibs) sum += f.get();
  std::string crash_error, timeout_error;
  try {
    crashed.get();
  } catch (const tandem::worker_crashed& e) {
    crash_error = e.what();
  }
  try {
    stuck.get();
  } catch (const tandem::task_timeout& e) {
    timeout_error = e.what();
  }
  std::printf(
      "4. %u worker processes: sum of fib(26..33) = %ld in %.2f s\n   crash: %s\n"
      "   timeout: %s\n",
      rt.options().cpu_workers, sum, seconds_since(start), crash_error.c_str(),
      timeout_error.c_str());
}

const char* const usage =
    "usage: demo\n"
    "A tour of tandem's lanes in four scenes: blocking waits on the io lane, 10,000\n"
    "coroutines waiting on timers, futures (fork-join, then(), when_all()), and\n"
    "cpu tasks in worker processes, one of which crashes and one times out.\n";

int run(const examples::no_options&) {
  tandem::runtime rt;
  std::printf("tandem demo: io lane with %u threads\n", rt.options().io_threads);
  blocking_waits(rt);
  coroutine_waits(rt);
  futures(rt);
  cpu_tasks(rt);
  rt.shutdown();
  std::printf("shut down: every future resolved, every thread joined, every process reaped\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return examples::command_line_main("demo", argc, argv, examples::parse_no_options, usage, run);
}

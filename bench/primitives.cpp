// bench/primitives — tandem's cross-process primitives vs Python's
// multiprocessing (see shared/BENCH.md for the harness's rules).
//
//   channel_1m      1,000,000 small messages (uint64) from a cpu task to a
//                   consumer on the io lane (an io_blocking task) through a
//                   tandem::channel of 1024; msgs_per_s. Peers:
//                   multiprocessing.Queue and Pipe, child process -> parent.
//   counter_locked  4 worker processes x 1,000,000 increments of one shared
//                   counter under its lock (shared<long>::with_lock);
//                   increments_per_s. Peer: multiprocessing.Value under
//                   get_lock().
//   counter_atomic  the same with shared<long>::fetch_add (one atomic
//                   instruction, no lock); tandem only.
// Targets (issue 5): channel >= 5,000,000 msgs/s, locked counter >=
// 10,000,000 increments/s. Python peers: peers/python_mp_primitives.py.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "harness.hpp"
#include "python_peer.hpp"
#include "tandem/tandem.hpp"

namespace {

using tandem::bench::better;
using tandem::bench::figures;
using tandem::bench::implementation;
using clock_type = std::chrono::steady_clock;

constexpr unsigned counter_workers = 4;
constexpr std::size_t channel_capacity = 1024;

struct sizes {
  std::uint64_t messages;
  std::uint64_t python_messages;
  std::uint64_t increments;  // per worker
  std::uint64_t python_increments;
};
// Python gets fewer: at ~100,000 msgs/s a million would take 10 s a
// repetition. Rates are compared.
constexpr sizes full_sizes{1'000'000, 200'000, 1'000'000, 100'000};
constexpr sizes quick_sizes{20'000, 5'000, 20'000, 2'000};

const auto send_all = tandem::define_task<void(tandem::channel<std::uint64_t>, std::uint64_t)>(
    "primitives.send_all", tandem::cpu, [](tandem::channel<std::uint64_t> out, std::uint64_t n) {
      for (std::uint64_t i = 0; i < n; ++i) out.send(i);
    });
const auto add_locked = tandem::define_task<void(tandem::shared<long>, std::uint64_t)>(
    "primitives.add_locked", tandem::cpu, [](tandem::shared<long> counter, std::uint64_t n) {
      for (std::uint64_t i = 0; i < n; ++i) counter.with_lock([](long& value) { ++value; });
    });
const auto add_atomic = tandem::define_task<void(tandem::shared<long>, std::uint64_t)>(
    "primitives.add_atomic", tandem::cpu, [](tandem::shared<long> counter, std::uint64_t n) {
      for (std::uint64_t i = 0; i < n; ++i) counter.fetch_add(1);
    });

void check(bool ok, const char* workload) {
  if (!ok) throw std::runtime_error(std::string(workload) + ": tandem computed a wrong result");
}

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

figures channel_tandem(tandem::runtime& rt, tandem::channel<std::uint64_t>& channel,
                       std::uint64_t messages) {
  const auto start = clock_type::now();
  auto consumer = rt.submit(tandem::io_blocking, [channel, messages]() mutable {
    std::uint64_t sum = 0;
    for (std::uint64_t i = 0; i < messages; ++i) sum += *channel.receive();
    return sum;
  });
  auto producer = rt.submit(send_all, channel, messages);
  producer.get();
  const std::uint64_t sum = consumer.get();
  const double seconds = seconds_since(start);
  check(sum == messages * (messages - 1) / 2, "channel_1m");
  return {{"msgs_per_s", static_cast<double>(messages) / seconds}};
}

void bench_channel(tandem::bench::harness& h, const sizes& sz) {
  tandem::runtime rt{tandem::runtime_options{.io_threads = 2, .cpu_workers = 1}};
  tandem::channel<std::uint64_t> channel(rt, channel_capacity);
  std::vector<implementation> impls{
      {"tandem", [&] { return channel_tandem(rt, channel, sz.messages); }}};
  const auto count = std::to_string(sz.python_messages);
  tandem::bench::add_python(h, impls, "python_queue", "python_mp_primitives.py", {"queue", count});
  tandem::bench::add_python(h, impls, "python_pipe", "python_mp_primitives.py", {"pipe", count});
  h.run_workload("channel_1m", {{"msgs_per_s", better::higher}}, impls);
}

figures counter_tandem(tandem::runtime& rt,
                       const tandem::task_ref<void(tandem::shared<long>, std::uint64_t)>& add,
                       std::uint64_t per_worker) {
  tandem::shared<long> counter(rt, 0);
  std::vector<tandem::future<void>> done;
  const auto start = clock_type::now();
  for (unsigned i = 0; i < counter_workers; ++i)
    done.push_back(rt.submit(add, counter, per_worker));
  for (auto& f : done) f.get();
  const double seconds = seconds_since(start);
  check(counter.load() == static_cast<long>(counter_workers * per_worker), "counter");
  return {{"increments_per_s", static_cast<double>(counter_workers * per_worker) / seconds}};
}

void bench_counter(tandem::bench::harness& h, const sizes& sz) {
  tandem::runtime rt{tandem::runtime_options{.io_threads = 2, .cpu_workers = counter_workers}};
  std::vector<implementation> locked{
      {"tandem", [&] { return counter_tandem(rt, add_locked, sz.increments); }}};
  tandem::bench::add_python(
      h, locked, "python_value", "python_mp_primitives.py",
      {"counter", std::to_string(counter_workers), std::to_string(sz.python_increments)});
  h.run_workload("counter_locked", {{"increments_per_s", better::higher}}, locked);
  h.run_workload("counter_atomic", {{"increments_per_s", better::higher}},
                 {{"tandem", [&] { return counter_tandem(rt, add_atomic, sz.increments); }}});
}

int run(int argc, char** argv) {
  tandem::bench::harness h("primitives", tandem::bench::parse_options(
                                             argc, argv, "primitives",
                                             {"channel_1m", "counter_locked", "counter_atomic"}));
  const sizes& sz = h.opts().quick ? quick_sizes : full_sizes;
  bench_channel(h, sz);
  bench_counter(h, sz);
  const int rc = h.finish();
  std::printf(
      "notes:\n"
      "  channel_1m: tandem sends %llu messages, the Python peers %llu (rates compare)\n"
      "  counter_*: %u worker processes; tandem %llu increments each, Python %llu each\n",
      static_cast<unsigned long long>(sz.messages),
      static_cast<unsigned long long>(sz.python_messages), counter_workers,
      static_cast<unsigned long long>(sz.increments),
      static_cast<unsigned long long>(sz.python_increments));
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  return tandem::bench::guarded_main("primitives", [&] { return run(argc, argv); });
}

// runtime::metrics(), to_prometheus() and the Chrome trace.
#include "tandem/metrics.hpp"

#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

// Boost 1.74's JSON parser includes the deprecated <boost/bind.hpp>.
#define BOOST_BIND_GLOBAL_PLACEHOLDERS
#include <boost/property_tree/json_parser.hpp>
#include <boost/property_tree/ptree.hpp>
#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "runtime/lane_tally.hpp"
#include "support/cpu_tasks.hpp"
#include "tandem/tandem.hpp"

using namespace std::chrono_literals;

namespace {

const auto twice = tandem::define_task<int(int)>("metrics.twice", tandem::cpu, [](int x) {
  tandem::test::spin_for(2);
  return 2 * x;
});
const auto refuse = tandem::define_task<int()>("metrics.refuse", tandem::cpu,
                                               []() -> int { throw std::runtime_error("no"); });
const auto segfault = tandem::define_task<int()>("metrics.segfault", tandem::cpu, []() -> int {
  raise(SIGSEGV);
  return 0;
});
const auto spin = tandem::define_task<int(int)>("metrics.spin", tandem::cpu, [](int ms) {
  tandem::test::spin_for(ms);
  return ms;
});
const auto nap = tandem::define_task<int(int)>("metrics.nap", tandem::cpu, [](int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return ms;
});
// spin_started() says it runs (started = its worker's pid) before it spins.
const auto spin_started = tandem::define_task<int(tandem::shared<int>, int)>(
    "metrics.spin_started", tandem::cpu, [](tandem::shared<int> started, int ms) {
      started.store(static_cast<int>(getpid()));
      tandem::test::spin_for(ms);
      return ms;
    });

template <class T>
bool fails(tandem::future<T>& f) {
  try {
    f.get();
    return false;
  } catch (const std::exception&) {
    return true;
  }
}

// wait_for_workers() waits until the cpu lane has all its workers: at start
// and after a crash they are forked in the background, so one task's answer
// does not mean every worker is up.
void wait_for_workers(tandem::runtime& rt) {
  tandem::test::eventually(
      [&] { return rt.metrics().cpu.workers_alive >= rt.options().cpu_workers; });
}

std::string temp_path(const char* name) {
  return (std::filesystem::temp_directory_path() /
          (std::string(name) + "-" + std::to_string(getpid()) + ".json"))
      .string();
}

// read_trace() parses the trace written to `path`, and removes the file.
boost::property_tree::ptree read_trace(const std::string& path) {
  boost::property_tree::ptree json;
  REQUIRE_NOTHROW(boost::property_tree::read_json(path, json));
  std::filesystem::remove(path);
  return json;
}

// slice_counts() counts a trace's slices by "lane:task name".
std::map<std::string, int> slice_counts(const boost::property_tree::ptree& json) {
  std::map<std::string, int> slices;
  for (const auto& [_, event] : json.get_child("traceEvents"))
    if (event.get<std::string>("ph") == "X")
      ++slices[event.get<std::string>("cat") + ":" + event.get<std::string>("name")];
  return slices;
}

// histogram_whole() says whether `h`'s count is the sum of its buckets.
bool histogram_whole(const tandem::latency_histogram& h) {
  std::uint64_t sum = 0;
  for (const std::uint64_t n : h.buckets) sum += n;
  return sum == h.count;
}

bool histograms_whole(const tandem::metrics_snapshot& m) {
  const tandem::lane_metrics* lanes[] = {&m.io, &m.blocking, &m.cpu};
  for (const tandem::lane_metrics* lane : lanes)
    if (!histogram_whole(lane->queue_wait) || !histogram_whole(lane->run_time)) return false;
  return true;
}

// histogram_totals() maps each histogram series in `text` ("NAME{LABELS}")
// to its le="+Inf" bucket (first) and its _count (second), as written.
std::map<std::string, std::pair<std::string, std::string>> histogram_totals(
    const std::string& text) {
  std::map<std::string, std::pair<std::string, std::string>> totals;
  const std::string inf = ",le=\"+Inf\"}";
  std::size_t start = 0;
  for (std::size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1) {
    const std::string line = text.substr(start, end - start);
    const auto space = line.rfind(' ');
    const std::string series = line.substr(0, space), value = line.substr(space + 1);
    const auto braces = series.find('{');
    if (braces == std::string::npos) continue;
    const std::string name = series.substr(0, braces), labels = series.substr(braces);
    if (name.ends_with("_bucket") && labels.ends_with(inf))
      totals[name.substr(0, name.size() - 7) + labels.substr(0, labels.size() - inf.size()) + "}"]
          .first = value;
    else if (name.ends_with("_count"))
      totals[name.substr(0, name.size() - 6) + labels].second = value;
  }
  return totals;
}

}  // namespace

TEST_CASE("io lane counts: submitted, completed, failed, sampled latencies" *
          doctest::timeout(60)) {
  tandem::runtime rt{tandem::test::lanes(2, 2)};
  std::vector<tandem::future<int>> tasks;
  for (int i = 0; i < 640; ++i)
    tasks.push_back(rt.submit(tandem::io, [i] {
      if (i % 10 == 0) throw std::runtime_error("every tenth");
      return i;
    }));
  int failed = 0;
  for (auto& t : tasks) failed += fails(t);
  rt.shutdown();  // every count is final
  const tandem::metrics_snapshot m = rt.metrics();
  CHECK(failed == 64);
  CHECK(m.io.submitted >= 640);
  CHECK(m.io.failed == 64);
  CHECK(m.io.completed >= 576);
  CHECK(m.io.completed + m.io.failed + m.io.cancelled == m.io.submitted);
  CHECK(m.io.queued == 0);
  CHECK(m.io.running == 0);
  CHECK(m.io.threads == 2);
  CHECK(m.io.queue_wait.count >= 640 / tandem::metrics_snapshot::io_sample_every - 1);
  CHECK(m.io.run_time.count == m.io.queue_wait.count);
}

TEST_CASE("cpu lane counts outcomes and restarts by cause" * doctest::timeout(120)) {
  tandem::runtime rt{tandem::test::lanes(2, 2)};
  std::vector<tandem::future<int>> ok;
  for (int i = 0; i < 10; ++i) ok.push_back(rt.submit(twice, i));
  for (auto& f : ok) f.get();
  auto thrown = rt.submit(refuse);
  auto crashed = rt.submit(segfault);
  auto late = rt.submit(tandem::submit_options{.timeout = 50ms}, spin, 5000);
  CHECK(fails(thrown));
  CHECK(fails(crashed));
  CHECK(fails(late));
  // Cancelled once it runs (a restart), not while it waits for a worker
  // that the crash or the timeout left still starting.
  tandem::shared<int> started(rt, 0);
  auto killed = rt.submit(spin_started, started, 5000);
  tandem::test::eventually([&] { return started.load() != 0; });
  CHECK(killed.cancel(tandem::kill_running));
  CHECK(fails(killed));
  // A killed task's future resolves before the lane has seen its worker
  // exit, and until then that worker still counts as alive.
  tandem::test::replaced_soon(rt, started.load(), 2);
  wait_for_workers(rt);

  const tandem::cpu_lane_metrics m = rt.metrics().cpu;
  CHECK(m.submitted == 14);
  CHECK(m.completed == 10);
  CHECK(m.failed == 2);  // the throw and the crash
  CHECK(m.timed_out == 1);
  CHECK(m.cancelled == 1);
  CHECK(m.queued == 0);
  CHECK(m.running == 0);
  CHECK(m.restarts_crash == 1);
  CHECK(m.restarts_timeout == 1);
  CHECK(m.restarts_cancel == 1);
  CHECK(m.workers == 2);
  CHECK(m.workers_alive == 2);
  CHECK(m.run_time.count == 14);  // every cpu task is timed
  CHECK(m.run_time.percentile(50) >= 0.002);
  CHECK(m.run_time.percentile(100) >= 0.05);
}

TEST_CASE("a worker recycled after max_tasks_per_worker counts as a recycle" *
          doctest::timeout(60)) {
  auto options = tandem::test::lanes(2, 2);
  options.max_tasks_per_worker = 2;
  tandem::runtime rt{options};
  for (int i = 0; i < 6; ++i) rt.submit(twice, i).get();
  wait_for_workers(rt);
  const auto m = rt.metrics().cpu;
  CHECK(m.restarts_recycle >= 2);
  CHECK(m.restarts_crash == 0);
}

TEST_CASE("with metrics off the io lanes report only submissions, the cpu lane everything" *
          doctest::timeout(60)) {
  auto options = tandem::test::lanes(1, 1);
  options.metrics = false;
  tandem::runtime rt{options};
  CHECK(rt.submit(tandem::io, [] { return 1; }).get() == 1);
  CHECK(rt.submit(tandem::io_blocking, [] { return 2; }).get() == 2);
  CHECK(rt.submit(twice, 2).get() == 4);
  const auto m = rt.metrics();
  CHECK(m.io.submitted >= 1);
  CHECK(m.io.completed == 0);
  CHECK(m.io.queued == 0);  // not every submission shown as waiting forever
  CHECK(m.blocking.submitted == 1);
  CHECK(m.blocking.queued == 0);
  CHECK(m.cpu.completed == 1);
  CHECK(m.cpu.run_time.count == 1);
}

TEST_CASE("latency histogram buckets and percentiles" * doctest::timeout(10)) {
  tandem::latency_histogram h;
  CHECK(h.percentile(50) == 0);
  h.buckets[0] = 50;   // <= 1 us
  h.buckets[10] = 49;  // <= 1.024 ms
  h.buckets[tandem::latency_histogram::bucket_count - 1] = 1;
  h.count = 100;
  CHECK(h.percentile(50) == doctest::Approx(1e-6));
  CHECK(h.percentile(99) == doctest::Approx(1.024e-3));
  CHECK(std::isinf(h.percentile(100)));
}

TEST_CASE("to_prometheus writes every family in the text format" * doctest::timeout(60)) {
  tandem::runtime rt{tandem::test::lanes(2, 2)};
  rt.submit(twice, 1).get();
  rt.submit(tandem::io_blocking, [] { return 1; }).get();
  wait_for_workers(rt);
  const std::string text = tandem::to_prometheus(rt.metrics());
  CHECK(text.find("# TYPE tandem_tasks_submitted_total counter\n") != std::string::npos);
  CHECK(text.find("tandem_tasks_completed_total{lane=\"cpu\"} 1\n") != std::string::npos);
  CHECK(text.find("tandem_tasks_submitted_total{lane=\"io_blocking\"} 1\n") != std::string::npos);
  CHECK(text.find("tandem_task_run_seconds_bucket{lane=\"cpu\",le=\"+Inf\"} 1\n") !=
        std::string::npos);
  CHECK(text.find("tandem_cpu_worker_restarts_total{cause=\"crash\"} 0\n") != std::string::npos);
  CHECK(text.find("tandem_cpu_workers_alive 2\n") != std::string::npos);
  // Bucket bounds in the shortest form that reads back exactly.
  CHECK(text.find("tandem_task_run_seconds_bucket{lane=\"cpu\",le=\"1e-06\"} ") !=
        std::string::npos);
  CHECK(text.find("le=\"2e-06\"") != std::string::npos);
  CHECK(text.find("le=\"0.001024\"") != std::string::npos);
  CHECK(text.find("9.9999999999999995e-07") == std::string::npos);
  for (std::size_t i = 0; i + 1 < tandem::latency_histogram::bucket_count; ++i) {
    const double bound = tandem::latency_histogram::upper_bound_seconds(i);
    char shortest[32];
    const std::string le(shortest, std::to_chars(shortest, shortest + sizeof shortest, bound).ptr);
    CHECK(std::strtod(le.c_str(), nullptr) == bound);
    CHECK(text.find("le=\"" + le + "\"") != std::string::npos);
  }
  // Every sample line is NAME[{LABELS}] VALUE, in the group of its family:
  // right after the family's TYPE line, and no family comes twice.
  std::set<std::string> families;
  std::string family;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    REQUIRE(end != std::string::npos);
    const std::string line = text.substr(start, end - start);
    if (line.rfind("# TYPE ", 0) == 0) {
      family = line.substr(7, line.find(' ', 7) - 7);
      CHECK(families.insert(family).second);
    } else if (line.rfind("# ", 0) != 0) {
      CHECK(line.rfind(family, 0) == 0);
      const auto space = line.rfind(' ');
      REQUIRE(space != std::string::npos);
      CHECK(line.rfind("tandem_", 0) == 0);
      const std::string value = line.substr(space + 1);
      char* stop = nullptr;
      std::strtod(value.c_str(), &stop);
      CHECK(*stop == '\0');
    }
    start = end + 1;
  }
}

TEST_CASE("a latency tally read while written is whole: count = sum of buckets" *
          doctest::timeout(60)) {
  tandem::detail::latency_tally tally;
  std::atomic<bool> writing{false}, stop{false};
  std::thread writer([&] {
    writing.store(true);
    for (std::int64_t ns = 0; !stop.load(std::memory_order_relaxed); ns = (ns + 997) % 100'000'000)
      tally.record(ns);
  });
  while (!writing.load()) std::this_thread::yield();  // reads before the first write prove nothing
  int broken = 0;
  for (int i = 0; i < 200000; ++i) {
    tandem::latency_histogram h;
    tally.add_to(h);
    broken += !histogram_whole(h);
  }
  stop.store(true);
  writer.join();
  CHECK(broken == 0);
}

TEST_CASE("every snapshot's histograms are whole while tasks run: count = sum of buckets" *
          doctest::timeout(120)) {
  tandem::runtime rt{tandem::test::lanes(2, 1)};
  std::atomic<bool> stop{false};
  std::thread submitter([&] {
    do {
      std::vector<tandem::future<int>> batch;
      for (int i = 0; i < 32; ++i) {
        batch.push_back(rt.submit(tandem::io_blocking, [i] { return i; }));  // every one timed
        batch.push_back(rt.submit(tandem::io, [i] { return i; }));
      }
      for (auto& task : batch) task.get();
    } while (!stop.load());
  });
  int broken = 0, broken_text = 0;
  for (int i = 0; i < 100000; ++i) {
    const tandem::metrics_snapshot m = rt.metrics();
    broken += !histograms_whole(m);
    if (i % 100 != 0) continue;
    const auto totals = histogram_totals(tandem::to_prometheus(m));
    CHECK(totals.size() == 6);  // two histograms on each of three lanes
    for (const auto& [series, inf_and_count] : totals)
      broken_text += inf_and_count.first != inf_and_count.second;
  }
  stop.store(true);
  submitter.join();
  CHECK(broken == 0);
  CHECK(broken_text == 0);
  rt.shutdown();  // every count is final: the test did time tasks
  CHECK(rt.metrics().blocking.run_time.count >= 32);
}

TEST_CASE("to_prometheus writes whole numbers with every digit, fractions shortest" *
          doctest::timeout(10)) {
  tandem::metrics_snapshot m{};
  m.io.submitted = 1'000'000;
  m.cpu.completed = (1ull << 53);
  m.cpu.run_time.sum_seconds = 0.1;
  const std::string text = tandem::to_prometheus(m);
  CHECK(text.find("tandem_tasks_submitted_total{lane=\"io\"} 1000000\n") != std::string::npos);
  CHECK(text.find("tandem_tasks_completed_total{lane=\"cpu\"} 9007199254740992\n") !=
        std::string::npos);
  CHECK(text.find("tandem_task_run_seconds_sum{lane=\"cpu\"} 0.1\n") != std::string::npos);
  CHECK(text.find("tandem_task_run_seconds_count{lane=\"cpu\"} 0\n") != std::string::npos);
}

TEST_CASE("to_prometheus takes a prefix that starts a metric name, refuses any other" *
          doctest::timeout(10)) {
  const tandem::metrics_snapshot empty{};
  for (const std::string good : {"tandem", "my_app", ":ns", "_x9", "A:b_C"})
    CHECK(tandem::to_prometheus(empty, good).find("# TYPE " + good + "_tasks_submitted_total ") !=
          std::string::npos);
  for (const std::string bad : {"", "9lives", "my-app", "a b", "app.x", "caf\xc3\xa9"})
    CHECK_THROWS_WITH_AS(tandem::to_prometheus(empty, bad),
                         ("to_prometheus: prefix '" + bad +
                          "' is not a valid metric name start ([a-zA-Z_:][a-zA-Z0-9_:]*)")
                             .c_str(),
                         tandem::error);
}

TEST_CASE("a trace holds every task completed while it ran, once, on its row" *
          doctest::timeout(120)) {
  tandem::runtime rt{tandem::test::lanes(2, 2)};
  rt.submit(twice, 0).get();  // workers up
  rt.start_trace();
  std::vector<tandem::future<int>> io, cpu;
  for (int i = 0; i < 50; ++i) io.push_back(rt.submit(tandem::io, [i] { return i; }));
  for (int i = 0; i < 6; ++i) cpu.push_back(rt.submit(twice, i));
  auto blocking = rt.submit(tandem::io_blocking, [] { return 7; });
  auto thrown = rt.submit(refuse);
  for (auto& f : io) f.get();
  for (auto& f : cpu) f.get();
  blocking.get();
  CHECK(fails(thrown));
  const std::string path = temp_path("tandem-trace");
  rt.stop_trace(path);

  const boost::property_tree::ptree json = read_trace(path);
  std::map<std::string, int> slices;
  std::map<std::string, int> outcomes;
  int rows = 0;
  for (const auto& [_, event] : json.get_child("traceEvents")) {
    const auto phase = event.get<std::string>("ph");
    if (phase == "M") ++rows;
    if (phase != "X") continue;
    ++slices[event.get<std::string>("cat") + ":" + event.get<std::string>("name")];
    ++outcomes[event.get<std::string>("args.outcome")];
    CHECK(std::stod(event.get<std::string>("dur")) >= 0);  // (get<double> trips GCC's
    // maybe-uninitialized warning inside Boost.Optional under ASan)
  }
  CHECK(slices["io:io task"] == 50);
  CHECK(slices["cpu:metrics.twice"] == 6);
  CHECK(slices["cpu:metrics.refuse"] == 1);
  CHECK(slices["io_blocking:io task"] == 1);
  CHECK(outcomes["failed"] == 1);
  CHECK(rows >= 3);  // io workers, a blocking thread, cpu workers
}

TEST_CASE(
    "a cpu job waiting in its worker's window is queued, and is timed and traced from its "
    "real start" *
    doctest::timeout(120)) {
  tandem::runtime rt{tandem::test::lanes(1, 1)};
  rt.submit(nap, 0).get();  // the worker is up
  rt.start_trace();
  // The lane offers all four to its one worker at once; it runs one at a
  // time, and the last is cancelled while it waits.
  std::vector<tandem::future<int>> naps;
  for (int i = 0; i < 4; ++i) naps.push_back(rt.submit(nap, 200));
  CHECK(tandem::test::eventually([&] {
    const auto m = rt.metrics().cpu;
    return m.running == 1 && m.queued == 3;
  }));
  CHECK(naps[3].cancel());
  for (int i = 0; i < 3; ++i) CHECK(naps[i].get() == 200);
  const std::string path = temp_path("tandem-trace-window");
  rt.stop_trace(path);

  const auto m = rt.metrics().cpu;
  CHECK(m.running == 0);
  CHECK(m.queued == 0);
  // The third waited for two naps; none ran for longer than about one
  // (percentile() is a bucket's upper bound: at most twice the figure).
  CHECK(m.queue_wait.percentile(100) >= 0.35);
  CHECK(m.run_time.percentile(100) < 0.6);

  const boost::property_tree::ptree json = read_trace(path);
  std::vector<std::pair<double, double>> slices;  // start, duration (us)
  for (const auto& [_, event] : json.get_child("traceEvents"))
    if (event.get<std::string>("ph") == "X" && event.get<std::string>("name") == "metrics.nap")
      slices.emplace_back(std::stod(event.get<std::string>("ts")),
                          std::stod(event.get<std::string>("dur")));
  REQUIRE(slices.size() == 3);  // the cancelled nap never ran
  std::sort(slices.begin(), slices.end());
  for (std::size_t i = 0; i < slices.size(); ++i) {
    CHECK(slices[i].second >= 190'000);
    CHECK(slices[i].second < 600'000);
    if (i > 0) CHECK(slices[i].first >= slices[i - 1].first + slices[i - 1].second);
  }
}

TEST_CASE("a trace leaves out the tasks queued before it began, on every lane" *
          doctest::timeout(120)) {
  auto options = tandem::test::lanes(1, 1);
  options.max_blocking_threads = 1;
  tandem::runtime rt{options};
  rt.submit(nap, 0).get();  // the worker is up
  std::atomic<bool> release{false};
  const auto hold = [&] {
    while (!release.load()) std::this_thread::sleep_for(1ms);
  };
  // Each lane's one thread or worker is busy: what is queued next waits.
  std::vector<tandem::future<void>> before;
  before.push_back(rt.submit(tandem::io, hold));
  before.push_back(rt.submit(tandem::io_blocking, hold));
  auto busy_worker = rt.submit(nap, 300);
  for (int i = 0; i < 200; ++i) before.push_back(rt.submit(tandem::io, [] {}));
  before.push_back(rt.submit(tandem::io_blocking, [] {}));
  auto queued_nap = rt.submit(nap, 1);
  rt.start_trace();
  std::vector<tandem::future<void>> after;
  for (int i = 0; i < 10; ++i) after.push_back(rt.submit(tandem::io, [] {}));
  after.push_back(rt.submit(tandem::io_blocking, [] {}));
  auto later_nap = rt.submit(nap, 1);
  release = true;
  for (auto& f : before) f.get();
  for (auto& f : after) f.get();
  CHECK(busy_worker.get() + queued_nap.get() + later_nap.get() == 302);
  const std::string path = temp_path("tandem-trace-before");
  rt.stop_trace(path);

  auto slices = slice_counts(read_trace(path));
  CHECK(slices["io:io task"] == 10);
  CHECK(slices["io_blocking:io task"] == 1);
  CHECK(slices["cpu:metrics.nap"] == 1);
}

TEST_CASE("tasks cancelled before they started have no slice and no times, on every lane" *
          doctest::timeout(120)) {
  auto options = tandem::test::lanes(1, 1);
  options.max_blocking_threads = 1;
  tandem::runtime rt{options};
  rt.submit(nap, 0).get();  // the worker is up
  rt.start_trace();
  const auto before = rt.metrics();
  std::atomic<bool> release{false};
  const auto hold = [&] {
    while (!release.load()) std::this_thread::sleep_for(1ms);
  };
  // Each lane's one thread or worker is busy: what is queued next waits,
  // and is cancelled there.
  auto io_hold = rt.submit(tandem::io, hold);
  auto blocking_hold = rt.submit(tandem::io_blocking, hold);
  auto busy_worker = rt.submit(nap, 300);
  std::vector<tandem::future<void>> never_ran;
  for (int i = 0; i < 5; ++i) never_ran.push_back(rt.submit(tandem::io, [] {}));
  never_ran.push_back(rt.submit(tandem::io_blocking, [] {}));
  auto never_ran_nap = rt.submit(nap, 1);
  for (auto& f : never_ran) CHECK(f.cancel());
  CHECK(never_ran_nap.cancel());
  release = true;
  io_hold.get();
  blocking_hold.get();
  CHECK(busy_worker.get() == 300);
  CHECK(tandem::test::eventually([&] {
    const auto m = rt.metrics();
    return m.io.cancelled == 5 && m.blocking.cancelled == 1;
  }));
  const std::string path = temp_path("tandem-trace-cancelled");
  rt.stop_trace(path);

  // Only the tasks that ran were timed: one per lane.
  const auto after = rt.metrics();
  CHECK(after.io.run_time.count - before.io.run_time.count == 1);
  CHECK(after.blocking.run_time.count - before.blocking.run_time.count == 1);
  CHECK(after.cpu.run_time.count - before.cpu.run_time.count == 1);
  auto slices = slice_counts(read_trace(path));
  CHECK(slices["io:io task"] == 1);
  CHECK(slices["io_blocking:io task"] == 1);
  CHECK(slices["cpu:metrics.nap"] == 1);
}

TEST_CASE("trace misuse is a clear error" * doctest::timeout(30)) {
  tandem::runtime rt{tandem::test::lanes(2, 2)};
  CHECK_THROWS_WITH_AS(rt.stop_trace(temp_path("none")), doctest::Contains("no trace is running"),
                       tandem::error);
  rt.start_trace();
  CHECK_THROWS_WITH_AS(rt.start_trace(), doctest::Contains("already running"), tandem::error);
  CHECK_THROWS_WITH_AS(rt.stop_trace("/nonexistent-dir/trace.json"),
                       doctest::Contains("/nonexistent-dir/trace.json"), tandem::error);
  // The trace went on: another path gets it, with what ran after the failure.
  rt.submit(tandem::io, [] {}).get();
  const std::string path = temp_path("tandem-trace-retry");
  rt.stop_trace(path);
  const boost::property_tree::ptree json = read_trace(path);
  int io_slices = 0;
  for (const auto& [_, event] : json.get_child("traceEvents"))
    io_slices += event.get<std::string>("ph") == "X" && event.get<std::string>("cat") == "io";
  CHECK(io_slices == 1);
  CHECK_THROWS_WITH_AS(rt.stop_trace(path), doctest::Contains("no trace is running"),
                       tandem::error);
}

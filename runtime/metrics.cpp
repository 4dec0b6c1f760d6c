#include "tandem/metrics.hpp"

#include <charconv>
#include <cmath>
#include <limits>

#include "tandem/errors.hpp"

namespace tandem {
namespace {

bool metric_name_char(char c, bool first) noexcept {
  const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
  return letter || (!first && c >= '0' && c <= '9');
}

// check_prefix() throws unless `prefix` matches [a-zA-Z_:][a-zA-Z0-9_:]*,
// the start every metric name must have: a scraper would reject the whole
// page for one bad name, far from the code that chose it.
void check_prefix(const std::string& prefix) {
  bool valid = !prefix.empty();
  for (std::size_t i = 0; valid && i < prefix.size(); ++i)
    valid = metric_name_char(prefix[i], i == 0);
  if (!valid)
    throw error("to_prometheus: prefix '" + prefix +
                "' is not a valid metric name start ([a-zA-Z_:][a-zA-Z0-9_:]*)");
}

// prometheus_writer appends metric families in the text format.
class prometheus_writer {
 public:
  explicit prometheus_writer(const std::string& prefix) : prefix_(prefix) { check_prefix(prefix); }

  void family(const std::string& name, const char* type, const char* help) {
    out_ += "# HELP " + prefix_ + "_" + name + " " + help + "\n";
    out_ += "# TYPE " + prefix_ + "_" + name + " " + type + "\n";
  }
  void sample(const std::string& name, const std::string& labels, double value) {
    out_ += prefix_ + "_" + name;
    if (!labels.empty()) out_ += "{" + labels + "}";
    out_ += " " + number(value) + "\n";
  }
  void histogram(const std::string& name, const std::string& labels, const latency_histogram& h) {
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < h.buckets.size(); ++i) {
      cumulative += h.buckets[i];
      const double bound = latency_histogram::upper_bound_seconds(i);
      sample(name + "_bucket", labels + ",le=\"" + number(bound) + "\"",
             static_cast<double>(cumulative));
    }
    sample(name + "_sum", labels, h.sum_seconds);
    sample(name + "_count", labels, static_cast<double>(h.count));
  }
  std::string take() { return std::move(out_); }

 private:
  // number() is the shortest text that reads back as `value` ("1e-06",
  // not "9.9999999999999995e-07"), with the format's own infinities and NaN.
  // A whole number keeps all its digits (a count of 1000000 is not written
  // "1e+06", which to_chars would find shorter).
  static std::string number(double value) {
    if (std::isnan(value)) return "NaN";
    if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
    char text[400];  // room for any double, even in fixed form: to_chars cannot fail
    const auto written =
        value == std::trunc(value)
            ? std::to_chars(text, text + sizeof text, value, std::chars_format::fixed)
            : std::to_chars(text, text + sizeof text, value);
    return std::string(text, written.ptr);
  }

  std::string prefix_;
  std::string out_;
};

std::string lane_label(const char* lane) { return std::string("lane=\"") + lane + "\""; }

// lane_family is a figure every lane has, written as one family with a
// sample per lane.
struct lane_family {
  const char* name;
  const char* type;
  const char* help;
  std::uint64_t lane_metrics::*figure;
};
constexpr lane_family lane_families[] = {
    {"tasks_submitted_total", "counter", "Tasks queued on the lane.", &lane_metrics::submitted},
    {"tasks_completed_total", "counter", "Tasks that ran and produced a value.",
     &lane_metrics::completed},
    {"tasks_failed_total", "counter", "Tasks that threw, crashed their worker or failed.",
     &lane_metrics::failed},
    {"tasks_cancelled_total", "counter", "Tasks cancelled or dropped at shutdown.",
     &lane_metrics::cancelled},
    {"tasks_timed_out_total", "counter", "cpu tasks stopped at their timeout.",
     &lane_metrics::timed_out},
    {"tasks_queued", "gauge", "Tasks waiting now.", &lane_metrics::queued},
    {"tasks_running", "gauge", "Tasks running now.", &lane_metrics::running},
};

}  // namespace

double latency_histogram::upper_bound_seconds(std::size_t i) noexcept {
  if (i + 1 >= bucket_count) return std::numeric_limits<double>::infinity();
  return std::ldexp(1e-6, static_cast<int>(i));
}

double latency_histogram::percentile(double p) const noexcept {
  if (count == 0) return 0;
  const double rank = std::ceil(static_cast<double>(count) * p / 100.0);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    seen += buckets[i];
    if (static_cast<double>(seen) >= rank) return upper_bound_seconds(i);
  }
  return upper_bound_seconds(bucket_count - 1);
}

std::string to_prometheus(const metrics_snapshot& snapshot, const std::string& prefix) {
  prometheus_writer out(prefix);
  const std::pair<const char*, const lane_metrics*> lanes[] = {
      {"io", &snapshot.io}, {"io_blocking", &snapshot.blocking}, {"cpu", &snapshot.cpu}};
  // The text format wants each family's samples right after its own HELP
  // and TYPE lines, in one group.
  for (const lane_family& family : lane_families) {
    out.family(family.name, family.type, family.help);
    for (const auto& [name, m] : lanes)
      out.sample(family.name, lane_label(name), static_cast<double>(m->*family.figure));
  }
  out.family("task_queue_wait_seconds", "histogram",
             "Time from queued to started (io lanes: sampled).");
  for (const auto& [name, m] : lanes)
    out.histogram("task_queue_wait_seconds", lane_label(name), m->queue_wait);
  out.family("task_run_seconds", "histogram", "Time a task ran (io lanes: sampled).");
  for (const auto& [name, m] : lanes)
    out.histogram("task_run_seconds", lane_label(name), m->run_time);
  out.family("threads", "gauge", "Threads of the io lane and of the blocking pool.");
  out.sample("threads", lane_label("io"), snapshot.io.threads);
  out.sample("threads", lane_label("io_blocking"), snapshot.blocking.threads);
  out.family("io_steals_total", "counter", "Tasks an io worker stole from another's deque.");
  out.sample("io_steals_total", "", static_cast<double>(snapshot.io.steals));
  out.family("io_parks_total", "counter", "Times an io worker slept for lack of work.");
  out.sample("io_parks_total", "", static_cast<double>(snapshot.io.parks));
  out.family("cpu_workers", "gauge", "cpu worker processes configured.");
  out.sample("cpu_workers", "", snapshot.cpu.workers);
  out.family("cpu_workers_alive", "gauge", "cpu worker processes that exist now.");
  out.sample("cpu_workers_alive", "", snapshot.cpu.workers_alive);
  out.family("cpu_worker_restarts_total", "counter", "cpu workers replaced, by cause.");
  out.sample("cpu_worker_restarts_total", "cause=\"crash\"",
             static_cast<double>(snapshot.cpu.restarts_crash));
  out.sample("cpu_worker_restarts_total", "cause=\"timeout\"",
             static_cast<double>(snapshot.cpu.restarts_timeout));
  out.sample("cpu_worker_restarts_total", "cause=\"cancel\"",
             static_cast<double>(snapshot.cpu.restarts_cancel));
  out.sample("cpu_worker_restarts_total", "cause=\"recycle\"",
             static_cast<double>(snapshot.cpu.restarts_recycle));
  return out.take();
}

}  // namespace tandem

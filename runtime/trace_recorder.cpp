#include "runtime/trace_recorder.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "runtime/lane_tally.hpp"
#include "tandem/errors.hpp"

namespace tandem::detail {
namespace {

const char* ending_name(trace_recorder::ending how) {
  switch (how) {
    case trace_recorder::ending::completed:
      return "completed";
    case trace_recorder::ending::failed:
      return "failed";
    case trace_recorder::ending::cancelled:
      return "cancelled";
    case trace_recorder::ending::timed_out:
      return "timed_out";
    case trace_recorder::ending::crashed:
      return "crashed";
  }
  return "unknown";
}

// json_string() quotes `text` as a JSON string.
std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (const unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
      out += escaped;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string micros(std::int64_t ns) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3f", static_cast<double>(ns) / 1000.0);
  return text;
}

}  // namespace

trace_recorder::ending trace_recorder::ending_of(task_outcome outcome) noexcept {
  switch (outcome) {
    case task_outcome::completed:
      return ending::completed;
    case task_outcome::failed:
      return ending::failed;
    case task_outcome::cancelled:
      return ending::cancelled;
  }
  return ending::failed;
}

void trace_recorder::start() {
  std::lock_guard lock(mutex_);
  if (active_.load(std::memory_order_relaxed))
    throw error("tandem::runtime::start_trace(): a trace is already running; stop_trace() first");
  rows_.clear();
  slices_.clear();
  started_ns_ = steady_now_ns();
  active_.store(true, std::memory_order_release);
}

void trace_recorder::record(std::uint64_t row, const std::string& row_label, const char* name,
                            const char* affinity, ending how, const task_times& times) {
  std::lock_guard lock(mutex_);
  if (!active_.load(std::memory_order_relaxed) || times.queued_ns < started_ns_) return;
  rows_.try_emplace(row, row_label);
  slices_.push_back({row, name, affinity, how, times.start_ns, times.end_ns});
}

void trace_recorder::stop(const std::string& path) {
  std::string json;
  std::int64_t began = 0;
  {
    std::lock_guard lock(mutex_);
    if (!active_.exchange(false, std::memory_order_acq_rel))
      throw error("tandem::runtime::stop_trace(): no trace is running; start_trace() first");
    json = render();
    began = started_ns_;
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << json;
  out.close();
  const int failure = out ? 0 : (errno != 0 ? errno : EIO);
  std::lock_guard lock(mutex_);
  // start_trace() may have begun another trace meanwhile: leave it alone.
  const bool superseded = active_.load(std::memory_order_relaxed) || started_ns_ != began;
  if (failure == 0) {
    if (!superseded) slices_.clear();
    return;
  }
  // Not written: the trace goes on, so a call with a path that works still
  // gets it.
  if (!superseded) active_.store(true, std::memory_order_release);
  throw error("tandem::runtime::stop_trace(): cannot write the trace to '" + path +
              "': " + std::strerror(failure) +
              (superseded ? "" : "; the trace goes on: call stop_trace() with another path"));
}

std::string trace_recorder::render() const {
  const std::string pid = std::to_string(getpid());
  std::string json = "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n";
  bool first = true;
  const auto add = [&](const std::string& event) {
    json += first ? "" : ",\n";
    json += event;
    first = false;
  };
  for (const auto& [row, label] : rows_)
    add("{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":" + pid +
        ",\"tid\":" + std::to_string(row) + ",\"args\":{\"name\":" + json_string(label) + "}}");
  for (const slice& s : slices_)
    add("{\"ph\":\"X\",\"name\":" + json_string(s.name) + ",\"cat\":" + json_string(s.affinity) +
        ",\"pid\":" + pid + ",\"tid\":" + std::to_string(s.row) + ",\"ts\":" +
        micros(s.start_ns - started_ns_) + ",\"dur\":" + micros(s.end_ns - s.start_ns) +
        ",\"args\":{\"affinity\":" + json_string(s.affinity) +
        ",\"outcome\":" + json_string(ending_name(s.how)) + "}}");
  return json + "\n]}\n";
}

}  // namespace tandem::detail

#include "progress_bar.hpp"

#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <utility>

namespace logstats {

progress_bar::progress_bar(std::string unit)
    : unit_(std::move(unit)), terminal_(::isatty(STDERR_FILENO) == 1) {}

std::function<void(const tandem::pipeline_progress&)> progress_bar::callback() {
  if (!terminal_) return {};
  return [this](const tandem::pipeline_progress& progress) { draw(progress); };
}

void progress_bar::draw(const tandem::pipeline_progress& progress) const {
  if (progress.finished) {
    std::fputs("\r\033[K", stderr);  // the bar gives way to the results
    return;
  }
  constexpr int width = 30;
  const std::uint64_t done = progress.stages.back().done;
  const double fraction =
      progress.total && *progress.total > 0 ? double(done) / double(*progress.total) : 0.0;
  const int filled = std::clamp(static_cast<int>(fraction * width), 0, width);
  std::fprintf(stderr, "\r[%.*s%*s] %3.0f%%  %" PRIu64 "/%" PRIu64 " %s ", filled,
               "##############################", width - filled, "", fraction * 100, done,
               progress.total.value_or(0), unit_.c_str());
  for (const auto& stage : progress.stages)
    std::fprintf(stderr, " %.*s %.0f/s", static_cast<int>(stage.name.size()), stage.name.data(),
                 stage.per_second);
  std::fflush(stderr);
}

}  // namespace logstats

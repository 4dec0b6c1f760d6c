// progress_bar.hpp — a pipeline's progress drawn on stderr, only when
// stderr is a terminal (a log file or a pipe gets nothing).
#pragma once

#include <functional>
#include <string>

#include <tandem/pipeline.hpp>

namespace logstats {

class progress_bar {
 public:
  // progress_bar() counts items as `unit` ("chunks").
  explicit progress_bar(std::string unit);

  // callback() is the run_options::on_progress to give the pipeline:
  // empty when stderr is not a terminal, so nothing is reported at all.
  std::function<void(const tandem::pipeline_progress&)> callback();

 private:
  void draw(const tandem::pipeline_progress& progress) const;

  std::string unit_;
  bool terminal_;
};

}  // namespace logstats

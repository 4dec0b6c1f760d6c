// options.hpp — the server's command line.
#pragma once

#include <string>

#include "common/command_line.hpp"

namespace server {

// options are what the command line asked for. Durations are in ms.
struct options {
  unsigned port = 8080;               // 0: any free port (printed at start)
  unsigned io_threads = 0;            // 0: one per core
  unsigned cpu_workers = 0;           // 0: one per core
  unsigned timeout_ms = 1000;         // a cpu task's run-time limit (504 past it)
  unsigned grace_ms = 5000;           // how long shutdown waits for requests in flight
  unsigned read_timeout_ms = 10'000;  // a request must arrive within this (408)
  unsigned max_connections = 1024;    // more get 503
  unsigned realtime_priority = 0;     // runtime_options::realtime_priority (0: ordinary)
  bool inline_mode = false;           // one thread, cpu work inline: the benchmark's baseline
  std::string trace_path;             // where the trace of every task goes at stop ("": none)
  bool help = false;
};

using examples::usage_error;

// parse_options() reads argv[1..argc); throws usage_error naming the
// option at fault.
options parse_options(int argc, const char* const* argv);

// usage() is the --help text.
const char* usage();

}  // namespace server

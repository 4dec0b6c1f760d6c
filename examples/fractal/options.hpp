// options.hpp — the fractal program's command line.
#pragma once

#include <string>

#include "common/command_line.hpp"
#include "mandelbrot.hpp"

namespace fractal {

// options are what the command line asked for; defaults draw the whole set.
struct options {
  view picture;
  int tile = 64;
  std::string out = "fractal.png";
  unsigned workers = 0;  // 0: one worker process per core
  bool compare = false;  // also render in one thread and print the speed-up
  bool verify = false;   // read the PNG back and compare it with a one-thread render
  bool help = false;
};

using examples::usage_error;

// parse_options() reads argv[1..argc); throws usage_error naming the
// option at fault.
options parse_options(int argc, const char* const* argv);

// usage() is the --help text.
const char* usage();

}  // namespace fractal

// command_line.hpp — the frame the example programs share around their own
// options: a usage error exits 2 naming what is wrong, --help prints the
// usage and exits 0, an exception escaping the program exits 1.
//
//   int main(int argc, char** argv) {
//     return examples::command_line_main("fractal", argc, argv, fractal::parse_options,
//                                        fractal::usage(), run);
//   }
#pragma once

#include <cstdio>
#include <exception>
#include <stdexcept>

namespace examples {

// usage_error says what is wrong with the command line.
class usage_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// command_line_main() is an example's main: parse(argc, argv) returns its
// options (which have a bool `help`) or throws usage_error; run(options)
// returns the exit status.
template <class Parse, class Run>
int command_line_main(const char* program, int argc, char** argv, Parse parse, const char* usage,
                      Run run) {
  decltype(parse(argc, argv)) options;
  try {
    options = parse(argc, argv);
  } catch (const usage_error& e) {
    std::fprintf(stderr, "%s: %s (see %s --help)\n", program, e.what(), program);
    return 2;
  }
  if (options.help) {
    std::fputs(usage, stdout);
    return 0;
  }
  try {
    return run(options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", program, e.what());
    return 1;
  }
}

}  // namespace examples

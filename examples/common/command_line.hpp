// command_line.hpp — the frame the example programs share around their own
// options: a usage error exits 2 naming what is wrong, --help prints the
// usage and exits 0, an exception escaping the program exits 1.
//
//   int main(int argc, char** argv) {
//     return examples::command_line_main("fractal", argc, argv, fractal::parse_options,
//                                        fractal::usage(), run);
//   }
#pragma once

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>

namespace examples {

// usage_error says what is wrong with the command line.
class usage_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// whole_number() is `text` read as a decimal number from `low` to `high`:
// ASCII digits only (no sign, space or "0x"), so "-1" is not read as a huge
// number the way strtoull() reads it; a usage_error naming `what` otherwise.
inline std::uint64_t whole_number(std::string_view what, std::string_view text, std::uint64_t low,
                                  std::uint64_t high) {
  std::uint64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [stop, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc{} || stop != end || value < low || value > high)
    throw usage_error(std::string(what) + " takes a whole number from " + std::to_string(low) +
                      " to " + std::to_string(high) + ", not '" + std::string(text) + "'");
  return value;
}

// no_options are the options of a program that takes none but --help.
struct no_options {
  bool help = false;
};

// parse_no_options() accepts --help (or -h) and nothing else.
inline no_options parse_no_options(int argc, const char* const* argv) {
  no_options options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg != "--help" && arg != "-h")
      throw usage_error("takes no arguments but --help, not '" + std::string(arg) + "'");
    options.help = true;
  }
  return options;
}

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

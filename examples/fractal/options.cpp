// options.cpp — command-line parsing: every value checked, every error named.
#include "options.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <string_view>
#include <system_error>

namespace fractal {
namespace {

// Past 8192 pixels a side the image (and each worker's share of it) grows
// beyond what an example should ask of a machine.
constexpr int max_side = 8192;
// A tile's pixels come back through its worker's shared heap (128 MiB by
// default); 2048 x 2048 RGB is 12 MiB.
constexpr int max_tile = 2048;

template <class Number>
bool parse_number(std::string_view text, Number& value) {
  const char* end = text.data() + text.size();
  const auto [stop, ec] = std::from_chars(text.data(), end, value);
  return ec == std::errc{} && stop == end;
}

int whole_number(std::string_view flag, std::string_view text, int low, int high) {
  int value = 0;
  if (!parse_number(text, value) || value < low || value > high)
    throw usage_error(std::string(flag) + " takes a whole number from " + std::to_string(low) +
                      " to " + std::to_string(high) + ", not '" + std::string(text) + "'");
  return value;
}

double real_number(std::string_view flag, std::string_view text) {
  double value = 0;
  if (!parse_number(text, value) || !std::isfinite(value))
    throw usage_error(std::string(flag) + " takes a number, not '" + std::string(text) + "'");
  return value;
}

void set_center(view& v, std::string_view flag, std::string_view text) {
  const auto comma = text.find(',');
  if (comma == std::string_view::npos)
    throw usage_error(std::string(flag) + " takes X,Y (e.g. -0.5,0), not '" + std::string(text) +
                      "'");
  v.center_x = real_number(flag, text.substr(0, comma));
  v.center_y = real_number(flag, text.substr(comma + 1));
}

double zoom(std::string_view flag, std::string_view text) {
  const double value = real_number(flag, text);
  if (value <= 0)
    throw usage_error(std::string(flag) + " must be above 0, not '" + std::string(text) + "'");
  return value;
}

std::string file_name(std::string_view flag, std::string_view text) {
  if (text.empty()) throw usage_error(std::string(flag) + " needs a file name");
  return std::string(text);
}

// value_option is an option followed by a value, and how it sets it.
struct value_option {
  std::string_view flag;
  void (*set)(options&, std::string_view flag, std::string_view value);
};

constexpr std::array<value_option, 8> value_options{{
    {"--width",
     [](options& o, auto f, auto v) { o.picture.width = whole_number(f, v, 1, max_side); }},
    {"--height",
     [](options& o, auto f, auto v) { o.picture.height = whole_number(f, v, 1, max_side); }},
    {"--tile", [](options& o, auto f, auto v) { o.tile = whole_number(f, v, 1, max_tile); }},
    {"--iterations",
     [](options& o, auto f, auto v) { o.picture.iterations = whole_number(f, v, 1, 10'000'000); }},
    {"--center", [](options& o, auto f, auto v) { set_center(o.picture, f, v); }},
    {"--zoom", [](options& o, auto f, auto v) { o.picture.zoom = zoom(f, v); }},
    {"--out", [](options& o, auto f, auto v) { o.out = file_name(f, v); }},
    {"--workers",
     [](options& o, auto f, auto v) { o.workers = unsigned(whole_number(f, v, 0, 256)); }},
}};

bool set_switch(options& o, std::string_view flag) {
  if (flag == "--compare")
    o.compare = true;
  else if (flag == "--verify")
    o.verify = true;
  else if (flag == "--help" || flag == "-h")
    o.help = true;
  else
    return false;
  return true;
}

const value_option& find_value_option(std::string_view flag) {
  for (const value_option& option : value_options)
    if (option.flag == flag) return option;
  throw usage_error("unknown option '" + std::string(flag) + "'");
}

}  // namespace

options parse_options(int argc, const char* const* argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (set_switch(o, flag)) continue;
    const value_option& option = find_value_option(flag);
    if (i + 1 == argc) throw usage_error(std::string(flag) + " needs a value");
    option.set(o, flag, argv[++i]);
  }
  return o;
}

const char* usage() {
  return R"(usage: fractal [options]
Renders the Mandelbrot set in tiles, each tile a cpu task in a tandem worker
process, and writes it as a PNG.

  --width W          image width in pixels (default 1200)
  --height H         image height in pixels (default 900)
  --tile N           tiles of N x N pixels, one cpu task each (default 64)
  --iterations I     iterations before a point counts as inside (default 1000)
  --center X,Y       centre of the view in the complex plane (default -0.5,0)
  --zoom Z           magnification: the shorter side spans 3/Z (default 1)
  --out FILE         the PNG to write (default fractal.png); checked before the
                     render, written as FILE.partial and renamed once whole
                     (so it must be a regular file where it exists)
  --workers N        cpu worker processes (default 0: one per core)
  --compare          also render in this one thread; print both times and the speed-up
  --verify           read FILE back; fail unless it equals a one-thread render byte for byte
  --help             this text
)";
}

}  // namespace fractal

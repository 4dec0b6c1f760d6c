// mandelbrot.cpp — escape-time iteration with smooth colouring.
#include "mandelbrot.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <numbers>
#include <optional>

namespace fractal {
namespace {

// A large escape radius makes the fractional part of the smooth count
// accurate (the formula assumes |z| far beyond 2).
constexpr double bailout_squared = 1 << 16;

// in_big_bulbs() is true inside the main cardioid or the period-2 bulb,
// where every point belongs to the set: at low zoom they are most of the
// interior, whose points would otherwise run all their iterations.
bool in_big_bulbs(double x, double y) {
  const double q = (x - 0.25) * (x - 0.25) + y * y;
  const bool cardioid = q * (q + (x - 0.25)) <= 0.25 * y * y;
  const bool bulb = (x + 1) * (x + 1) + y * y <= 0.0625;
  return cardioid || bulb;
}

// escape_count() is the smooth (fractional) iteration count at which the
// orbit of c = cx + i cy escapes, or nothing when it stays bounded.
std::optional<double> escape_count(double cx, double cy, int iterations) {
  if (in_big_bulbs(cx, cy)) return std::nullopt;
  double x = 0;
  double y = 0;
  for (int n = 0; n < iterations; ++n) {
    const double x2 = x * x;
    const double y2 = y * y;
    if (x2 + y2 > bailout_squared) return n + 1 - std::log2(std::log2(x2 + y2) / 2);
    y = 2 * x * y + cy;
    x = x2 - y2 + cx;
  }
  return std::nullopt;
}

// colour() maps a smooth count onto a cosine palette; the square root keeps
// the bands of slowly escaping points (near the set) from crowding together.
std::array<std::uint8_t, 3> colour(std::optional<double> count) {
  if (!count) return {0, 0, 0};
  constexpr std::array<double, 3> phase{0.5, 0.42, 0.3};
  const double t = 0.12 * std::sqrt(std::max(*count, 0.0));
  std::array<std::uint8_t, 3> rgb{};
  for (std::size_t c = 0; c < rgb.size(); ++c) {
    const double level = 0.5 + 0.5 * std::cos(2 * std::numbers::pi * (t + phase[c]));
    rgb[c] = static_cast<std::uint8_t>(255 * level + 0.5);
  }
  return rgb;
}

}  // namespace

std::vector<tile> split(const view& v, int size) {
  std::vector<tile> tiles;
  for (int y = 0; y < v.height; y += size)
    for (int x = 0; x < v.width; x += size)
      tiles.push_back({v, x, y, std::min(size, v.width - x), std::min(size, v.height - y)});
  return tiles;
}

std::vector<std::uint8_t> render(const tile& t) {
  const view& v = t.whole;
  const double scale = 3.0 / (v.zoom * std::min(v.width, v.height));
  std::vector<std::uint8_t> pixels;
  pixels.reserve(std::size_t(t.width) * std::size_t(t.height) * 3);
  for (int py = t.y; py < t.y + t.height; ++py) {
    const double cy = v.center_y - (py + 0.5 - v.height / 2.0) * scale;  // image y grows down
    for (int px = t.x; px < t.x + t.width; ++px) {
      const double cx = v.center_x + (px + 0.5 - v.width / 2.0) * scale;
      const auto rgb = colour(escape_count(cx, cy, v.iterations));
      pixels.insert(pixels.end(), rgb.begin(), rgb.end());
    }
  }
  return pixels;
}

}  // namespace fractal

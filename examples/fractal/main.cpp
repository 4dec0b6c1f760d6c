// fractal — the Mandelbrot set rendered in tiles on tandem's cpu lane and
// written as a PNG.
//
// Every tile is one call of the defined cpu task "fractal.tile": its
// description (a trivially copyable struct) travels to a worker process and
// its RGB pixels come back as a std::vector<std::uint8_t>. The main thread
// submits every tile, gathers the futures in order, pastes the tiles into
// one image and writes the PNG (created before the render, as a partial
// file renamed once whole). --compare also renders in this one thread
// and prints the speed-up; --verify reads the PNG back and fails unless it
// equals that one-thread render byte for byte (meson test runs it so).
#include <tandem/tandem.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/command_line.hpp"
#include "mandelbrot.hpp"
#include "options.hpp"
#include "png_file.hpp"

const auto tile_task = tandem::define_task<std::vector<std::uint8_t>(fractal::tile)>(
    "fractal.tile", tandem::cpu, fractal::render);

namespace {

using stopwatch = std::chrono::steady_clock;

double seconds_since(stopwatch::time_point start) {
  return std::chrono::duration<double>(stopwatch::now() - start).count();
}

fractal::rgb_image blank_image(const fractal::view& v) {
  return {v.width, v.height, std::vector<std::uint8_t>(std::size_t(v.width) * v.height * 3)};
}

void paste(fractal::rgb_image& image, const fractal::tile& t,
           const std::vector<std::uint8_t>& pixels) {
  const std::size_t row = std::size_t(t.width) * 3;
  for (int y = 0; y < t.height; ++y) {
    const std::size_t at = (std::size_t(t.y + y) * image.width + t.x) * 3;
    std::copy_n(pixels.begin() + std::ptrdiff_t(y * row), row, image.pixels.begin() + at);
  }
}

// render_in_tiles() submits every tile to the cpu lane, then waits for them
// in order: a late tile holds up only the pasting, not the other workers.
fractal::rgb_image render_in_tiles(tandem::runtime& rt, const std::vector<fractal::tile>& tiles) {
  std::vector<tandem::future<std::vector<std::uint8_t>>> pending;
  pending.reserve(tiles.size());
  for (const fractal::tile& t : tiles) pending.push_back(rt.submit(tile_task, t));
  fractal::rgb_image image = blank_image(tiles.front().whole);
  for (std::size_t i = 0; i < tiles.size(); ++i) paste(image, tiles[i], pending[i].get());
  return image;
}

// render_here() renders the whole view as one tile in this thread: the
// baseline for --compare and the reference for --verify.
fractal::rgb_image render_here(const fractal::view& v) {
  return {v.width, v.height, fractal::render({v, 0, 0, v.width, v.height})};
}

// difference() says how `read` differs from `expected`, or nothing if it
// does not.
std::optional<std::string> difference(const fractal::rgb_image& read,
                                      const fractal::rgb_image& expected) {
  if (read.width != expected.width || read.height != expected.height)
    return "it is " + std::to_string(read.width) + "x" + std::to_string(read.height) +
           ", expected " + std::to_string(expected.width) + "x" + std::to_string(expected.height);
  const auto at =
      std::mismatch(read.pixels.begin(), read.pixels.end(), expected.pixels.begin()).first;
  if (at == read.pixels.end()) return std::nullopt;
  const auto pixel = std::size_t(at - read.pixels.begin()) / 3;
  return "pixel (" + std::to_string(pixel % std::size_t(read.width)) + ", " +
         std::to_string(pixel / std::size_t(read.width)) + ") differs";
}

void compare(double tiled_seconds, double here_seconds) {
  std::printf("one thread: %.3f s, speed-up %.2fx\n", here_seconds, here_seconds / tiled_seconds);
}

int verify(const fractal::options& o, const fractal::rgb_image& reference) {
  const auto problem = difference(fractal::read_png(o.out), reference);
  if (problem) {
    std::fprintf(stderr, "fractal: verify failed: %s: %s\n", o.out.c_str(), problem->c_str());
    return 1;
  }
  std::printf("verified: %s reads back as %dx%d and equals the one-thread render byte for byte\n",
              o.out.c_str(), reference.width, reference.height);
  return 0;
}

int run(const fractal::options& o) {
  fractal::png_output out(o.out);  // before the render: a bad --out fails at once
  tandem::runtime rt(tandem::runtime_options{.cpu_workers = o.workers});
  const fractal::view& v = o.picture;
  const auto tiles = fractal::split(v, o.tile);
  std::printf("fractal: %dx%d, %d iterations, %zu tiles of up to %dx%d on %u worker processes\n",
              v.width, v.height, v.iterations, tiles.size(), o.tile, o.tile,
              rt.options().cpu_workers);
  const auto start = stopwatch::now();
  const fractal::rgb_image image = render_in_tiles(rt, tiles);
  const double tiled_seconds = seconds_since(start);
  std::printf("rendered in %.3f s\n", tiled_seconds);
  out.write(image);
  std::printf("wrote %s (%ju bytes)\n", o.out.c_str(),
              std::uintmax_t(std::filesystem::file_size(o.out)));
  if (!o.compare && !o.verify) return 0;
  const auto here_start = stopwatch::now();
  const fractal::rgb_image reference = render_here(v);
  if (o.compare) compare(tiled_seconds, seconds_since(here_start));
  return o.verify ? verify(o, reference) : 0;
}

}  // namespace

int main(int argc, char** argv) {
  return examples::command_line_main("fractal", argc, argv, fractal::parse_options,
                                     fractal::usage(), run);
}

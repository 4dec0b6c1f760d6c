// mandelbrot.hpp — the Mandelbrot set drawn in tiles, as 8-bit RGB pixels.
//
//   const fractal::view v{.width = 320, .height = 240};
//   for (const fractal::tile& t : fractal::split(v, 64))
//     std::vector<std::uint8_t> rgb = fractal::render(t);  // t.width * t.height * 3 bytes
//
// A pixel's colour depends only on the view and the pixel's place in the
// whole image, never on the tile that holds it, so any tiling (one tile for
// the whole image included) gives the same bytes.
#pragma once

#include <cstdint>
#include <vector>

namespace fractal {

// view is the part of the complex plane to draw and how finely: the shorter
// side of the image spans 3 / zoom units around (center_x, center_y).
struct view {
  int width = 1200;
  int height = 900;
  int iterations = 1000;
  double center_x = -0.5;
  double center_y = 0.0;
  double zoom = 1.0;
};

// tile is one rectangle of a view's image, the unit of work of a cpu task.
// It is trivially copyable, so it travels to a worker process as its bytes.
struct tile {
  view whole;
  int x = 0;
  int y = 0;
  int width = 0;
  int height = 0;
};

// split() cuts the view's image into tiles of size x size pixels (smaller
// at the right and bottom edges), row by row.
std::vector<tile> split(const view& v, int size);

// render() is the tile's pixels: rows top to bottom, three bytes (R, G, B)
// per pixel. Points of the set are black; the others are coloured by their
// smooth escape count, so colour bands blend instead of stepping.
std::vector<std::uint8_t> render(const tile& t);

}  // namespace fractal

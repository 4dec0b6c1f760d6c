// png_file.hpp — 8-bit RGB images to and from PNG files (libpng, wrapped once).
//
//   fractal::write_png("out.png", image);                 // throws png_file_error
//   fractal::rgb_image back = fractal::read_png("out.png");
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace fractal {

// rgb_image is width x height pixels, rows top to bottom, three bytes
// (R, G, B) per pixel.
struct rgb_image {
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> pixels;
};

// png_file_error says that a PNG file could not be written or read; its message
// names the file and the problem (the system's or libpng's words).
class png_file_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// write_png() writes `image` to `path` (replacing it) as an 8-bit RGB PNG.
void write_png(const std::string& path, const rgb_image& image);

// read_png() reads an 8-bit RGB, non-interlaced PNG, such as write_png()
// writes; any other kind of file is a png_file_error.
rgb_image read_png(const std::string& path);

}  // namespace fractal

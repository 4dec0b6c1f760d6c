// png_file.hpp — 8-bit RGB images to and from PNG files (libpng, wrapped once).
//
//   fractal::png_output out("out.png");  // fails here if out.png cannot be written
//   out.write(image);                     // throws png_file_error
//   fractal::rgb_image back = fractal::read_png("out.png");
#pragma once

#include <cstdint>
#include <cstdio>
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

// png_output writes one 8-bit RGB PNG to `path`, replacing it, never
// leaving it cut short. The constructor creates `path`.partial beside it,
// so that a path that cannot be written fails before the image is made;
// write() writes there and renames it to `path`. A png_output destroyed
// without a successful write() removes its partial file. A `path` that
// exists and is not a regular file (a directory, /dev/null) is refused:
// the partial file would be renamed over it.
class png_output {
 public:
  explicit png_output(std::string path);
  png_output(const png_output&) = delete;
  png_output& operator=(const png_output&) = delete;
  ~png_output();

  void write(const rgb_image& image);

 private:
  std::string path_, partial_;
  std::FILE* file_ = nullptr;  // null once written (or failed)
};

// read_png() reads an 8-bit RGB, non-interlaced PNG, such as write_png()
// writes; any other kind of file is a png_file_error.
rgb_image read_png(const std::string& path);

}  // namespace fractal

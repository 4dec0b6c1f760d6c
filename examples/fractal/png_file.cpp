// png_file.cpp — libpng's errors made into png_file_error.
//
// libpng reports a failure by calling an error function that must not
// return. Ours keeps the message and longjmps back to the setjmp in
// encode() or decode(); only libpng's C frames and write_rows() or
// read_rows() (which hold nothing with a destructor) lie in between, so no
// C++ destructor is skipped. The exception is thrown afterwards, from
// ordinary code, rather than through libpng's C frames.
#include "png_file.hpp"

#include <png.h>

#include <cerrno>
#include <csetjmp>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <system_error>
#include <utility>

namespace fractal {
namespace {

// failure is where the error function leaves libpng's message.
struct failure {
  char message[256] = "libpng could not allocate its state";
};

[[noreturn]] void on_error(png_structp png, png_const_charp message) {
  auto* why = static_cast<failure*>(png_get_error_ptr(png));
  std::snprintf(why->message, sizeof why->message, "%s", message);
  png_longjmp(png, 1);
}

// Warnings (an odd ancillary chunk, say) do not spoil the image: keep quiet.
void on_warning(png_structp, png_const_charp) {}

struct file_closer {
  void operator()(std::FILE* file) const { std::fclose(file); }
};
using file_ptr = std::unique_ptr<std::FILE, file_closer>;

file_ptr open_file(const std::string& path, const char* mode) {
  file_ptr file(std::fopen(path.c_str(), mode));
  if (!file) throw png_file_error("cannot open '" + path + "': " + std::strerror(errno));
  return file;
}

std::size_t row_bytes(const rgb_image& image) { return std::size_t(image.width) * 3; }

// write_handles and read_handles free libpng's state however encode() or
// decode() ends.
struct write_handles {
  png_structp png = nullptr;
  png_infop info = nullptr;
  ~write_handles() { png_destroy_write_struct(&png, &info); }
};
struct read_handles {
  png_structp png = nullptr;
  png_infop info = nullptr;
  ~read_handles() { png_destroy_read_struct(&png, &info, nullptr); }
};

// write_data() is libpng's default write, but a failure names its reason
// (libpng's own says only "Write Error").
void write_data(png_structp png, png_bytep data, std::size_t length) {
  if (std::fwrite(data, 1, length, static_cast<std::FILE*>(png_get_io_ptr(png))) != length)
    png_error(png, std::strerror(errno));
}

void flush_data(png_structp png) { std::fflush(static_cast<std::FILE*>(png_get_io_ptr(png))); }

void write_rows(png_structp png, png_infop info, std::FILE* file, const rgb_image& image) {
  png_set_write_fn(png, file, write_data, flush_data);
  png_set_IHDR(png, info, png_uint_32(image.width), png_uint_32(image.height), 8,
               PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (int y = 0; y < image.height; ++y)
    png_write_row(png, image.pixels.data() + std::size_t(y) * row_bytes(image));
  png_write_end(png, nullptr);
}

// encode() is false, with `why` filled in, when libpng failed.
bool encode(std::FILE* file, const rgb_image& image, failure& why) {
  write_handles h;
  h.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &why, on_error, on_warning);
  if (h.png == nullptr) return false;
  h.info = png_create_info_struct(h.png);
  if (h.info == nullptr) return false;
  if (setjmp(png_jmpbuf(h.png))) return false;
  write_rows(h.png, h.info, file, image);
  return true;
}

// read_rows() fills `image` (which lives in read_png()'s frame, one that a
// longjmp does not skip) from an 8-bit RGB, non-interlaced PNG.
void read_rows(png_structp png, png_infop info, std::FILE* file, rgb_image& image) {
  png_init_io(png, file);
  png_read_info(png, info);
  if (png_get_color_type(png, info) != PNG_COLOR_TYPE_RGB || png_get_bit_depth(png, info) != 8)
    png_error(png, "not an 8-bit RGB image");
  if (png_get_interlace_type(png, info) != PNG_INTERLACE_NONE)
    png_error(png, "interlaced images are not read here");
  image.width = int(png_get_image_width(png, info));
  image.height = int(png_get_image_height(png, info));
  image.pixels.resize(row_bytes(image) * std::size_t(image.height));
  for (int y = 0; y < image.height; ++y)
    png_read_row(png, image.pixels.data() + std::size_t(y) * row_bytes(image), nullptr);
  png_read_end(png, nullptr);
}

bool decode(std::FILE* file, rgb_image& image, failure& why) {
  read_handles h;
  h.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &why, on_error, on_warning);
  if (h.png == nullptr) return false;
  h.info = png_create_info_struct(h.png);
  if (h.info == nullptr) return false;
  if (setjmp(png_jmpbuf(h.png))) return false;
  read_rows(h.png, h.info, file, image);
  return true;
}

}  // namespace

png_output::png_output(std::string path) : path_(std::move(path)), partial_(path_ + ".partial") {
  std::error_code error;
  const auto status = std::filesystem::status(path_, error);
  if (std::filesystem::exists(status) && !std::filesystem::is_regular_file(status))
    throw png_file_error(
        "cannot write PNG '" + path_ +
        "': not a regular file (the PNG is written beside it and renamed over it)");
  file_ = open_file(partial_, "wb").release();
}

png_output::~png_output() {
  if (file_ == nullptr) return;
  std::fclose(file_);
  std::remove(partial_.c_str());
}

void png_output::write(const rgb_image& image) {
  failure why;
  const bool encoded = encode(file_, image, why);
  // Buffered output meets a full disk only when it is flushed.
  const bool closed = std::fclose(std::exchange(file_, nullptr)) == 0;
  if (encoded && closed && std::rename(partial_.c_str(), path_.c_str()) == 0) return;
  const std::string reason = encoded ? std::strerror(errno) : why.message;  // fclose's or rename's
  std::remove(partial_.c_str());
  throw png_file_error("cannot write PNG '" + path_ + "': " + reason);
}

rgb_image read_png(const std::string& path) {
  file_ptr file = open_file(path, "rb");
  failure why;
  rgb_image image;
  if (!decode(file.get(), image, why))
    throw png_file_error("cannot read PNG '" + path + "': " + why.message);
  return image;
}

}  // namespace fractal

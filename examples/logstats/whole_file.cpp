#include "whole_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <system_error>

namespace logstats {

namespace {

[[noreturn]] void cannot_write(const std::string& path, int error) {
  throw std::system_error(error, std::generic_category(), "cannot write " + path);
}

std::string partial_name(const std::string& path) { return path + std::string(partial_suffix); }

// refuse_unless_regular() throws when `path` exists and is not a regular
// file. The partial file is renamed over `path`, which would replace a
// FIFO, a device or a socket rather than write into it (as root, /dev/null
// itself), and opening a FIFO to check it would wait for a reader.
void refuse_unless_regular(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
    throw std::runtime_error(
        "cannot write " + path +
        ": not a regular file (the file is written beside it and renamed over it)");
}

}  // namespace

void check_whole_file(const std::string& path) {
  refuse_unless_regular(path);
  // O_NONBLOCK: a FIFO found under the partial name fails to open (no
  // reader) instead of waiting for one; a regular file ignores the flag.
  const std::string partial = partial_name(path);
  const int fd =
      ::open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NONBLOCK, 0666);
  if (fd < 0) cannot_write(path, errno);
  ::close(fd);
  ::unlink(partial.c_str());
}

void write_whole_file(const std::string& path, const std::function<bool(std::FILE*)>& write) {
  refuse_unless_regular(path);
  const std::string partial = partial_name(path);
  std::FILE* file = std::fopen(partial.c_str(), "wbe");
  if (file == nullptr) cannot_write(path, errno);
  const bool written = write(file);
  const int write_errno = errno;
  // Buffered output meets a full disk only when it is flushed.
  const bool closed = std::fclose(file) == 0;
  if (written && closed && std::rename(partial.c_str(), path.c_str()) == 0) return;
  const int error = written ? errno : write_errno;  // fclose's or rename's
  std::remove(partial.c_str());
  cannot_write(path, error);
}

}  // namespace logstats
